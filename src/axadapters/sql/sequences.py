"""Per-account sequence numbers: gap-free, strictly increasing, transactional.

One statement both creates the counter row and advances it
(``INSERT ... ON CONFLICT (account_id) DO UPDATE ... RETURNING``); the row lock it takes is
held until the caller's transaction ends, so concurrent allocators on one account queue up
and each sees the previous one's value. If the transaction rolls back, so does the
allocation: the next caller gets the same numbers again, which is what gap-free means (the
ledger events that used them were rolled back too).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from axadapters.sql import schema
from axadapters.sql._support import hex64
from axadapters.sql.tx import begin, connect
from axdomain._checks import require_range
from axdomain.ids import AccountId

MAX_ALLOCATION = 1_000_000  # one call never reserves more than this many numbers
I64_MAX = (1 << 63) - 1


def allocate_in(connection: Connection, account_id: AccountId, count: int = 1) -> int:
    """Reserve ``count`` numbers inside the caller's transaction; returns the first."""
    require_range("count", count, 1, MAX_ALLOCATION)
    table = schema.account_sequences
    values = {"account_id": hex64(account_id.value), "last_allocated": count}
    advance = {"last_allocated": table.c.last_allocated + count}
    returning = table.c.last_allocated
    if connection.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(values)
        statement = pg.on_conflict_do_update(index_elements=["account_id"], set_=advance)
        last = connection.execute(statement.returning(returning)).scalar_one()
    else:
        lite = sqlite.insert(table).values(values)
        upsert = lite.on_conflict_do_update(index_elements=["account_id"], set_=advance)
        last = connection.execute(upsert.returning(returning)).scalar_one()
    assert count <= last <= I64_MAX, (account_id, count, last)
    return int(last) - count + 1


def last_allocated_in(connection: Connection, account_id: AccountId) -> int:
    table = schema.account_sequences
    query = select(table.c.last_allocated).where(table.c.account_id == hex64(account_id.value))
    last = connection.execute(query).scalar_one_or_none()
    return 0 if last is None else int(last)


class SqlSequences:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def allocate(self, account_id: AccountId, count: int = 1) -> int:
        with begin(self._engine) as connection:
            return allocate_in(connection, account_id, count)

    def allocate_in(self, connection: Connection, account_id: AccountId, count: int = 1) -> int:
        """For callers that write the numbered event in the same transaction."""
        return allocate_in(connection, account_id, count)

    def last_allocated(self, account_id: AccountId) -> int:
        with connect(self._engine) as connection:
            return last_allocated_in(connection, account_id)
