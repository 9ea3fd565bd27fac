"""SQL operator credentials: hashed secrets that survive restarts."""

from __future__ import annotations

from sqlalchemy import Engine, RowMapping, select, update
from sqlalchemy.exc import IntegrityError

from axadapters.sql import schema
from axadapters.sql._support import from_hex64, hex64
from axadapters.sql.tx import begin, connect
from axdomain.errors import Conflict
from axdomain.operators import Operator


def _operator(row: RowMapping) -> Operator:
    return Operator(
        operator_id=from_hex64(row["operator_id"]),
        name=row["name"],
        secret_hash=bytes.fromhex(row["secret_hash"]),
        created_at_ns=row["created_at_ns"],
        revoked_at_ns=row["revoked_at_ns"],
    )


class SqlOperators:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_operator(self, operator: Operator) -> None:
        row = {
            "operator_id": hex64(operator.operator_id),
            "name": operator.name,
            "secret_hash": operator.secret_hash.hex(),
            "created_at_ns": operator.created_at_ns,
            "revoked_at_ns": operator.revoked_at_ns,
        }
        try:
            with begin(self._engine) as connection:
                connection.execute(schema.operators.insert().values(row))
        except IntegrityError as error:
            if self.get_operator(operator.operator_id) is not None:
                raise Conflict("operator_id", operator.operator_id, "already exists") from error
            raise Conflict("name", operator.name, "already exists") from error

    def get_operator(self, operator_id: int) -> Operator | None:
        table = schema.operators
        with connect(self._engine) as connection:
            query = select(table).where(table.c.operator_id == hex64(operator_id))
            row = connection.execute(query).mappings().first()
        return None if row is None else _operator(row)

    def find_operator(self, name: str) -> Operator | None:
        table = schema.operators
        with connect(self._engine) as connection:
            row = connection.execute(select(table).where(table.c.name == name)).mappings().first()
        return None if row is None else _operator(row)

    def revoke_operator(self, name: str, at_ns: int) -> bool:
        table = schema.operators
        with begin(self._engine) as connection:
            connection.execute(
                update(table)
                .where(table.c.name == name, table.c.revoked_at_ns.is_(None))
                .values(revoked_at_ns=at_ns)
            )
        return self.find_operator(name) is not None
