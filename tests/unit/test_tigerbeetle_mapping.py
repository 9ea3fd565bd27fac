"""The TigerBeetle adapter's mapping, checked without a cluster."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import tigerbeetle as tb

from axadapters.tigerbeetle.ledger import (
    TigerBeetleLedger,
    UnexpectedLedgerResult,
    failures,
    from_tb_account,
    from_tb_transfer,
    to_tb_account,
    to_tb_transfer,
)
from axapp import cli
from axdomain.errors import InvalidValue
from axdomain.ledger.port import (
    CreateAccountResult,
    CreateTransferResult,
    LedgerBatchTooLarge,
    LedgerUnavailable,
)
from axdomain.ledger.values import (
    U128_MAX,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferFlags,
)


def test_every_result_the_port_names_exists_in_the_client() -> None:
    for account_result in CreateAccountResult:
        if account_result is not CreateAccountResult.OK:
            assert account_result.name in tb.CreateAccountStatus.__members__, account_result
    for transfer_result in CreateTransferResult:
        if transfer_result is not CreateTransferResult.OK:
            assert transfer_result.name in tb.CreateTransferStatus.__members__, transfer_result


def test_accounts_and_transfers_round_trip_through_the_client_types() -> None:
    account = LedgerAccount(
        id=U128_MAX - 1,
        ledger=7,
        code=9,
        flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.LINKED,
        user_data_128=1 << 127,
        user_data_64=5,
        user_data_32=6,
        debits_posted=3,
        credits_posted=U128_MAX,
        timestamp=11,
    )
    assert from_tb_account(to_tb_account(account)) == account
    transfer = Transfer(
        id=2,
        debit_account_id=3,
        credit_account_id=4,
        amount=U128_MAX,
        ledger=5,
        code=6,
        flags=TransferFlags.LINKED,
        user_data_128=7,
        user_data_64=8,
        user_data_32=9,
        timestamp=10,
    )
    converted = to_tb_transfer(transfer)
    assert converted.pending_id == 0 and converted.timeout == 0
    assert from_tb_transfer(converted) == transfer


def test_failures_read_both_client_generations() -> None:
    created = tb.CreateTransferResult(timestamp=1, status=tb.CreateTransferStatus.CREATED)
    exceeds = tb.CreateTransferResult(timestamp=2, status=tb.CreateTransferStatus.EXCEEDS_CREDITS)
    assert failures([created, exceeds, created], 3) == [(1, "EXCEEDS_CREDITS")]
    old_style = SimpleNamespace(index=4, result=SimpleNamespace(name="exists"))
    assert failures([old_style], 9) == [(4, "exists")]
    assert failures([], 0) == []
    with pytest.raises(UnexpectedLedgerResult):
        failures([created], 2)


def test_two_phase_fields_and_pending_balances_round_trip() -> None:
    account = LedgerAccount(
        id=5,
        ledger=1,
        code=1,
        flags=AccountFlags.CLOSED,
        debits_pending=7,
        credits_pending=U128_MAX,
        credits_posted=3,
    )
    assert from_tb_account(to_tb_account(account)) == account
    transfer = Transfer(
        id=2,
        debit_account_id=3,
        credit_account_id=4,
        amount=0,
        ledger=5,
        code=6,
        flags=TransferFlags.PENDING | TransferFlags.CLOSING_DEBIT | TransferFlags.LINKED,
        pending_id=U128_MAX - 1,
        timeout=(1 << 32) - 1,
    )
    converted = to_tb_transfer(transfer)
    assert (converted.pending_id, converted.timeout) == (U128_MAX - 1, (1 << 32) - 1)
    assert from_tb_transfer(converted) == transfer


class FakeClient:
    """Stands in for ``tb.ClientSync``: records requests, raises or pages as told."""

    def __init__(self, pages: list[list[tb.Account]] | None = None, error: Exception | None = None):
        self.pages = pages or []
        self.error = error
        self.filters: list[tb.QueryFilter] = []
        self.lookups: list[list[int]] = []
        self.created: list[int] = []

    def _maybe_raise(self) -> None:
        if self.error is not None:
            raise self.error

    def query_accounts(self, query: tb.QueryFilter) -> list[tb.Account]:
        self._maybe_raise()
        self.filters.append(query)
        return self.pages.pop(0) if self.pages else []

    def lookup_accounts(self, ids: list[int]) -> list[tb.Account]:
        self._maybe_raise()
        self.lookups.append(ids)
        return []

    def create_transfers(self, events: list[tb.Transfer]) -> list[tb.CreateTransferResult]:
        self._maybe_raise()
        self.created.append(len(events))
        return [tb.CreateTransferResult(timestamp=1, status=tb.CreateTransferStatus.CREATED)] * len(
            events
        )


def tb_account(account_id: int, timestamp: int, user_data_32: int = 0) -> tb.Account:
    return tb.Account(
        id=account_id, ledger=9, code=1, user_data_32=user_data_32, timestamp=timestamp
    )


def transfer_to(index: int) -> Transfer:
    return Transfer(
        id=index + 1, debit_account_id=1, credit_account_id=2, amount=1, ledger=1, code=5
    )


def test_a_batch_over_the_limit_is_refused_before_it_is_sent() -> None:
    client = FakeClient()
    ledger = TigerBeetleLedger(client, batch_events_max=253)
    assert ledger.batch_events_max == 253
    assert ledger.create_transfers([transfer_to(i) for i in range(253)]) == []
    with pytest.raises(LedgerBatchTooLarge) as error:
        ledger.create_transfers([transfer_to(i) for i in range(254)])
    assert error.value.value == 254
    assert client.created == [253]
    ledger.lookup_accounts(list(range(1, 600)))
    assert [len(chunk) for chunk in client.lookups] == [253, 253, 93]
    with pytest.raises(InvalidValue):
        TigerBeetleLedger(client, batch_events_max=8190)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (tb.TooMuchDataError(), LedgerBatchTooLarge),
        (tb.ClientEvictedError(), LedgerUnavailable),
        (tb.ClientClosedError(), LedgerUnavailable),
        (tb.ClientReleaseTooLowError(), LedgerUnavailable),
        (tb.ClientReleaseTooHighError(), LedgerUnavailable),
        (Exception("Unexpected PacketStatus 7"), LedgerUnavailable),
    ],
)
def test_every_client_error_becomes_a_typed_error(
    error: Exception, expected: type[Exception]
) -> None:
    ledger = TigerBeetleLedger(FakeClient(error=error))
    with pytest.raises(expected):
        ledger.create_transfers([transfer_to(0)])
    with pytest.raises(expected):
        ledger.query_accounts(9)
    with pytest.raises(expected):
        ledger.lookup_accounts([1])


def test_queries_filter_exactly_and_page_until_an_empty_page() -> None:
    # the cluster caps a page below the requested limit: a short page is not the end
    pages = [[tb_account(1, 10), tb_account(2, 11, 4)], [tb_account(3, 12)], []]
    client = FakeClient(pages=pages)
    ledger = TigerBeetleLedger(client, batch_events_max=100)
    assert [a.id for a in ledger.query_accounts(9)] == [1, 2, 3]
    assert [f.timestamp_min for f in client.filters] == [0, 12, 13]
    assert {(f.ledger, f.user_data_32, f.limit) for f in client.filters} == {(9, 0, 100)}
    client.pages = [[tb_account(1, 10), tb_account(2, 11, 4)], []]
    assert [a.id for a in ledger.query_accounts(9, 0)] == [1]  # 0 is exact, not "any"
    for query in (ledger.query_accounts, ledger.query_transfers):
        with pytest.raises(InvalidValue) as error:
            query(0)
        assert error.value.field == "ledger"


def test_an_unavailable_ledger_is_one_line_from_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable(*_: object) -> int:
        raise LedgerUnavailable("TigerBeetle create_transfers: Client was evicted.")

    monkeypatch.setattr(cli, "_run", unreachable)
    assert cli.main(["demo"]) == 2  # an unusable service: exit 2, one line
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "AX_TIGERBEETLE_ADDRESSES" in err and "evicted" in err
