"""The TigerBeetle adapter's mapping, checked without a cluster."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import tigerbeetle as tb

from axadapters.tigerbeetle.ledger import (
    UnexpectedLedgerResult,
    failures,
    from_tb_account,
    from_tb_transfer,
    to_tb_account,
    to_tb_transfer,
)
from axdomain.ledger.port import CreateAccountResult, CreateTransferResult
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
