"""Projections are written in batches: on PostgreSQL a ``project`` call costs the same few
statements whether it carries ten chains or five hundred, and what it wrote reads back
exactly (on SQLite too), once, however often the batch is replayed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event

from axadapters.sql import SqlStores
from axadapters.sql._support import _array_literal
from axdomain import AccountId, ContractId
from axdomain.ledger.projection import ProjectedChain, ProjectionCursor
from axdomain.ledger.sequencing import PositionRecord, SequenceStamp, TransactionRecord
from axdomain.ledger.values import Transfer, TransferCode
from tests.contract.sql_support import PostgresDatabases, SqliteDatabases

FIRST = 0x0190_0000_0000_1000
ACCOUNTS = 7
# Per batch: the three row tables, the balances, the cursor; plus BEGIN and COMMIT (and,
# where projections are guarded against other writers, one read of the stored cursor).
INSERTS_PER_BATCH = 5
STATEMENTS_PER_BATCH_MAX = 8


def chains(count: int, first_id: int = 1) -> list[ProjectedChain]:
    sequence = [0] * ACCOUNTS
    usd = [0] * ACCOUNTS
    made = []
    for n in range(count):
        at_ns = 1_000 + n
        code = TransferCode.INTERNAL_TRANSFER
        transfer = Transfer(first_id + n, 1, 2, 10, 1, int(code), user_data_64=at_ns)
        stamps, positions, transactions, after = [], [], [], []
        for index, signed in ((n % ACCOUNTS, -10), ((n + 3) % ACCOUNTS, 10)):
            account = AccountId(FIRST + index)
            sequence[index] += 1
            usd[index] += signed
            seq = sequence[index]
            stamps.append(SequenceStamp(account, seq, transfer.id))
            positions.append(PositionRecord(account, seq, ContractId(1001), seq, -seq << 70, n))
            transactions.append(TransactionRecord(account, seq, ((code, signed),), (1 << 100,), n))
            after.append((account, usd[index]))
        made.append(
            ProjectedChain(
                (transfer,), tuple(stamps), tuple(positions), tuple(transactions), tuple(after)
            )
        )
    return made


def statements(sql: SqlStores) -> list[str]:
    seen: list[str] = []

    def statement(_c: Any, _cursor: Any, text: str, *_rest: Any) -> None:
        seen.append(text.split(None, 1)[0].upper())

    event.listen(sql.engine, "before_cursor_execute", statement)
    event.listen(sql.engine, "begin", lambda _c: seen.append("BEGIN"))
    event.listen(sql.engine, "commit", lambda _c: seen.append("COMMIT"))
    return seen


def check_round_trip(sql: SqlStores, batch: list[ProjectedChain]) -> None:
    cursor = ProjectionCursor(len(batch), batch[-1].transfers[-1].id)
    for _ in range(2):  # the replay changes nothing
        sql.projections.project(batch, cursor)
        assert sql.projections.cursor() == cursor
        expected = sorted(
            (s for c in batch for s in c.stamps), key=lambda s: (s.account_id, s.sequence_number)
        )
        assert list(sql.projections.stamps()) == expected
        for index in range(ACCOUNTS):
            account = AccountId(FIRST + index)
            mine = [p for c in batch for p in c.positions if p.account_id == account]
            assert list(sql.projections.position_records(account)) == mine
            moved = [t for c in batch for t in c.transactions if t.account_id == account]
            assert list(sql.projections.transaction_records(account)) == moved
        final = {account: usd for c in batch for account, usd in c.usd_after}
        assert sql.projections.balances() == final


@pytest.mark.postgres
def test_postgres_batches_cost_the_same_statements_and_read_back_exactly(
    postgres_databases: PostgresDatabases,
) -> None:
    sql = postgres_databases.stores()
    seen = statements(sql)
    small, large = chains(10), chains(500, first_id=100)
    sql.projections.project(small, ProjectionCursor(10, small[-1].transfers[-1].id))
    for_small = Counter(seen)
    seen.clear()
    sql.projections.project(large, ProjectionCursor(510, large[-1].transfers[-1].id))
    assert Counter(seen) == for_small  # fifty times the rows, the same statements
    assert for_small["INSERT"] == INSERTS_PER_BATCH
    assert (for_small["BEGIN"], for_small["COMMIT"]) == (1, 1)
    assert sum(for_small.values()) <= STATEMENTS_PER_BATCH_MAX
    sql.projections.reset()
    check_round_trip(sql, chains(300))


def test_sqlite_batches_read_back_exactly(sqlite_databases: SqliteDatabases) -> None:
    check_round_trip(sqlite_databases.stores(), chains(60))


@pytest.mark.postgres
def test_array_literals_round_trip_through_postgres(postgres_databases: PostgresDatabases) -> None:
    texts = ["0190", 'say "hi"', "back\\slash", "a,b", "{x}", "NULL", "null", " pad ", "é"]
    numbers = [0, -1, 1 << 100, -(1 << 100)]
    mixed = [None, True, False, 7, "t e"]
    with postgres_databases.stores().engine.connect() as connection:
        for values, cast in ((texts, "text[]"), (numbers, "numeric[]"), (mixed, "text[]")):
            back = connection.exec_driver_sql(
                f"SELECT %(a)s::{cast}", {"a": _array_literal(values)}
            ).scalar_one()
            expected = values if values is not mixed else [None, "t", "f", "7", "t e"]
            assert [v if v is None or cast == "text[]" else int(v) for v in back] == expected
