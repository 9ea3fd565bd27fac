"""SQL repositories for users, accounts, grants and API keys (identity stays user-keyed).

Integrity errors are translated into the same ``Conflict``/``NotFound`` the memory adapters
raise. The SQL tables also enforce references the memory adapters do not check (an
account's UBO and a grant's user and account must exist): those surface as ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Engine,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from axadapters.sql import schema
from axadapters.sql._support import (
    driver_execute,
    flags_from_row,
    flags_to_columns,
    from_hex64,
    hex64,
    upsert,
)
from axadapters.sql.tx import begin, connect
from axdomain.accounts import Account, AccountKind, AccountLimits, FeeSchedule
from axdomain.api_keys import ApiKey
from axdomain.errors import Conflict, NotFound
from axdomain.ids import AccountId, UserId
from axdomain.membership import Grant, User
from axdomain.ports import AccessFacts


class SqlUsers:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_user(self, user: User) -> None:
        row = {
            "user_id": hex64(user.user_id.value),
            "username": user.username,
            "created_at_ns": user.created_at_ns,
        }
        try:
            with begin(self._engine) as connection:
                connection.execute(schema.users.insert().values(row))
        except IntegrityError as error:
            if self.get_user(user.user_id) is not None:
                raise Conflict("user_id", str(user.user_id), "already exists") from error
            raise Conflict("username", user.username, "already exists") from error

    def get_user(self, user_id: UserId) -> User | None:
        query = select(schema.users).where(schema.users.c.user_id == hex64(user_id.value))
        with connect(self._engine) as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            return None
        return User(UserId(from_hex64(row["user_id"])), row["username"], row["created_at_ns"])


def _account_row(account: Account) -> dict[str, Any]:
    ubo = account.ubo_user_id
    return {
        "account_id": hex64(account.account_id.value),
        "name": account.name,
        "kind": account.kind.value,
        "ubo_user_id": None if ubo is None else hex64(ubo.value),
        "is_frozen": account.is_frozen,
        "is_close_only": account.is_close_only,
        "maker_fee_bps": account.fees.maker_fee_bps,
        "taker_fee_bps": account.fees.taker_fee_bps,
        "max_open_positions": account.limits.max_open_positions,
        "max_notional_micro_usd": account.limits.max_notional_micro_usd,
        "monthly_loss_limit_micro_usd": account.limits.monthly_loss_limit_micro_usd,
        "created_at_ns": account.created_at_ns,
    }


def account_from_row(row: Mapping[Any, Any]) -> Account:
    ubo = row["ubo_user_id"]
    return Account(
        account_id=AccountId(from_hex64(row["account_id"])),
        name=row["name"],
        kind=AccountKind(row["kind"]),
        ubo_user_id=None if ubo is None else UserId(from_hex64(ubo)),
        created_at_ns=row["created_at_ns"],
        is_frozen=bool(row["is_frozen"]),
        is_close_only=bool(row["is_close_only"]),
        fees=FeeSchedule(row["maker_fee_bps"], row["taker_fee_bps"]),
        limits=AccountLimits(
            row["max_open_positions"],
            row["max_notional_micro_usd"],
            row["monthly_loss_limit_micro_usd"],
        ),
    )


# Identity of an account: fixed at creation; ``update_account`` may change the rest.
_IMMUTABLE_ACCOUNT_COLUMNS = ("name", "kind", "ubo_user_id", "created_at_ns")


def get_account_in(connection: Connection, account_id: AccountId) -> Account | None:
    """One keyed read inside the caller's transaction (the authorize path uses this)."""
    accounts = schema.trading_accounts
    query = select(accounts).where(accounts.c.account_id == hex64(account_id.value))
    row = connection.execute(query).mappings().first()
    return None if row is None else account_from_row(row)


class SqlAccounts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_account(self, account: Account) -> None:
        try:
            with begin(self._engine) as connection:
                connection.execute(schema.trading_accounts.insert().values(_account_row(account)))
        except IntegrityError as error:
            if self.get_account(account.account_id) is not None:
                raise Conflict("account_id", str(account.account_id), "already exists") from error
            if self._name_taken(account.name):
                raise Conflict("name", account.name, "already exists") from error
            raise NotFound("ubo_user_id", str(account.ubo_user_id), "no such user") from error

    def _name_taken(self, name: str) -> bool:
        accounts = schema.trading_accounts
        with connect(self._engine) as connection:
            query = select(exists().where(accounts.c.name == name))
            return bool(connection.execute(query).scalar())

    def get_account(self, account_id: AccountId) -> Account | None:
        with connect(self._engine) as connection:
            return get_account_in(connection, account_id)

    def update_account(self, account: Account) -> None:
        accounts = schema.trading_accounts
        row = _account_row(account)
        key = accounts.c.account_id == row["account_id"]
        with begin(self._engine) as connection:
            current = (
                connection.execute(select(accounts).where(key).with_for_update()).mappings().first()
            )
            if current is None:
                raise NotFound("account_id", str(account.account_id), "no such account")
            if any(current[name] != row[name] for name in _IMMUTABLE_ACCOUNT_COLUMNS):
                raise Conflict("account", str(account.account_id), "identity fields are immutable")
            mutable = {k: v for k, v in row.items() if k not in _IMMUTABLE_ACCOUNT_COLUMNS}
            connection.execute(update(accounts).where(key).values(mutable))

    def list_accounts(self) -> Sequence[Account]:
        accounts = schema.trading_accounts
        with connect(self._engine) as connection:
            rows = connection.execute(select(accounts).order_by(accounts.c.account_id)).mappings()
            return [account_from_row(row) for row in rows]


def grant_from_row(row: Mapping[Any, Any]) -> Grant:
    return Grant(
        UserId(from_hex64(row["user_id"])),
        AccountId(from_hex64(row["account_id"])),
        flags_from_row(row),
    )


def get_grant_in(connection: Connection, user_id: UserId, account_id: AccountId) -> Grant | None:
    """One keyed read of ``(user_id, account_id)`` inside the caller's transaction."""
    table = schema.account_permissions
    query = select(table).where(
        table.c.user_id == hex64(user_id.value), table.c.account_id == hex64(account_id.value)
    )
    row = connection.execute(query).mappings().first()
    return None if row is None else grant_from_row(row)


class SqlGrants:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put_grant(self, grant: Grant) -> None:
        row = {
            "user_id": hex64(grant.user_id.value),
            "account_id": hex64(grant.account_id.value),
            **flags_to_columns(grant.permissions),
        }
        try:
            with begin(self._engine) as connection:
                upsert(connection, schema.account_permissions, row, ("user_id", "account_id"))
        except IntegrityError as error:
            raise NotFound(
                "grant", f"{grant.user_id}/{grant.account_id}", "no such user or account"
            ) from error

    def get_grant(self, user_id: UserId, account_id: AccountId) -> Grant | None:
        with connect(self._engine) as connection:
            return get_grant_in(connection, user_id, account_id)

    def revoke_grant(self, user_id: UserId, account_id: AccountId) -> bool:
        table = schema.account_permissions
        with begin(self._engine) as connection:
            result = connection.execute(
                delete(table).where(
                    table.c.user_id == hex64(user_id.value),
                    table.c.account_id == hex64(account_id.value),
                )
            )
            return result.rowcount == 1

    def grants_for_user(self, user_id: UserId) -> Sequence[Grant]:
        table = schema.account_permissions
        query = (
            select(table)
            .where(table.c.user_id == hex64(user_id.value))
            .order_by(table.c.account_id, table.c.user_id)
        )
        return self._many(query)

    def grants_for_account(self, account_id: AccountId) -> Sequence[Grant]:
        table = schema.account_permissions
        query = (
            select(table)
            .where(table.c.account_id == hex64(account_id.value))
            .order_by(table.c.account_id, table.c.user_id)
        )
        return self._many(query)

    def _many(self, query: Any) -> list[Grant]:
        with connect(self._engine) as connection:
            return [grant_from_row(row) for row in connection.execute(query).mappings()]


class SqlApiKeys:
    """``account_id`` is NOT NULL: a legacy key stores its user's default account and
    ``is_legacy``, and reads back as ``account_id=None`` exactly as it was written."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_key(self, key: ApiKey) -> None:
        account = key.account_id or key.user_id.as_default_account_id()
        row = {
            "key_id": hex64(key.key_id),
            "user_id": hex64(key.user_id.value),
            "account_id": hex64(account.value),
            "is_legacy": key.account_id is None,
            **flags_to_columns(key.scope),
            "secret_hash": key.secret_hash.hex(),
            "created_at_ns": key.created_at_ns,
            "revoked_at_ns": key.revoked_at_ns,
            "expires_at_ns": key.expires_at_ns,
            "allowed_cidrs": ",".join(key.allowed_cidrs) or None,
        }
        try:
            with begin(self._engine) as connection:
                connection.execute(schema.api_keys.insert().values(row))
        except IntegrityError as error:
            if self.get_key(key.key_id) is not None:
                raise Conflict("key_id", key.key_id, "already exists") from error
            raise NotFound("user_id", str(key.user_id), "no such user") from error

    def get_key(self, key_id: int) -> ApiKey | None:
        table = schema.api_keys
        with connect(self._engine) as connection:
            query = select(table).where(table.c.key_id == hex64(key_id))
            row = connection.execute(query).mappings().first()
        return None if row is None else _key_from_row(row)

    def revoke_key(self, key_id: int, at_ns: int) -> bool:
        table = schema.api_keys
        key = table.c.key_id == hex64(key_id)
        with begin(self._engine) as connection:
            connection.execute(
                update(table)
                .where(key, table.c.revoked_at_ns.is_(None))
                .values(revoked_at_ns=at_ns)
            )
            return bool(connection.execute(select(exists().where(key))).scalar())

    def keys_for_user(self, user_id: UserId) -> Sequence[ApiKey]:
        table = schema.api_keys
        query = (
            select(table).where(table.c.user_id == hex64(user_id.value)).order_by(table.c.key_id)
        )
        with connect(self._engine) as connection:
            return [_key_from_row(row) for row in connection.execute(query).mappings()]


def _key_from_row(row: Mapping[Any, Any]) -> ApiKey:
    return ApiKey(
        key_id=from_hex64(row["key_id"]),
        user_id=UserId(from_hex64(row["user_id"])),
        account_id=None if row["is_legacy"] else AccountId(from_hex64(row["account_id"])),
        scope=flags_from_row(row),
        secret_hash=bytes.fromhex(row["secret_hash"]),
        created_at_ns=row["created_at_ns"],
        revoked_at_ns=row["revoked_at_ns"],
        expires_at_ns=row["expires_at_ns"],
        allowed_cidrs=tuple(row["allowed_cidrs"].split(",")) if row["allowed_cidrs"] else (),
    )


# Column label prefixes of the one authorization statement (the three tables share names).
_FACT_TABLES: tuple[tuple[str, Table], ...] = (
    ("a_", schema.trading_accounts),
    ("g_", schema.account_permissions),
    ("k_", schema.api_keys),
)


def _facts_query(with_grant: bool, with_key: bool) -> Select[Any]:
    """``(SELECT 1) LEFT JOIN account LEFT JOIN grant LEFT JOIN key``: one row whatever is
    missing, every join keyed by its full key, so the plan is three index probes."""
    accounts, grants, keys = schema.trading_accounts, schema.account_permissions, schema.api_keys
    account_id: BindParameter[str] = bindparam("account_id")
    base = select(literal_column("1").label("one")).subquery("one")
    joined = base.outerjoin(accounts, accounts.c.account_id == account_id)
    columns = [c.label(f"a_{c.name}") for c in accounts.c]
    if with_grant:
        on = and_(grants.c.user_id == bindparam("user_id"), grants.c.account_id == account_id)
        joined = joined.outerjoin(grants, on)
        columns += [c.label(f"g_{c.name}") for c in grants.c]
    if with_key:
        joined = joined.outerjoin(keys, keys.c.key_id == bindparam("key_id"))
        columns += [c.label(f"k_{c.name}") for c in keys.c]
    return select(*columns).select_from(joined)


_FACTS_QUERIES = {(g, k): _facts_query(g, k) for g in (False, True) for k in (False, True)}
# The same statements as PostgreSQL text (``%(name)s`` parameters) and their column labels.
_FACTS_POSTGRES = {
    shape: (
        str(query.compile(dialect=postgresql.dialect())),  # type: ignore[no-untyped-call]
        tuple(column.name for column in query.selected_columns),
    )
    for shape, query in _FACTS_QUERIES.items()
}


def _part(row: Mapping[Any, Any], prefix: str, table: Table) -> dict[str, Any] | None:
    """One table's columns of the joined row; ``None`` when its outer join found nothing."""
    first = next(iter(table.primary_key.columns)).name
    if row[f"{prefix}{first}"] is None:
        return None
    return {c.name: row[f"{prefix}{c.name}"] for c in table.c}


class SqlAccessReader:
    """One statement per decision: the account, the grant and the key in one round trip
    (each repository read would cost a round trip of its own)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def access_facts(
        self, account_id: AccountId, user_id: UserId | None, key_id: int | None
    ) -> AccessFacts:
        shape = (user_id is not None, key_id is not None)
        params = {"account_id": hex64(account_id.value)}
        if user_id is not None:
            params["user_id"] = hex64(user_id.value)
        if key_id is not None:
            params["key_id"] = hex64(key_id)
        row: Mapping[Any, Any]
        with connect(self._engine) as connection:
            if connection.dialect.name == "postgresql":
                statement, labels = _FACTS_POSTGRES[shape]
                values = driver_execute(connection, statement, params).fetchone()
                assert values is not None  # the outer joins always yield one row
                row = dict(zip(labels, values, strict=True))
            else:
                row = connection.execute(_FACTS_QUERIES[shape], params).mappings().one()
        account, grant, key = (
            _part(row, prefix, table) if asked else None
            for (prefix, table), asked in zip(
                _FACT_TABLES, (True, user_id is not None, key_id is not None), strict=True
            )
        )
        return AccessFacts(
            None if account is None else account_from_row(account),
            None if grant is None else grant_from_row(grant),
            None if key is None else _key_from_row(key),
        )
