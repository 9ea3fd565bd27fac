"""The account-partitioned PostgreSQL layout (``*_partition_by_account`` migration,
docs/scale.md, PostgreSQL).

A populated database at the previous revision moves to the partitioned layout and back
without losing a row, and every single-account query the adapters issue is planned on
exactly one partition.
The contract suites run on the same layout: their template database is migrated to head.
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
from sqlalchemy import Boolean, Engine, Integer, String, Text, event, text
from sqlalchemy.types import CHAR

from axadapters.sql import SqlStores, schema
from axadapters.sql.migrate import current_revision, head_revision, upgrade
from axadapters.sql.rollout.adopt import structure_drift
from axadapters.sql.schema import primary_key_columns
from axdomain import Conflict, InvalidValue
from axdomain.account_records import CurrentBalance, DepositAddress, LtvMonitor, MonthlyLossLimit
from axdomain.audit import AuditRecord
from axdomain.authorization import DenyReason
from axdomain.orders import OrderStatus
from axdomain.permissions import Action
from tests.contract.sql_support import PostgresDatabases
from tests.contract.suite_orders import ACCOUNT_A, ACCOUNT_B, order

ROWS_PER_TABLE = 24
PARTITIONS = 4
MIGRATION = Path(schema.__file__).parent / "migrations" / "versions"


def _migration_module() -> ModuleType:
    path = next(MIGRATION.glob("*_partition_by_account.py"))
    spec = importlib.util.spec_from_file_location("partition_by_account", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("raw", ["0", "-3", "eight", "1025"])
def test_a_bad_partition_count_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    migration = _migration_module()
    monkeypatch.setenv("AX_PG_PARTITIONS", raw)
    with pytest.raises(InvalidValue, match="AX_PG_PARTITIONS"):
        migration.partition_count()
    monkeypatch.setenv("AX_PG_PARTITIONS", " 16 ")
    assert migration.partition_count() == 16
    monkeypatch.delenv("AX_PG_PARTITIONS")
    assert migration.partition_count() == 8


def _value(column: Any, i: int) -> Any:
    """A valid, distinct value for row ``i``; the first row of audit_log has no account."""
    if column.name == schema.PARTITION_KEY:
        return None if column.nullable and i == 0 else f"{0x0190_0000_0000_0000 + i:016x}"
    kind = column.type
    if isinstance(kind, schema.Int128):
        return 10**30 + i
    if isinstance(kind, CHAR):
        return f"{i:0{kind.length}x}"
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, Text):
        return json.dumps({"i": i})
    if isinstance(kind, String):
        return f"v{i}"
    assert isinstance(kind, Integer), column  # BigInteger is an Integer
    return i


def _populate(engine: Engine) -> None:
    with engine.begin() as connection:
        for name in schema.PARTITIONED_TABLES:
            table = schema.metadata.tables[name]
            columns = [c for c in table.columns if c.name != "seq"]
            rows = [{c.name: _value(c, i) for c in columns} for i in range(ROWS_PER_TABLE)]
            connection.execute(table.insert(), rows)


def _contents(engine: Engine) -> dict[str, tuple[int, str]]:
    """Per table: row count and a digest of every row's text (column order is kept)."""
    found = {}
    with engine.connect() as connection:
        for name in schema.PARTITIONED_TABLES:
            query = (
                "SELECT count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
                f"FROM {name} AS x"
            )
            count, digest = connection.execute(text(query)).one()
            found[name] = (count, digest)
    return found


def _layout(engine: Engine) -> dict[str, tuple[str, int]]:
    """Per table: relkind ('p' partitioned, 'r' plain) and how many partitions it has."""
    query = text(
        "SELECT c.relname, c.relkind, (SELECT count(*) FROM pg_inherits i "
        "WHERE i.inhparent = c.oid) FROM pg_class c "
        "WHERE c.relnamespace = CAST(current_schema() AS regnamespace) "
        "AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
    )
    with engine.connect() as connection:
        return {name: (kind, count) for name, kind, count in connection.execute(query)}


def _privileges(engine: Engine) -> dict[str, tuple[bool, bool]]:
    query = text(
        "SELECT has_table_privilege('ax_app', :t, 'INSERT'), "
        "has_table_privilege('ax_app', :t, 'UPDATE')"
    )
    with engine.connect() as connection:
        return {
            name: (row[0], row[1])
            for name in schema.PARTITIONED_TABLES
            for row in [connection.execute(query, {"t": name}).one()]
        }


@pytest.mark.postgres
def test_a_populated_plain_database_moves_to_partitions_and_back(
    postgres_databases: PostgresDatabases, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AX_PG_PARTITIONS", str(PARTITIONS))
    plain_revision = _migration_module().down_revision  # the last plain layout
    engine = postgres_databases.engine(postgres_databases.new_empty_url())
    upgrade(engine, plain_revision)
    _populate(engine)
    before, privileges = _contents(engine), _privileges(engine)
    assert all(count == ROWS_PER_TABLE for count, _ in before.values())
    plain = _layout(engine)

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    layout = _layout(engine)
    for name, (kind, children) in plain.items():
        moved = name in schema.PARTITIONED_TABLES
        assert layout[name] == (("p", PARTITIONS) if moved else (kind, children)), name
        assert moved or kind == "r", name
    assert _contents(engine) == before
    assert _privileges(engine) == privileges
    # The surrogate keys keep drawing from their old sequences, past every copied row.
    stores = SqlStores.on(engine)
    stores.orders.add_order(order(0xBEEF, ACCOUNT_A, "after-move"))
    with engine.connect() as connection:
        seq = connection.execute(
            text("SELECT seq FROM orders WHERE order_id = :o"), {"o": f"{0xBEEF:016x}"}
        ).scalar_one()
    assert seq == ROWS_PER_TABLE + 1

    command_downgrade(engine, plain_revision)
    assert _layout(engine) == plain
    assert all(plain[name] == ("r", 0) for name in schema.PARTITIONED_TABLES)
    after = _contents(engine)
    assert after.pop("orders")[0] == ROWS_PER_TABLE + 1
    assert after == {name: found for name, found in before.items() if name != "orders"}


def command_downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    from axadapters.sql.migrate import alembic_config

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


# --- every single-account query is planned on one partition ---------------------------

PARTITION = re.compile(rf"^({'|'.join(schema.PARTITIONED_TABLES)})_p[0-9]+$")


@pytest.fixture
def stores(postgres_databases: PostgresDatabases) -> Iterator[SqlStores]:
    yield postgres_databases.stores()


def _statements(stores: SqlStores) -> list[tuple[str, Any]]:
    """Run the single-account reads and updates through the adapters, recording the SQL."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            seen.append((statement, parameters))

    account = ACCOUNT_A
    placed = order(7, account, "c-7")
    stores.orders.add_order(placed)
    event.listen(stores.engine, "before_cursor_execute", record)
    try:
        stores.balances.get_balance(account)
        stores.loss_limits.get_loss_limit(account)
        stores.ltv_monitors.get_ltv_monitor(account)
        stores.deposit_addresses.get_address(account, "ethereum", "usdc")
        stores.deposit_addresses.addresses_for_account(account)
        stores.orders.orders_for_account(account, status=None, after=0, limit=10)
        stores.orders.resting_orders_for_account(account)
        stores.orders.get_by_client_order_id(account, "c-7")
        stores.orders.update_order(attrs.evolve(placed, status=OrderStatus.CANCELLED))
        stores.fills.fills_for_account(account, after=0, limit=10)
        stores.fills.fills_for_order(account, placed.order_id)
        stores.idempotency.get(account, "key-1")
        stores.sequences.last_allocated(account)
        stores.projections.position_records(account)
        stores.projections.transaction_records(account)
        stores.audit.records_for_account(account)
    finally:
        event.remove(stores.engine, "before_cursor_execute", record)
    return seen


def _scanned(plan: dict[str, Any]) -> list[str]:
    """Relations the plan reads rows from (an UPDATE's target node names the parent)."""
    scans = "Relation Name" in plan and plan["Node Type"] != "ModifyTable"
    found = [plan["Relation Name"]] if scans else []
    for child in plan.get("Plans", ()):
        found += _scanned(child)
    return found


@pytest.mark.postgres
def test_each_single_account_query_touches_one_partition(stores: SqlStores) -> None:
    statements = _statements(stores)
    tables_read = set()
    with stores.engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) {statement}", parameters
            ).scalar_one()
            relations = _scanned(plan[0]["Plan"])
            partitions = [r for r in relations if PARTITION.match(r)]
            assert len(partitions) == 1, (statement, relations)
            assert not set(relations) & set(schema.PARTITIONED_TABLES), (statement, relations)
            tables_read.add(partitions[0].rsplit("_p", 1)[0])
    assert tables_read == {
        "current_balances",
        "monthly_loss_limits",
        "loan_to_value_monitors",
        "blockchain_deposit_addresses",
        "orders",
        "fills",
        "idempotency_records",
        "account_sequences",
        "position_records",
        "transaction_records",
        "audit_log",
    }


@pytest.mark.postgres
def test_records_of_one_account_share_one_partition(stores: SqlStores) -> None:
    """Writes route by account_id too: all of an account's rows sit in its one partition."""
    for account in (ACCOUNT_A, ACCOUNT_B):
        stores.balances.put_balance(CurrentBalance(account, 5, 1))
        stores.loss_limits.put_loss_limit(MonthlyLossLimit(account, 5, 1))
        stores.ltv_monitors.put_ltv_monitor(LtvMonitor(account, 8000, 9000, 1))
        stores.deposit_addresses.add_address(
            DepositAddress(account, "ethereum", "usdc", f"0x{account}", 1)
        )
        stores.sequences.allocate(account, 3)
        stores.audit.append(
            AuditRecord(
                "r", 1, None, account, Action.READ, True, DenyReason.ALLOWED, None, None, None, 1
            )
        )
    with stores.engine.connect() as connection:
        for account in (ACCOUNT_A, ACCOUNT_B):
            homes = set()
            for name in (
                "current_balances",
                "monthly_loss_limits",
                "loan_to_value_monitors",
                "blockchain_deposit_addresses",
                "account_sequences",
                "audit_log",
            ):
                homes.add(
                    connection.execute(
                        text(f"SELECT tableoid::regclass::text FROM {name} WHERE account_id = :a"),
                        {"a": str(account)},
                    )
                    .scalar_one()
                    .rsplit("_p", 1)[1]
                )
            assert len(homes) == 1, (account, homes)


@pytest.mark.postgres
def test_primary_keys_and_checks_match_the_schema_module(stores: SqlStores) -> None:
    """Autogenerate ignores primary keys: the partitioned ones are compared here."""
    assert structure_drift(stores.engine) == []
    assert primary_key_columns(schema.orders, "postgresql") == ["account_id", "seq"]
    assert primary_key_columns(schema.orders, "sqlite") == ["seq"]


@pytest.mark.postgres
def test_two_accounts_racing_for_one_deposit_address_leave_one_owner(stores: SqlStores) -> None:
    """No unique key spans partitions: the advisory lock is what keeps the claim single.
    The first claim holds its transaction open until the second is seen waiting on it."""
    claimed = threading.Event()
    outcomes: dict[str, object] = {}

    def first() -> None:
        with stores.uow.transaction():
            stores.deposit_addresses.add_address(
                DepositAddress(ACCOUNT_A, "ethereum", "usdc", "0xcafe", 1)
            )
            claimed.set()
            _wait_for_a_blocked_advisory_lock(stores.engine)
        outcomes["first"] = "added"

    def second() -> None:
        claimed.wait()
        try:
            stores.deposit_addresses.add_address(
                DepositAddress(ACCOUNT_B, "ethereum", "usdt", "0xcafe", 1)
            )
            outcomes["second"] = "added"
        except Conflict as error:
            outcomes["second"] = error

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes["first"] == "added"
    assert isinstance(outcomes["second"], Conflict), outcomes
    assert "another account" in str(outcomes["second"])
    assert stores.deposit_addresses.addresses_for_account(ACCOUNT_B) == []


def _wait_for_a_blocked_advisory_lock(engine: Engine) -> None:
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with engine.connect() as connection:
        for _ in range(300):
            if connection.execute(query).scalar_one():
                return
            time.sleep(0.01)
    raise AssertionError("the second claim never waited on the first")
