"""The vault contract suite against SQLite and real PostgreSQL, plus the schema's own guards."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from axadapters.sql import schema
from axadapters.sql._support import hex64, upsert
from axadapters.vault import CredentialKeyring, SealedSecret
from axadapters.vault.sql import SqlCredentialVault
from axdomain.venues import CredentialKey, CredentialRef, CredentialVault
from tests.contract.sql_support import PostgresLeg, SqlDatabases, SqliteLeg
from tests.contract.suite_vault import ALPHA, KEY_ONE, VaultContract


def _sql(vault: CredentialVault) -> SqlCredentialVault:
    assert isinstance(vault, SqlCredentialVault)
    return vault


class SqlVaultMaker:
    sql: SqlDatabases

    def make_vault(self, keyring: CredentialKeyring) -> CredentialVault:
        return SqlCredentialVault(self.sql.engine(self.sql.new_url()), keyring)

    def reopen(self, vault: CredentialVault, keyring: CredentialKeyring) -> CredentialVault:
        return _sql(vault).with_keyring(keyring)

    def raw_sealed(self, vault: CredentialVault, key: CredentialKey) -> SealedSecret:
        table = schema.venue_credentials
        query = select(table.c.key_id, table.c.sealed).where(
            table.c.account_id == hex64(key.account_id.value),
            table.c.venue == key.venue.name,
            table.c.subaccount_index == key.subaccount_index,
        )
        with _sql(vault).engine.connect() as connection:
            key_id, blob = connection.execute(query).one()
        return SealedSecret(key_id, bytes(blob))

    def raw_store(self, vault: CredentialVault, ref: CredentialRef, sealed: SealedSecret) -> None:
        values = {
            "account_id": hex64(ref.key.account_id.value),
            "venue": ref.key.venue.name,
            "subaccount_index": ref.key.subaccount_index,
            "exchange_account_id": ref.exchange_account_id,
            "is_active": ref.is_active,
            "key_id": sealed.key_id,
            "sealed": sealed.blob,
        }
        with _sql(vault).engine.begin() as connection:
            upsert(
                connection,
                schema.venue_credentials,
                values,
                ("account_id", "venue", "subaccount_index"),
            )

    def test_the_database_refuses_a_self_share_and_unknown_levels(self) -> None:
        vault = _sql(self.make_vault(CredentialKeyring([KEY_ONE])))
        insert = text(
            "INSERT INTO venue_credential_shares "
            "(primary_account_id, shared_account_id, venue, level) VALUES (:p, :s, 'fake', :l)"
        )
        alpha = hex64(ALPHA.value)
        for params in (
            {"p": alpha, "s": alpha, "l": "full"},
            {"p": alpha, "s": "0" * 16, "l": "all"},
        ):
            with pytest.raises(IntegrityError), vault.engine.begin() as connection:
                connection.execute(insert, params)


class TestSqliteVault(SqliteLeg, SqlVaultMaker, VaultContract):
    pass


class TestPostgresVault(PostgresLeg, SqlVaultMaker, VaultContract):
    pass
