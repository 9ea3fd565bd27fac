"""Planners: exact SPEC §6 arithmetic, one linked batch each, guards that emit nothing."""

from __future__ import annotations

import itertools

import attrs
import pytest

from axdomain import SYSTEM_ACCOUNTS, AccountId, ContractDate, ContractId, ProductId
from axdomain.errors import Conflict, DomainError, InvalidValue
from axdomain.ledger.events import decode_transfer, split_chains
from axdomain.ledger.planners import (
    FillSide,
    delist_fence,
    fee_micro_usd,
    funding_payment_micro_usd,
    plan_contract_system_accounts,
    plan_deposit,
    plan_fill,
    plan_funding,
    plan_position_accounts,
    plan_settlement,
    plan_usd_account,
    plan_withdrawal,
    require_delistable,
)
from axdomain.ledger.position import Position, apply_fill, fill_effect
from axdomain.ledger.values import (
    U64_MAX,
    AccountFlags,
    LedgerAccount,
    Transfer,
    TransferCode,
    TransferFlags,
    pack_price_qty,
)
from axdomain.ledger_ids import derive_tb_account_id, derive_tb_basis_account_id
from axdomain.orders import Order, OrderStatus, Side, TimeInForce
from tests.ledger_support import DATED, PERP, customer, system_accounts

BUYER = customer(0, maker_bps=-1, taker_bps=5)
FLAT = Position()
SELLER = customer(1, maker_bps=2, taker_bps=7)


def _ids() -> itertools.count[int]:
    return itertools.count(100)


def _fill(
    buy_pos: Position = FLAT,
    sell_pos: Position = FLAT,
    qty: int = 10,
    price: int = 2_000_000,
    contract: ContractId = PERP,
) -> list[Transfer]:
    return plan_fill(
        buy=FillSide(BUYER, contract, buy_pos, is_maker=True),
        sell=FillSide(SELLER, contract, sell_pos, is_maker=False),
        qty_lots=qty,
        price_micro_usd=price,
        timestamp_ns=77,
        transfer_ids=_ids(),
    )


def _nets(batch: list[Transfer], account: AccountId) -> dict[TransferCode, int]:
    nets: dict[TransferCode, int] = {}
    for transfer in batch:
        event = decode_transfer(transfer)
        for ref, signed in ((event.debit, -transfer.amount), (event.credit, transfer.amount)):
            if ref.account_id == account:
                nets[event.kind] = nets.get(event.kind, 0) + signed
    return nets


def _is_one_linked_chain(batch: list[Transfer]) -> bool:
    flags = [bool(t.flags & TransferFlags.LINKED) for t in batch]
    return flags == [True] * (len(batch) - 1) + [False]


# ------------------------------------------------------------------------- arithmetic


FILL_CASES = [
    # (before, d, price) -> (closing, opening, released, pnl, after)
    # open long 10 @ 2.0
    ((FLAT, 10, 2_000_000), (0, 10, 0, 0, Position(10, 20_000_000))),
    # partial close 3 of a long 10 with basis 20_000_001: released rounds toward zero
    (
        (Position(10, 20_000_001), -3, 2_500_000),
        (-3, 0, 6_000_000, 1_500_000, Position(7, 14_000_001)),
    ),
    # the same partial close of the mirror short: released -6_000_000, not -6_000_001
    (
        (Position(-10, -20_000_001), 3, 2_500_000),
        (3, 0, -6_000_000, -1_500_000, Position(-7, -14_000_001)),
    ),
    # full close releases all of B0
    ((Position(3, 7), -3, 5), (-3, 0, 7, 8, FLAT)),
    # flip long 4 -> short 6 at 1.5
    (
        (Position(4, 8_000_000), -10, 1_500_000),
        (-4, -6, 8_000_000, -2_000_000, Position(-6, -9_000_000)),
    ),
]


@pytest.mark.parametrize(("given", "expected"), FILL_CASES)
def test_fill_effect_is_spec_section_6(
    given: tuple[Position, int, int], expected: tuple[int, int, int, int, Position]
) -> None:
    before, d, price = given
    closing, opening, released, pnl, after = expected
    effect = fill_effect(before, d, price)
    assert (effect.closing_lots, effect.opening_lots) == (closing, opening)
    assert effect.released_basis_micro_usd == released
    assert effect.realized_pnl_micro_usd == pnl
    assert apply_fill(before, d, price) == after


def test_fee_rounds_toward_zero_both_ways() -> None:
    assert fee_micro_usd(19_999, 5) == 9  # 9.9995 -> 9
    assert fee_micro_usd(19_999, -5) == -9  # rebate -9.9995 -> -9
    assert fee_micro_usd(20_000, 5) == 10


def test_funding_payer_rounds_up_receiver_toward_zero() -> None:
    assert funding_payment_micro_usd(3, 1_000_001, 1) == 1  # 0.003000003 paid -> 1
    assert funding_payment_micro_usd(-3, 1_000_001, 1) == 0  # received -> 0
    assert funding_payment_micro_usd(2, 1_000_000, 500_000_000) == 1_000_000


# ------------------------------------------------------------------------------ fills


def test_opening_fill_is_one_linked_batch_with_exact_legs() -> None:
    batch = _fill()
    assert _is_one_linked_chain(batch)
    assert [t.id for t in batch] == list(range(100, 100 + len(batch)))
    qty_leg = batch[0]
    assert qty_leg.code == TransferCode.TRADE_QTY
    assert qty_leg.debit_account_id == derive_tb_account_id(SELLER.account_id, PERP)
    assert qty_leg.credit_account_id == derive_tb_account_id(BUYER.account_id, PERP)
    assert qty_leg.user_data_128 == pack_price_qty(2_000_000, 10)
    assert (qty_leg.user_data_64, qty_leg.user_data_32) == (77, 0)
    codes = [t.code for t in batch]
    # No PnL on an opening fill: qty, basis+fee buyer, basis+fee seller.
    assert codes == [1, 2, 4, 2, 4]
    notional = 20_000_000
    assert _nets(batch, BUYER.account_id) == {
        TransferCode.TRADE_QTY: 10,
        TransferCode.TRADE_BASIS: notional,
        TransferCode.FEE: notional * 1 // 10_000,  # maker rebate of 1 bp
    }
    assert _nets(batch, SELLER.account_id) == {
        TransferCode.TRADE_QTY: -10,
        TransferCode.TRADE_BASIS: -notional,
        TransferCode.FEE: -notional * 7 // 10_000,  # taker fee of 7 bp
    }
    basis = [t for t in batch if t.code == TransferCode.TRADE_BASIS]
    assert basis[0].credit_account_id == derive_tb_basis_account_id(BUYER.account_id, PERP)
    assert basis[1].debit_account_id == derive_tb_basis_account_id(SELLER.account_id, PERP)
    assert all(t.amount == notional for t in basis)


def test_closing_fill_books_realized_pnl_against_ax_pnl() -> None:
    # Buyer was short 10 at basis -20_000_000 and buys 4 back at 1.5: gains 2_000_000.
    batch = _fill(buy_pos=Position(-10, -20_000_000), qty=4, price=1_500_000)
    pnl = [t for t in batch if t.code == TransferCode.REALIZED_PNL]
    assert len(pnl) == 1
    assert decode_transfer(pnl[0]).debit.account_id == SYSTEM_ACCOUNTS.AX_PNL
    assert pnl[0].amount == 2_000_000
    assert _nets(batch, BUYER.account_id)[TransferCode.REALIZED_PNL] == 2_000_000


def test_dated_fill_mirrors_the_date_in_user_data_32() -> None:
    batch = _fill(contract=DATED)
    assert {t.user_data_32 for t in batch if t.ledger != 1} == {DATED.date.value}
    assert {t.ledger for t in batch} == {1, 1001, 1002}


def _side(account: object = BUYER, contract: object = PERP, **kw: object) -> FillSide:
    return FillSide(account, contract, kw.get("position", Position()), bool(kw.get("maker")))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("buy", "sell", "qty", "price", "field"),
    [
        (_side(), _side(SELLER, DATED), 1, 1, "sell.contract"),
        (_side(), _side(BUYER), 1, 1, "sell.account_id"),
        (_side(), _side(SELLER), 0, 1, "qty_lots"),
        (_side(), _side(SELLER), -1, 1, "qty_lots"),
        (_side(), _side(SELLER), True, 1, "qty_lots"),
        (_side(), _side(SELLER), 1, 0, "price_micro_usd"),
        (_side(), _side(SELLER), 1, U64_MAX + 1, "price_micro_usd"),
        (_side(), _side(SELLER), U64_MAX + 1, 1, "qty_lots"),
        (_side(system_accounts()[0]), _side(SELLER), 1, 1, "buy.account"),
        (_side(attrs.evolve(BUYER, is_frozen=True)), _side(SELLER), 1, 1, "buy.account.is_frozen"),
        (
            _side(attrs.evolve(BUYER, is_close_only=True)),
            _side(SELLER),
            1,
            1,
            "buy.account.is_close_only",
        ),
    ],
)
def test_fill_guard_names_field_and_emits_nothing(
    buy: FillSide, sell: FillSide, qty: int, price: int, field: str
) -> None:
    ids = _ids()
    with pytest.raises(DomainError) as error:
        plan_fill(
            buy=buy,
            sell=sell,
            qty_lots=qty,
            price_micro_usd=price,
            timestamp_ns=1,
            transfer_ids=ids,
        )
    assert error.value.field == field
    assert next(ids) == 100  # no transfer id was consumed


def test_close_only_may_reduce() -> None:
    closer = attrs.evolve(BUYER, is_close_only=True)
    batch = plan_fill(
        buy=FillSide(closer, PERP, Position(-5, -5_000_000), True),
        sell=FillSide(SELLER, PERP, Position(), False),
        qty_lots=5,
        price_micro_usd=1_000_000,
        timestamp_ns=1,
        transfer_ids=_ids(),
    )
    assert batch[0].amount == 5


def test_amount_beyond_u128_is_refused() -> None:
    huge = Position(1, (1 << 128) + 5)
    with pytest.raises(InvalidValue) as error:
        _fill(buy_pos=Position(-1, -1), sell_pos=huge, qty=1, price=1)
    assert error.value.field in {"realized_pnl_micro_usd", "basis_change_micro_usd"}


# -------------------------------------------------------------- deposits, withdrawals


def test_deposit_and_withdrawal_move_usd_against_custody() -> None:
    deposit = plan_deposit(account=BUYER, amount_micro_usd=5, timestamp_ns=1, transfer_ids=_ids())
    withdrawal = plan_withdrawal(
        account=BUYER, amount_micro_usd=5, timestamp_ns=2, transfer_ids=_ids()
    )
    assert [type(decode_transfer(t)).__name__ for t in deposit + withdrawal] == [
        "Deposit",
        "Withdrawal",
    ]
    assert deposit[0].flags == TransferFlags.NONE
    assert decode_transfer(deposit[0]).debit.account_id == SYSTEM_ACCOUNTS.AX_CUSTODY
    assert decode_transfer(withdrawal[0]).credit.account_id == SYSTEM_ACCOUNTS.AX_CUSTODY


@pytest.mark.parametrize("amount", [0, -1, 1 << 128, 1.5])
def test_deposit_amount_guard(amount: object) -> None:
    with pytest.raises(InvalidValue) as error:
        plan_deposit(account=BUYER, amount_micro_usd=amount, timestamp_ns=1, transfer_ids=_ids())  # type: ignore[arg-type]
    assert error.value.field == "amount_micro_usd"


def test_deposit_to_a_system_account_is_refused() -> None:
    with pytest.raises(InvalidValue) as error:
        plan_deposit(
            account=system_accounts()[0], amount_micro_usd=1, timestamp_ns=1, transfer_ids=_ids()
        )
    assert error.value.field == "account"


# ---------------------------------------------------------------------------- funding


def test_funding_residue_stays_with_ax_funding_and_is_small() -> None:
    positions = {BUYER.account_id: 3, SELLER.account_id: -2, customer(2).account_id: -1}
    batch = plan_funding(
        contract=PERP,
        positions=positions,
        mark_price_micro_usd=1_000_003,
        funding_rate_ppb=333,
        timestamp_ns=1,
        transfer_ids=_ids(),
    )
    assert _is_one_linked_chain(batch)
    funding = _nets(batch, SYSTEM_ACCOUNTS.AX_FUNDING).get(TransferCode.FUNDING, 0)
    assert 0 <= funding < len(positions)
    assert _nets(batch, BUYER.account_id) == {TransferCode.FUNDING: -1}
    assert all(type(decode_transfer(t)).__name__ == "Funding" for t in batch)


def test_funding_refuses_dated_contract_and_system_accounts() -> None:
    with pytest.raises(InvalidValue) as error:
        plan_funding(
            contract=DATED,
            positions={},
            mark_price_micro_usd=1,
            funding_rate_ppb=1,
            timestamp_ns=1,
            transfer_ids=_ids(),
        )
    assert error.value.field == "contract"
    with pytest.raises(InvalidValue) as error:
        plan_funding(
            contract=PERP,
            positions={SYSTEM_ACCOUNTS.AX_PNL: 1},
            mark_price_micro_usd=1,
            funding_rate_ppb=1,
            timestamp_ns=1,
            transfer_ids=_ids(),
        )
    assert error.value.field == "positions"


# ------------------------------------------------------------------------- settlement


def test_settlement_flattens_realizes_and_resets() -> None:
    positions = {
        BUYER.account_id: Position(7, 7_000_007),
        SELLER.account_id: Position(-7, -7_700_000),
    }
    batch = plan_settlement(
        contract=DATED,
        settlement_price_micro_usd=1_200_000,
        positions=positions,
        timestamp_ns=9,
        transfer_ids=_ids(),
    )
    # one linked chain per holder, each all or nothing
    assert [len(chain) for chain in split_chains(batch)] == [3, 3]
    assert all(_is_one_linked_chain(list(chain)) for chain in split_chains(batch))
    assert [t.code for t in batch] == [8, 3, 9] * 2
    assert _nets(batch, BUYER.account_id) == {
        TransferCode.SETTLEMENT_QTY: -7,
        TransferCode.REALIZED_PNL: 8_400_000 - 7_000_007,
        TransferCode.BASIS_RESET: -7_000_007,
    }
    assert _nets(batch, SELLER.account_id) == {
        TransferCode.SETTLEMENT_QTY: 7,
        TransferCode.REALIZED_PNL: -8_400_000 + 7_700_000,
        TransferCode.BASIS_RESET: 7_700_000,
    }
    settlement_qty = _nets(batch, SYSTEM_ACCOUNTS.AX_SETTLEMENT)
    assert settlement_qty == {TransferCode.SETTLEMENT_QTY: 0}
    pnl = _nets(batch, SYSTEM_ACCOUNTS.AX_PNL)
    # AX_PNL's USD and basis move by the same amount (G3).
    assert pnl[TransferCode.BASIS_RESET] == 7_000_007 - 7_700_000
    assert pnl[TransferCode.REALIZED_PNL] == pnl[TransferCode.BASIS_RESET]


@pytest.mark.parametrize(
    ("contract", "positions", "field"),
    [
        (PERP, {}, "contract"),
        (DATED, {BUYER.account_id: Position(1, 1)}, "positions"),
        (DATED, {SYSTEM_ACCOUNTS.AX_PNL: Position(0, 5)}, "positions"),
        (DATED, {BUYER.account_id: Position(1, -1), SELLER.account_id: Position(-1, -1)}, None),
    ],
)
def test_settlement_guard(
    contract: ContractId, positions: dict[AccountId, Position], field: str | None
) -> None:
    with pytest.raises(InvalidValue) as error:
        plan_settlement(
            contract=contract,
            settlement_price_micro_usd=1,
            positions=positions,
            timestamp_ns=1,
            transfer_ids=_ids(),
        )
    assert field is None or error.value.field == field
    assert error.value.field


# ----------------------------------------------------------------------- delist fence


def _account(tb_id: int, ledger: int, date: int, net: int) -> LedgerAccount:
    return LedgerAccount(
        id=tb_id, ledger=ledger, code=2, user_data_32=date, credits_posted=max(net, 0),
        debits_posted=max(-net, 0),
    )  # fmt: skip


def _order(status: OrderStatus) -> Order:
    assert BUYER.ubo_user_id is not None
    return Order(
        order_id=1,
        account_id=BUYER.account_id,
        user_id=BUYER.ubo_user_id,
        client_order_id="x",
        contract=DATED,
        side=Side.BUY,
        qty_lots=1,
        limit_price_micro_usd=1,
        time_in_force=TimeInForce.GTC,
        created_at_ns=1,
        status=status,
    )


def test_delist_fence() -> None:
    date = DATED.date.value
    qty = [_account(derive_tb_account_id(BUYER.account_id, DATED), 1001, date, 0)]
    basis = [_account(derive_tb_basis_account_id(BUYER.account_id, DATED), 1002, date, 0)]
    fence = delist_fence(DATED, qty_accounts=qty, basis_accounts=basis, resting_orders=[])
    assert fence.allowed
    require_delistable(fence)
    filled = [_order(OrderStatus.FILLED)]
    assert delist_fence(
        DATED, qty_accounts=qty, basis_accounts=basis, resting_orders=filled
    ).allowed

    resting = delist_fence(
        DATED, qty_accounts=qty, basis_accounts=basis, resting_orders=[_order(OrderStatus.OPEN)]
    )
    assert resting.blockers == ("order 1 rests",)
    open_basis = [attrs.evolve(basis[0], credits_posted=3)]
    fence = delist_fence(DATED, qty_accounts=qty, basis_accounts=open_basis, resting_orders=[])
    assert not fence.allowed
    assert "basis" in fence.blockers[0]
    with pytest.raises(Conflict) as error:
        require_delistable(fence)
    assert error.value.field == "contract"
    stray = [_account(derive_tb_account_id(BUYER.account_id, PERP), 1001, 0, 0)]
    assert not delist_fence(DATED, qty_accounts=stray, basis_accounts=[], resting_orders=[]).allowed


# ------------------------------------------------------------------- account batches


def test_position_accounts_are_a_linked_pair_mirroring_the_date() -> None:
    pair = plan_position_accounts(BUYER.account_id, DATED)
    qty, basis = pair
    assert basis.id == qty.id + 1
    assert (qty.ledger, basis.ledger) == (1001, 1002)
    assert qty.user_data_32 == basis.user_data_32 == 20260130
    assert qty.flags & AccountFlags.LINKED
    assert not basis.flags & AccountFlags.LINKED


def test_customer_usd_accounts_carry_the_overdraft_flag() -> None:
    (usd,) = plan_usd_account(BUYER)
    assert usd.flags == AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    assert usd.ledger == 1


def test_contract_system_accounts() -> None:
    contract = ContractId.new(ProductId(1003), ContractDate(20270101))
    batch = plan_contract_system_accounts(contract)
    assert len(batch) == 4
    assert [bool(a.flags & AccountFlags.LINKED) for a in batch] == [True, True, True, False]
    with pytest.raises(InvalidValue):
        plan_position_accounts(BUYER.account_id, ContractId.usd())
