"""What only a real PostgreSQL can show: triggers, privileges, sequences, row locks."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from axadapters.sql import SqlStores
from axadapters.sql.orders import add_order_in
from axadapters.sql.sequences import allocate_in
from axdomain import AccountId
from axdomain.orders import OrderStatus
from tests.contract.sql_support import PostgresDatabases
from tests.contract.suite_orders import ACCOUNT_A, ACCOUNT_B, order

pytestmark = pytest.mark.postgres

APPEND_ONLY = "products is append-only"
WORKERS = 8
ALLOCATIONS_PER_WORKER = 500
CONTENDED = AccountId(0x0190_0000_0000_0C0C)


@pytest.fixture
def stores(postgres_databases: PostgresDatabases) -> Iterator[SqlStores]:
    yield postgres_databases.stores()


@pytest.fixture
def engine(stores: SqlStores) -> Engine:
    return stores.engine


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE products SET name = 'RENAMED' WHERE product_id = 1001",
        "UPDATE products SET product_id = 1003",
        "DELETE FROM products WHERE product_id = 1001",
        "TRUNCATE products CASCADE",
    ],
)
def test_products_refuse_update_delete_and_truncate(
    stores: SqlStores, engine: Engine, statement: str
) -> None:
    product = stores.products.create_product("COMPUTEDESK-H100", 1)
    with pytest.raises(DBAPIError, match=APPEND_ONLY), engine.begin() as connection:
        connection.execute(text(statement))
    assert stores.products.list_products() == [product]


def test_product_ids_must_be_odd(engine: Engine) -> None:
    with (
        pytest.raises(IntegrityError, match="ck_products_product_id_odd"),
        engine.begin() as connection,
    ):
        connection.execute(text("INSERT INTO products VALUES (1002, 'EVEN', 1)"))


def test_a_burned_product_id_is_never_reissued_after_rollback(
    stores: SqlStores, engine: Engine
) -> None:
    with pytest.raises(RuntimeError), engine.begin() as connection:
        burned = connection.execute(
            text(
                "INSERT INTO products VALUES (nextval('product_id_seq'), 'ABORTED', 1) "
                "RETURNING product_id"
            )
        ).scalar_one()
        assert burned == 1001
        raise RuntimeError("roll the listing back")
    assert stores.products.find_product("ABORTED") is None
    following = stores.products.create_product("LISTED", 2)
    assert following.product_id.value == 1003
    assert [p.product_id.value for p in stores.products.list_products()] == [1003]


def test_a_rolled_back_allocation_is_handed_out_again(stores: SqlStores, engine: Engine) -> None:
    """Account sequences are transactional (gap-free), unlike the product id sequence."""
    assert stores.sequences.allocate(CONTENDED, 2) == 1
    with pytest.raises(RuntimeError), engine.begin() as connection:
        assert allocate_in(connection, CONTENDED, 5) == 3
        raise RuntimeError("the ledger write failed")
    assert stores.sequences.last_allocated(CONTENDED) == 2
    assert stores.sequences.allocate(CONTENDED) == 3


def test_concurrent_workers_get_exactly_one_to_n(stores: SqlStores, engine: Engine) -> None:
    drawn: list[list[int]] = [[] for _ in range(WORKERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def work(slot: int) -> None:
        try:
            with engine.connect() as connection:  # one connection per worker
                start.wait()
                for _ in range(ALLOCATIONS_PER_WORKER):
                    with connection.begin():
                        drawn[slot].append(allocate_in(connection, CONTENDED))
        except BaseException as error:  # surfaced below, never swallowed
            errors.append(error)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = WORKERS * ALLOCATIONS_PER_WORKER
    assert sorted(n for numbers in drawn for n in numbers) == list(range(1, total + 1))
    assert all(numbers == sorted(set(numbers)) for numbers in drawn)
    assert stores.sequences.last_allocated(CONTENDED) == total


def test_client_order_id_unique_per_account_in_the_database(
    stores: SqlStores, engine: Engine
) -> None:
    with engine.begin() as connection:
        add_order_in(connection, order(1, ACCOUNT_A, "same"))
    with (
        pytest.raises(IntegrityError, match="uq_orders_account_open_client_order_id"),
        engine.begin() as connection,
    ):
        add_order_in(connection, order(2, ACCOUNT_A, "same"))
    with engine.begin() as connection:
        add_order_in(connection, order(3, ACCOUNT_B, "same"))
    assert [o.order_id for o in stores.orders.all_orders()] == [1, 3]
    # Only open orders hold their client order id: once closed it may be reused.
    stores.orders.set_status(1, OrderStatus.CANCELLED)
    with engine.begin() as connection:
        add_order_in(connection, order(4, ACCOUNT_A, "same"))
    assert [o.order_id for o in stores.orders.all_orders()] == [1, 3, 4]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE products SET name = 'RENAMED'",
        "DELETE FROM products",
        "TRUNCATE products",
        "DELETE FROM audit_log",
    ],
)
def test_app_role_may_read_and_insert_products_only(
    stores: SqlStores, engine: Engine, statement: str
) -> None:
    stores.products.create_product("COMPUTEDESK-H100", 1)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL ROLE ax_app"))
        names = connection.execute(text("SELECT name FROM products")).scalars().all()
        assert names == ["COMPUTEDESK-H100"]
        connection.execute(
            text("INSERT INTO products VALUES (nextval('product_id_seq'), 'BY-APP', 2)")
        )
        connection.execute(
            text(
                "INSERT INTO orders (order_id, account_id, user_id, "
                "client_order_id, contract_id, side, qty_lots, "
                "limit_price_micro_usd, time_in_force, created_at_ns, status, "
                "reduce_only, filled_lots) VALUES ('0000000000000001', "
                "'0000000000000001', '0000000000010000', 'c', 1001, 'buy', 1, 1, 'gtc', 1, "
                "'open', false, 0)"
            )
        )
    with pytest.raises(ProgrammingError, match="permission denied"), engine.begin() as connection:
        connection.execute(text("SET LOCAL ROLE ax_app"))
        connection.execute(text(statement))
    assert {p.name for p in stores.products.list_products()} == {"COMPUTEDESK-H100", "BY-APP"}
