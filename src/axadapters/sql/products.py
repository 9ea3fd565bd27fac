"""SQL product registry: append-only products, instruments with an adjustable expiry.

New ids come from ``product_id_seq`` (PostgreSQL, non-transactional: an aborted insert
burns its value) or from the forward-only ``product_id_allocation`` row (SQLite, advanced
in its own committed transaction for the same effect). Either way an id is never reissued.
The database itself refuses UPDATE, DELETE and TRUNCATE on ``products``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, RowMapping, exists, select, text, update
from sqlalchemy.exc import IntegrityError

from axadapters.sql import schema
from axadapters.sql.tx import begin, connect
from axdomain._checks import require_range, require_text
from axdomain.contracts import ContractId, ProductId
from axdomain.errors import Conflict, NotFound
from axdomain.products import I64_MAX, MAX_PRODUCT_NAME_LEN, Instrument, Product

PRODUCT_ID_STEP = 2


def _product(row: RowMapping) -> Product:
    return Product(ProductId(row["product_id"]), row["name"], row["created_at_ns"])


def _instrument(row: RowMapping) -> Instrument:
    contract = ContractId(row["contract_id"])
    assert contract.product.value == row["product_id"], row
    assert contract.date.value == row["contract_date"], row
    return Instrument(row["symbol"], contract, row["expiration_ns"], row["delisted_at_ns"])


class SqlProducts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    def create_product(self, name: str, created_at_ns: int) -> Product:
        # Validate before allocating, so bad input never burns an id.
        require_text("name", name, MAX_PRODUCT_NAME_LEN)
        require_range("created_at_ns", created_at_ns, 0, I64_MAX)
        if self.find_product(name) is not None:
            raise Conflict("product_name", name, "product already exists")
        # SQLite: reserve in a separate, committed transaction first, so a rollback of the
        # insert cannot hand the same id out again (nextval gives PostgreSQL that for free).
        reserved = None if self._postgres else self._reserve_sqlite_id()
        try:
            with begin(self._engine) as connection:
                if reserved is None:
                    nextval = connection.execute(text("SELECT nextval('product_id_seq')"))
                    reserved = int(nextval.scalar_one())
                product = Product(ProductId(reserved), name, created_at_ns)
                self._insert(connection, product)
        except IntegrityError as error:  # a concurrent creator won the name
            raise Conflict("product_name", name, "product already exists") from error
        return product

    def _reserve_sqlite_id(self) -> int:
        table = schema.product_id_allocation
        statement = (
            update(table)
            .values(last_product_id=table.c.last_product_id + PRODUCT_ID_STEP)
            .returning(table.c.last_product_id)
        )
        with begin(self._engine) as allocation:
            return int(allocation.execute(statement).scalar_one())

    @staticmethod
    def _insert(connection: Connection, product: Product) -> None:
        row = {
            "product_id": product.product_id.value,
            "name": product.name,
            "created_at_ns": product.created_at_ns,
        }
        connection.execute(schema.products.insert().values(row))

    def seed_product(self, product: Product) -> None:
        try:
            with begin(self._engine) as connection:
                self._insert(connection, product)
                self._move_allocation_above(connection, product.product_id.value)
        except IntegrityError as error:
            if self.get_product(product.product_id) is not None:
                raise Conflict("product_id", product.product_id.value, "already exists") from error
            raise Conflict("product_name", product.name, "product already exists") from error

    def _move_allocation_above(self, connection: Connection, product_id: int) -> None:
        if self._postgres:
            connection.execute(
                text(
                    "SELECT setval('product_id_seq', "
                    "GREATEST(:product_id, (SELECT last_value FROM product_id_seq)), true)"
                ),
                {"product_id": product_id},
            )
            return
        table = schema.product_id_allocation
        connection.execute(
            update(table)
            .where(table.c.last_product_id < product_id)
            .values(last_product_id=product_id)
        )

    def get_product(self, product_id: ProductId) -> Product | None:
        return self._one_product(schema.products.c.product_id == product_id.value)

    def find_product(self, name: str) -> Product | None:
        return self._one_product(schema.products.c.name == name)

    def _one_product(self, condition: object) -> Product | None:
        with connect(self._engine) as connection:
            query = select(schema.products).where(condition)  # type: ignore[arg-type]
            row = connection.execute(query).mappings().first()
        return None if row is None else _product(row)

    def list_products(self) -> Sequence[Product]:
        table = schema.products
        with connect(self._engine) as connection:
            rows = connection.execute(select(table).order_by(table.c.product_id)).mappings()
            return [_product(row) for row in rows]

    def add_instrument(self, instrument: Instrument) -> None:
        table = schema.instruments
        row = {
            "symbol": instrument.symbol,
            "product_id": instrument.product.value,
            "contract_date": instrument.contract_date.value,
            "contract_id": instrument.contract.value,
            "expiration_ns": instrument.expiration_ns,
            "delisted_at_ns": instrument.delisted_at_ns,
        }
        try:
            with begin(self._engine) as connection:
                connection.execute(table.insert().values(row))
        except IntegrityError as error:
            raise self._instrument_error(instrument) from error

    def _instrument_error(self, instrument: Instrument) -> Conflict | NotFound:
        table = schema.instruments
        with connect(self._engine) as connection:
            if connection.execute(
                select(exists().where(table.c.symbol == instrument.symbol))
            ).scalar():
                return Conflict("symbol", instrument.symbol, "instrument already exists")
            if connection.execute(
                select(exists().where(table.c.contract_id == instrument.contract.value))
            ).scalar():
                return Conflict("contract", str(instrument.contract), "already has a symbol")
        return NotFound("product_id", instrument.product.value, "no such product")

    def get_instrument(self, symbol: str) -> Instrument | None:
        table = schema.instruments
        with connect(self._engine) as connection:
            row = connection.execute(select(table).where(table.c.symbol == symbol)).mappings()
            first = row.first()
        return None if first is None else _instrument(first)

    def set_expiration(self, symbol: str, expiration_ns: int | None) -> Instrument:
        current = self.get_instrument(symbol)
        if current is None:
            raise NotFound("symbol", symbol, "no such instrument")
        changed = current.with_expiration(expiration_ns)  # validates the new expiry
        table = schema.instruments
        with begin(self._engine) as connection:
            result = connection.execute(
                update(table).where(table.c.symbol == symbol).values(expiration_ns=expiration_ns)
            )
            assert result.rowcount == 1, symbol
        return changed

    def mark_delisted(self, symbol: str, at_ns: int) -> Instrument:
        table = schema.instruments
        with begin(self._engine) as connection:
            connection.execute(
                update(table)
                .where(table.c.symbol == symbol, table.c.delisted_at_ns.is_(None))
                .values(delisted_at_ns=at_ns)
            )
        current = self.get_instrument(symbol)
        if current is None:
            raise NotFound("symbol", symbol, "no such instrument")
        return current

    def list_instruments(self) -> Sequence[Instrument]:
        table = schema.instruments
        with connect(self._engine) as connection:
            rows = connection.execute(select(table).order_by(table.c.symbol)).mappings()
            return [_instrument(row) for row in rows]
