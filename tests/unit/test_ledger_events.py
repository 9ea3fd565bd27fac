"""The decoder: every code has its own kind; anything inconsistent is a typed error."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from axdomain import SYSTEM_ACCOUNTS
from axdomain.ledger.events import (
    EVENT_TYPES,
    Deposit,
    Funding,
    SettlementQty,
    TradeQty,
    TransferDecodeError,
    Withdrawal,
    decode_transfer,
    split_chains,
)
from axdomain.ledger.values import Transfer, TransferCode, TransferFlags, pack_price_qty
from axdomain.ledger_ids import derive_tb_account_id, derive_tb_usd_account_id
from tests.ledger_support import DATED, PERP, World

PNL = SYSTEM_ACCOUNTS.AX_PNL


@pytest.fixture(scope="module")
def transfers() -> list[Transfer]:
    world = World.build(3)
    for index in range(3):
        assert world.deposit(index, 10**9) == []
    assert world.withdraw(0, 5) == []
    assert world.transfer(1, 2, 7) == []
    assert world.fill(0, 1, 10, 1_000_000) == []
    assert world.fill(1, 0, 4, 900_000) == []
    assert world.fill(0, 2, 3, 1_000_000, DATED) == []
    assert world.funding(1_000_000, 1_000_000) == []
    assert world.settle(1_100_000) == []
    return world.ledger.scan_transfers()


def test_every_code_decodes_to_its_own_kind(transfers: list[Transfer]) -> None:
    kinds = {}
    for transfer in transfers:
        event = decode_transfer(transfer)
        assert event.kind == transfer.code
        assert type(event) is EVENT_TYPES[event.kind]
        kinds[event.kind] = type(event)
    assert set(kinds) == set(TransferCode)
    assert len(set(kinds.values())) == len(TransferCode)
    assert kinds[TransferCode.DEPOSIT] is Deposit
    assert kinds[TransferCode.WITHDRAWAL] is Withdrawal
    assert kinds[TransferCode.FUNDING] is Funding


def test_trade_and_settlement_legs_carry_price(transfers: list[Transfer]) -> None:
    trades = [decode_transfer(t) for t in transfers if t.code == TransferCode.TRADE_QTY]
    assert isinstance(trades[0], TradeQty)
    assert (trades[0].price_micro_usd, trades[0].amount) == (1_000_000, 10)
    settled = [decode_transfer(t) for t in transfers if t.code == TransferCode.SETTLEMENT_QTY]
    assert all(isinstance(s, SettlementQty) and s.price_micro_usd == 1_100_000 for s in settled)
    assert all(s.contract == DATED for s in settled)


def _deposit(**changes: Any) -> Transfer:
    base = Transfer(
        id=1,
        debit_account_id=derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_CUSTODY),
        credit_account_id=derive_tb_usd_account_id(PNL),
        amount=5,
        ledger=1,
        code=TransferCode.DEPOSIT,
    )
    return attrs.evolve(base, **changes)


@pytest.mark.parametrize(
    ("transfer", "field"),
    [
        (_deposit(code=42), "code"),
        (_deposit(ledger=1001), "ledger"),
        (_deposit(debit_account_id=(5 << 64) | (1 << 63) | 1), "debit_account_id"),
        (
            _deposit(debit_account_id=derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_FEES)),
            "debit_account_id",
        ),
        (_deposit(debit_account_id=derive_tb_usd_account_id(PNL)), "credit_account_id"),
        (_deposit(code=TransferCode.TRADE_QTY), "debit_account_id"),
        (
            _deposit(credit_account_id=derive_tb_account_id(PNL, PERP)),
            "credit_account_id",
        ),
        (_deposit(code=TransferCode.FEE), "transfer"),
        (
            Transfer(
                id=2,
                debit_account_id=derive_tb_account_id(SYSTEM_ACCOUNTS.AX_CUSTODY, PERP),
                credit_account_id=derive_tb_account_id(PNL, DATED),
                amount=1,
                ledger=1001,
                code=TransferCode.TRADE_QTY,
            ),
            "credit_account_id",
        ),
        (
            Transfer(
                id=3,
                debit_account_id=derive_tb_account_id(SYSTEM_ACCOUNTS.AX_SETTLEMENT, DATED),
                credit_account_id=derive_tb_account_id(PNL, DATED),
                amount=2,
                ledger=1001,
                code=TransferCode.SETTLEMENT_QTY,
                user_data_128=pack_price_qty(1, 3),
                user_data_32=DATED.date.value,
            ),
            "user_data_128",
        ),
        (
            Transfer(
                id=4,
                debit_account_id=derive_tb_account_id(SYSTEM_ACCOUNTS.AX_SETTLEMENT, DATED),
                credit_account_id=derive_tb_account_id(PNL, DATED),
                amount=3,
                ledger=1001,
                code=TransferCode.SETTLEMENT_QTY,
                user_data_128=pack_price_qty(1, 3),
                user_data_32=0,
            ),
            "user_data_32",
        ),
    ],
)
def test_inconsistent_transfer_is_a_typed_error(transfer: Transfer, field: str) -> None:
    with pytest.raises(TransferDecodeError) as error:
        decode_transfer(transfer)
    assert error.value.field == field


def test_split_chains_follows_linked_flags(transfers: list[Transfer]) -> None:
    chains = list(split_chains(transfers))
    assert sum(len(c) for c in chains) == len(transfers)
    assert all(not (c[-1].flags & TransferFlags.LINKED) for c in chains)
    # deposits, withdrawal, transfer, fills, funding, one settlement chain per holder (0, 2)
    assert len(chains) == 3 + 1 + 1 + 3 + 1 + 2
    with pytest.raises(TransferDecodeError):
        list(split_chains([attrs.evolve(transfers[0], flags=TransferFlags.LINKED)]))
