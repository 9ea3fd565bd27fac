"""The embedded SQLite file keeps the same guarantees: append-only products, forward-only
product ids, gap-free sequences under threads, and a schema equal to ``schema.py``."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from axadapters.sql import SqlStores
from axadapters.sql.engine import create_sql_engine, normalize_url
from axadapters.sql.migrate import current_revision, head_revision, upgrade
from axadapters.sql.schema import metadata, schema_comparison_filter
from axadapters.sql.sequences import allocate_in
from axdomain import AccountId, InvalidValue
from tests.contract.sql_support import PostgresDatabases, SqliteDatabases

APPEND_ONLY = "products is append-only"
CONTENDED = AccountId(0x0190_0000_0000_0C0C)


@pytest.fixture
def stores(sqlite_databases: SqliteDatabases) -> Iterator[SqlStores]:
    yield sqlite_databases.stores()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE products SET name = 'RENAMED'", "DELETE FROM products"],
)
def test_products_refuse_update_and_delete(stores: SqlStores, statement: str) -> None:
    product = stores.products.create_product("COMPUTEDESK-H100", 1)
    with pytest.raises(IntegrityError, match=APPEND_ONLY), stores.engine.begin() as connection:
        connection.execute(text(statement))
    assert stores.products.list_products() == [product]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE product_id_allocation SET last_product_id = 999",
        "DELETE FROM product_id_allocation",
    ],
)
def test_product_id_allocation_only_moves_forward(stores: SqlStores, statement: str) -> None:
    stores.products.create_product("A", 1)
    with pytest.raises(IntegrityError, match="never reissued"), stores.engine.begin() as conn:
        conn.execute(text(statement))
    assert stores.products.create_product("B", 1).product_id.value == 1003


def test_product_ids_must_be_odd(stores: SqlStores) -> None:
    with pytest.raises(IntegrityError, match="CHECK"), stores.engine.begin() as connection:
        connection.execute(text("INSERT INTO products VALUES (1002, 'EVEN', 1)"))


def test_a_rolled_back_allocation_is_handed_out_again(stores: SqlStores) -> None:
    assert stores.sequences.allocate(CONTENDED, 2) == 1
    with pytest.raises(RuntimeError), stores.engine.begin() as connection:
        assert allocate_in(connection, CONTENDED, 5) == 3
        raise RuntimeError("the ledger write failed")
    assert stores.sequences.allocate(CONTENDED) == 3


def test_threads_get_exactly_one_to_n(stores: SqlStores) -> None:
    workers, each = 4, 100
    drawn: list[list[int]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def work(slot: int) -> None:
        try:
            for _ in range(each):
                drawn[slot].append(stores.sequences.allocate(CONTENDED))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(n for numbers in drawn for n in numbers) == list(range(1, workers * each + 1))


def _schema_drift(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": schema_comparison_filter(connection.dialect.name)},
        )
        return list(compare_metadata(context, metadata))


def test_migrated_sqlite_schema_matches_schema_module(stores: SqlStores) -> None:
    assert _schema_drift(stores.engine) == []
    assert current_revision(stores.engine) == head_revision()


@pytest.mark.postgres
def test_migrated_postgres_schema_matches_schema_module(
    postgres_databases: PostgresDatabases,
) -> None:
    engine = postgres_databases.engine(postgres_databases.new_url())
    assert _schema_drift(engine) == []
    assert current_revision(engine) == head_revision()


def test_upgrade_is_idempotent_on_an_existing_file(tmp_path: object) -> None:
    engine = create_sql_engine(f"sqlite:///{tmp_path}/fresh.db")
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_database_urls_pin_psycopg_and_refuse_other_backends() -> None:
    assert normalize_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert normalize_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_url("sqlite:///ax.db") == "sqlite:///ax.db"
    with pytest.raises(InvalidValue) as caught:
        normalize_url("mysql://u@h/d")
    assert caught.value.field == "database_url"
