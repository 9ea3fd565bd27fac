"""SQL vault: one row per ``(account, venue, subaccount)`` holding a sealed blob.

Rotation re-encrypts in batches, one transaction per batch, and each row is replaced with a
compare-and-set on its old key id and blob: a kill mid-batch rolls that batch back whole, a
concurrent ``put_credential`` wins over a stale rotation write, and every committed row is
readable under one of the configured keys at every moment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, RowMapping, bindparam, delete, func, select, update

from axadapters.sql import schema
from axadapters.sql._support import from_hex64, hex64, upsert
from axadapters.sql.storage_errors import storage_errors
from axadapters.vault.keyring import CredentialKeyring, SealedSecret
from axdomain._checks import require_range
from axdomain.ids import AccountId
from axdomain.venues.credentials import CredentialKey, CredentialRef, VenueCredential
from axdomain.venues.names import VenueId
from axdomain.venues.ports import MAX_ROTATION_BATCH
from axdomain.venues.sharing import CredentialShare, ShareLevel

_BY_KEY = select(schema.venue_credentials).where(
    schema.venue_credentials.c.account_id == bindparam("account_id"),
    schema.venue_credentials.c.venue == bindparam("venue"),
    schema.venue_credentials.c.subaccount_index == bindparam("subaccount_index"),
)
_SHARE_BY_KEY = select(schema.venue_credential_shares).where(
    schema.venue_credential_shares.c.primary_account_id == bindparam("primary_account_id"),
    schema.venue_credential_shares.c.venue == bindparam("venue"),
)


_ROTATE = (
    update(schema.venue_credentials)
    .where(
        schema.venue_credentials.c.account_id == bindparam("b_account_id"),
        schema.venue_credentials.c.venue == bindparam("b_venue"),
        schema.venue_credentials.c.subaccount_index == bindparam("b_subaccount_index"),
        schema.venue_credentials.c.key_id == bindparam("b_old_key_id"),
        schema.venue_credentials.c.sealed == bindparam("b_old_sealed"),
    )
    .values(key_id=bindparam("b_new_key_id"), sealed=bindparam("b_new_sealed"))
)


def _key_params(key: CredentialKey) -> dict[str, Any]:
    """Parameters of the prebuilt keyed statements (built once: the hot lane read path)."""
    return {
        "account_id": hex64(key.account_id.value),
        "venue": key.venue.name,
        "subaccount_index": key.subaccount_index,
    }


def _key_condition(key: CredentialKey) -> Any:
    table = schema.venue_credentials
    return (
        (table.c.account_id == hex64(key.account_id.value))
        & (table.c.venue == key.venue.name)
        & (table.c.subaccount_index == key.subaccount_index)
    )


def _ref(row: RowMapping) -> CredentialRef:
    key = CredentialKey(
        AccountId(from_hex64(row["account_id"])), VenueId(row["venue"]), row["subaccount_index"]
    )
    return CredentialRef(key, row["exchange_account_id"], bool(row["is_active"]))


def _sealed(row: RowMapping) -> SealedSecret:
    return SealedSecret(row["key_id"], bytes(row["sealed"]))


def _share(row: RowMapping) -> CredentialShare:
    return CredentialShare(
        primary_account=AccountId(from_hex64(row["primary_account_id"])),
        shared_account=AccountId(from_hex64(row["shared_account_id"])),
        venue=VenueId(row["venue"]),
        level=ShareLevel(row["level"]),
    )


class SqlCredentialVault:
    def __init__(self, engine: Engine, keyring: CredentialKeyring) -> None:
        self._engine = engine
        self._keyring = keyring

    @property
    def engine(self) -> Engine:
        return self._engine

    def with_keyring(self, keyring: CredentialKeyring) -> SqlCredentialVault:
        return SqlCredentialVault(self._engine, keyring)

    def put_credential(self, credential: VenueCredential) -> None:
        sealed = self._keyring.seal(credential.key, credential.payload())
        key = credential.key
        values = {
            "account_id": hex64(key.account_id.value),
            "venue": key.venue.name,
            "subaccount_index": key.subaccount_index,
            "exchange_account_id": credential.ref.exchange_account_id,
            "is_active": credential.ref.is_active,
            "key_id": sealed.key_id,
            "sealed": sealed.blob,
        }
        with storage_errors(self._engine), self._engine.begin() as connection:
            upsert(
                connection,
                schema.venue_credentials,
                values,
                ("account_id", "venue", "subaccount_index"),
            )

    def _row(self, key: CredentialKey) -> RowMapping | None:
        with storage_errors(self._engine), self._engine.connect() as connection:
            return connection.execute(_BY_KEY, _key_params(key)).mappings().first()

    def get_credential(self, key: CredentialKey) -> VenueCredential | None:
        row = self._row(key)
        if row is None:
            return None
        return VenueCredential.from_payload(_ref(row), self._keyring.open(key, _sealed(row)))

    def get_ref(self, key: CredentialKey) -> CredentialRef | None:
        row = self._row(key)
        return None if row is None else _ref(row)

    def refs_for_account(self, account_id: AccountId) -> Sequence[CredentialRef]:
        table = schema.venue_credentials
        query = (
            select(table)
            .where(table.c.account_id == hex64(account_id.value))
            .order_by(table.c.venue, table.c.subaccount_index)
        )
        with storage_errors(self._engine), self._engine.connect() as connection:
            return [_ref(row) for row in connection.execute(query).mappings()]

    def delete_credential(self, key: CredentialKey) -> bool:
        statement = delete(schema.venue_credentials).where(_key_condition(key))
        with storage_errors(self._engine), self._engine.begin() as connection:
            return connection.execute(statement).rowcount > 0

    def put_share(self, share: CredentialShare) -> None:
        values = {
            "primary_account_id": hex64(share.primary_account.value),
            "shared_account_id": hex64(share.shared_account.value),
            "venue": share.venue.name,
            "level": share.level.value,
        }
        with storage_errors(self._engine), self._engine.begin() as connection:
            upsert(
                connection, schema.venue_credential_shares, values, ("primary_account_id", "venue")
            )

    def _share_condition(self, primary_account: AccountId, venue: VenueId) -> Any:
        table = schema.venue_credential_shares
        return (table.c.primary_account_id == hex64(primary_account.value)) & (
            table.c.venue == venue.name
        )

    def get_share(self, primary_account: AccountId, venue: VenueId) -> CredentialShare | None:
        params = {"primary_account_id": hex64(primary_account.value), "venue": venue.name}
        with storage_errors(self._engine), self._engine.connect() as connection:
            row = connection.execute(_SHARE_BY_KEY, params).mappings().first()
        return None if row is None else _share(row)

    def revoke_share(self, primary_account: AccountId, venue: VenueId) -> bool:
        statement = delete(schema.venue_credential_shares).where(
            self._share_condition(primary_account, venue)
        )
        with storage_errors(self._engine), self._engine.begin() as connection:
            return connection.execute(statement).rowcount > 0

    def shares_of_holder(self, shared_account: AccountId) -> Sequence[CredentialShare]:
        table = schema.venue_credential_shares
        query = (
            select(table)
            .where(table.c.shared_account_id == hex64(shared_account.value))
            .order_by(table.c.primary_account_id, table.c.venue)
        )
        with storage_errors(self._engine), self._engine.connect() as connection:
            return [_share(row) for row in connection.execute(query).mappings()]

    def key_usage(self) -> Mapping[str, int]:
        table = schema.venue_credentials
        query = (
            select(table.c.key_id, func.count()).group_by(table.c.key_id).order_by(table.c.key_id)
        )
        with storage_errors(self._engine), self._engine.connect() as connection:
            return {key_id: int(count) for key_id, count in connection.execute(query)}

    def rotate_batch(self, limit: int) -> int:
        require_range("limit", limit, 1, MAX_ROTATION_BATCH)
        table = schema.venue_credentials
        current = self._keyring.current_key_id
        query = (
            select(table)
            .where(table.c.key_id != current)
            .order_by(table.c.account_id, table.c.venue, table.c.subaccount_index)
            .limit(limit)
        )
        with storage_errors(self._engine), self._engine.begin() as connection:
            rows = list(connection.execute(query).mappings())
            changes = []
            for row in rows:
                ref, old = _ref(row), _sealed(row)
                new = self._keyring.seal(ref.key, self._keyring.open(ref.key, old))
                params = {f"b_{name}": value for name, value in _key_params(ref.key).items()}
                params.update(
                    b_old_key_id=old.key_id,
                    b_old_sealed=old.blob,
                    b_new_key_id=new.key_id,
                    b_new_sealed=new.blob,
                )
                changes.append(params)
            if changes:
                connection.execute(_ROTATE, changes)  # one executemany per batch
        return len(rows)
