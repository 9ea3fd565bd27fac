"""Planner guards and output fields a mutation run showed to be unwatched.

Exact ``Transfer`` / ``LedgerAccount`` values are asserted field by field (by equality), so
a planner that swaps a leg, drops a flag or loses the timestamp is noticed; each guard is
driven on the side (buy and sell) and at the boundary it protects.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs
import pytest

from axdomain import (
    SYSTEM_ACCOUNTS,
    Conflict,
    ContractDate,
    ContractId,
    DomainError,
    FillSide,
    InvalidValue,
    Order,
    OrderStatus,
    Position,
    ProductId,
    Side,
    TimeInForce,
    UserId,
    delist_fence,
    derive_tb_account_id,
    derive_tb_basis_account_id,
    derive_tb_usd_account_id,
    plan_contract_system_accounts,
    plan_deposit,
    plan_fill,
    plan_funding,
    plan_position_accounts,
    plan_settlement,
    plan_system_usd_accounts,
    plan_withdrawal,
)
from axdomain.ledger.planners import require_transfer_ids_unique
from axdomain.ledger.values import (
    AccountFlags,
    LedgerAccount,
    LedgerAccountCode,
    Transfer,
    TransferCode,
    TransferFlags,
    pack_price_qty,
)
from tests.ledger_support import DATED, PERP, customer, system_accounts

BUYER = customer(0, maker_bps=0, taker_bps=0)
SELLER = customer(1, maker_bps=0, taker_bps=0)
CUSTODY_USD = derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_CUSTODY)


def _ids() -> itertools.count[int]:
    return itertools.count(100)


def _fill(buy: FillSide, sell: FillSide, qty: int, *, timestamp_ns: int = 1) -> list[Transfer]:
    return plan_fill(
        buy=buy,
        sell=sell,
        qty_lots=qty,
        price_micro_usd=1_000_000,
        timestamp_ns=timestamp_ns,
        transfer_ids=_ids(),
    )


def _side(account: object, qty_lots: int = 0) -> FillSide:
    position = Position(qty_lots, qty_lots * 1_000_000)
    return FillSide(account, PERP, position, is_maker=False)  # type: ignore[arg-type]


# ----------------------------------------------------------------- close-only, sell side


def _close_only(account: object) -> object:
    return attrs.evolve(account, is_close_only=True)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("position", "qty", "after"),
    [(-5, 1, 6), (0, 1, 1), (5, 11, 6)],
    ids=["short_sells_more", "flat_sells", "long_flips_past_its_size"],
)
def test_close_only_seller_may_not_raise_exposure(position: int, qty: int, after: int) -> None:
    ids = _ids()
    with pytest.raises(InvalidValue) as error:
        plan_fill(
            buy=_side(BUYER),
            sell=_side(_close_only(SELLER), position),
            qty_lots=qty,
            price_micro_usd=1_000_000,
            timestamp_ns=1,
            transfer_ids=ids,
        )
    assert (error.value.field, error.value.value) == ("sell.account.is_close_only", True)
    assert error.value.problem == f"fill would raise |qty| to {after}"
    assert next(ids) == 100


@pytest.mark.parametrize(
    ("position", "qty"), [(5, 1), (5, 5), (5, 10)], ids=["reduce", "close", "flip_same_size"]
)
def test_close_only_seller_may_reduce_close_or_flip_to_the_same_size(
    position: int, qty: int
) -> None:
    batch = _fill(_side(BUYER), _side(_close_only(SELLER), position), qty)
    assert batch[0].code == TransferCode.TRADE_QTY
    assert batch[0].debit_account_id == derive_tb_account_id(SELLER.account_id, PERP)
    assert batch[0].amount == qty


@pytest.mark.parametrize(
    ("position", "qty", "refused"),
    [(-5, 5, False), (-5, 10, False), (-5, 11, True), (5, 1, True)],
)
def test_close_only_buyer_boundary(position: int, qty: int, refused: bool) -> None:
    buy = _side(_close_only(BUYER), position)
    if refused:
        with pytest.raises(InvalidValue) as error:
            _fill(buy, _side(SELLER), qty)
        assert error.value.field == "buy.account.is_close_only"
    else:
        assert _fill(buy, _side(SELLER), qty)[0].amount == qty


def test_frozen_or_system_seller_is_refused_by_name() -> None:
    frozen = attrs.evolve(SELLER, is_frozen=True)
    with pytest.raises(InvalidValue) as error:
        _fill(_side(BUYER), _side(frozen, 5), 1)
    assert (error.value.field, error.value.value) == ("sell.account.is_frozen", True)
    with pytest.raises(InvalidValue) as error:
        _fill(_side(BUYER), _side(system_accounts()[0]), 1)
    assert (error.value.field, error.value.value) == ("sell.account", SYSTEM_ACCOUNTS.AX_PNL)


def test_fill_contract_guards_name_the_contract() -> None:
    usd = FillSide(BUYER, ContractId.usd(), Position(), True)
    with pytest.raises(InvalidValue) as error:
        _fill(usd, FillSide(SELLER, ContractId.usd(), Position(), False), 1)
    assert (error.value.field, error.value.value) == ("contract", 1)
    with pytest.raises(InvalidValue) as error:
        _fill(_side(BUYER), FillSide(SELLER, DATED, Position(), False), 1)
    assert (error.value.field, error.value.value) == ("sell.contract", DATED.value)


# ---------------------------------------------------------------------- timestamp bounds


def _plan_each(timestamp_ns: int) -> list[Callable[[], list[Transfer]]]:
    ts = timestamp_ns
    two_holders = {BUYER.account_id: Position(1, 1), SELLER.account_id: Position(-1, -1)}
    return [
        lambda: _fill(_side(BUYER), _side(SELLER), 1, timestamp_ns=ts),
        lambda: plan_deposit(
            account=BUYER, amount_micro_usd=1, timestamp_ns=ts, transfer_ids=_ids()
        ),
        lambda: plan_withdrawal(
            account=BUYER, amount_micro_usd=1, timestamp_ns=ts, transfer_ids=_ids()
        ),
        lambda: plan_funding(
            contract=PERP,
            positions={BUYER.account_id: 1},
            mark_price_micro_usd=1,
            funding_rate_ppb=1,
            timestamp_ns=ts,
            transfer_ids=_ids(),
        ),
        lambda: plan_settlement(
            contract=DATED,
            settlement_price_micro_usd=1,
            positions=two_holders,
            timestamp_ns=ts,
            transfer_ids=_ids(),
        ),
    ]


@pytest.mark.parametrize(
    "planner", range(5), ids=["fill", "deposit", "withdrawal", "funding", "settlement"]
)
def test_every_planner_accepts_timestamp_zero_and_refuses_minus_one(planner: int) -> None:
    batch = _plan_each(0)[planner]()
    assert batch
    assert {t.user_data_64 for t in batch} == {0}
    with pytest.raises(InvalidValue) as error:
        _plan_each(-1)[planner]()
    assert (error.value.field, error.value.value) == ("timestamp_ns", -1)


# ------------------------------------------------------------ deposits and withdrawals


def test_deposit_is_exactly_one_unlinked_custody_credit() -> None:
    assert plan_deposit(
        account=BUYER, amount_micro_usd=7, timestamp_ns=55, transfer_ids=_ids()
    ) == [
        Transfer(
            id=100,
            debit_account_id=CUSTODY_USD,
            credit_account_id=derive_tb_usd_account_id(BUYER.account_id),
            amount=7,
            ledger=1,
            code=TransferCode.DEPOSIT,
            flags=TransferFlags.NONE,
            user_data_128=0,
            user_data_64=55,
            user_data_32=0,
        )
    ]


def test_withdrawal_is_exactly_one_unlinked_custody_debit() -> None:
    assert plan_withdrawal(
        account=SELLER, amount_micro_usd=9, timestamp_ns=56, transfer_ids=_ids()
    ) == [
        Transfer(
            id=100,
            debit_account_id=derive_tb_usd_account_id(SELLER.account_id),
            credit_account_id=CUSTODY_USD,
            amount=9,
            ledger=1,
            code=TransferCode.WITHDRAWAL,
            flags=TransferFlags.NONE,
            user_data_128=0,
            user_data_64=56,
            user_data_32=0,
        )
    ]


@pytest.mark.parametrize("amount", [0, -1, 1 << 128])
def test_withdrawal_amount_guard(amount: int) -> None:
    with pytest.raises(InvalidValue) as error:
        plan_withdrawal(account=BUYER, amount_micro_usd=amount, timestamp_ns=1, transfer_ids=_ids())
    assert (error.value.field, error.value.value) == ("amount_micro_usd", amount)


def test_withdrawal_from_a_system_account_is_refused() -> None:
    with pytest.raises(InvalidValue) as error:
        plan_withdrawal(
            account=system_accounts()[3], amount_micro_usd=1, timestamp_ns=1, transfer_ids=_ids()
        )
    assert (error.value.field, error.value.value) == ("account", SYSTEM_ACCOUNTS.AX_CUSTODY)


def test_deposit_accepts_the_largest_u128_amount() -> None:
    (transfer,) = plan_deposit(
        account=BUYER, amount_micro_usd=(1 << 128) - 1, timestamp_ns=1, transfer_ids=_ids()
    )
    assert transfer.amount == (1 << 128) - 1


# --------------------------------------------------------------------------------- funding


def test_funding_of_the_smallest_exact_amount_is_paid_in_full() -> None:
    # q * mark * rate == 1 (one billionth of a micro-USD): the payer rounds up to 1.
    batch = plan_funding(
        contract=PERP,
        positions={BUYER.account_id: 1, SELLER.account_id: -1},
        mark_price_micro_usd=1,
        funding_rate_ppb=1,
        timestamp_ns=3,
        transfer_ids=_ids(),
    )
    assert batch == [
        Transfer(
            id=100,
            debit_account_id=derive_tb_usd_account_id(BUYER.account_id),
            credit_account_id=derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_FUNDING),
            amount=1,
            ledger=1,
            code=TransferCode.FUNDING,
            flags=TransferFlags.NONE,
            user_data_128=pack_price_qty(1, 1),
            user_data_64=3,
            user_data_32=0,
        )
    ]


def test_funding_with_a_negative_rate_makes_shorts_pay() -> None:
    batch = plan_funding(
        contract=PERP,
        positions={BUYER.account_id: 2, SELLER.account_id: -2},
        mark_price_micro_usd=1_000_000,
        funding_rate_ppb=-500_000_000,
        timestamp_ns=3,
        transfer_ids=_ids(),
    )
    funding = derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_FUNDING)
    assert [(t.debit_account_id, t.credit_account_id, t.amount) for t in batch] == [
        (funding, derive_tb_usd_account_id(BUYER.account_id), 1_000_000),
        (derive_tb_usd_account_id(SELLER.account_id), funding, 1_000_000),
    ]
    assert [t.flags for t in batch] == [TransferFlags.LINKED, TransferFlags.NONE]


@pytest.mark.parametrize("rate", [1_000_000_000, -1_000_000_000])
def test_funding_rate_bound_is_inclusive(rate: int) -> None:
    batch = plan_funding(
        contract=PERP,
        positions={BUYER.account_id: 1},
        mark_price_micro_usd=3,
        funding_rate_ppb=rate,
        timestamp_ns=1,
        transfer_ids=_ids(),
    )
    assert [t.amount for t in batch] == [3]
    with pytest.raises(InvalidValue) as error:
        plan_funding(
            contract=PERP,
            positions={BUYER.account_id: 1},
            mark_price_micro_usd=3,
            funding_rate_ppb=rate + (1 if rate > 0 else -1),
            timestamp_ns=1,
            transfer_ids=_ids(),
        )
    assert error.value.field == "funding_rate_ppb"


# ------------------------------------------------------------------ position accounts


def test_position_accounts_are_exact() -> None:
    account = BUYER.account_id
    qty = derive_tb_account_id(account, DATED)
    assert plan_position_accounts(account, DATED) == [
        LedgerAccount(
            id=qty,
            ledger=1001,
            code=LedgerAccountCode.QTY,
            flags=AccountFlags.LINKED,
            user_data_32=20260130,
        ),
        LedgerAccount(
            id=qty + 1,
            ledger=1002,
            code=LedgerAccountCode.BASIS,
            flags=AccountFlags.NONE,
            user_data_32=20260130,
        ),
    ]
    assert [a.user_data_32 for a in plan_position_accounts(account, PERP)] == [0, 0]


@pytest.mark.parametrize(
    ("account_id", "contract", "field", "value"),
    [
        (BUYER.account_id, ContractId.usd(), "contract", 1),
        (BUYER.account_id, 1001, "contract", 1001),
        (UserId(0x0190_0000_0000_0001), PERP, "account_id", UserId(0x0190_0000_0000_0001)),
        (0x0190_0000_0000_0001, PERP, "account_id", 0x0190_0000_0000_0001),
    ],
)
def test_position_accounts_guards(
    account_id: object, contract: object, field: str, value: object
) -> None:
    with pytest.raises(InvalidValue) as error:
        plan_position_accounts(account_id, contract)  # type: ignore[arg-type]
    assert (error.value.field, error.value.value) == (field, value)


def test_contract_system_accounts_are_exact() -> None:
    contract = ContractId.new(ProductId(1003), ContractDate(20270101))
    expected = []
    for system in (SYSTEM_ACCOUNTS.AX_PNL, SYSTEM_ACCOUNTS.AX_SETTLEMENT):
        qty = derive_tb_account_id(system, contract)
        expected += [
            LedgerAccount(
                id=qty,
                ledger=1003,
                code=LedgerAccountCode.QTY,
                flags=AccountFlags.LINKED,
                user_data_32=20270101,
            ),
            LedgerAccount(
                id=qty + 1,
                ledger=1004,
                code=LedgerAccountCode.BASIS,
                flags=AccountFlags.LINKED,
                user_data_32=20270101,
            ),
        ]
    expected[-1] = attrs.evolve(expected[-1], flags=AccountFlags.NONE)
    assert plan_contract_system_accounts(contract) == expected


def test_system_usd_accounts_are_exact_and_never_carry_the_overdraft_flag() -> None:
    systems = system_accounts()
    planned = plan_system_usd_accounts(systems)
    assert planned == [
        LedgerAccount(
            id=derive_tb_usd_account_id(a.account_id),
            ledger=1,
            code=LedgerAccountCode.USD,
            flags=AccountFlags.LINKED if i < len(systems) - 1 else AccountFlags.NONE,
        )
        for i, a in enumerate(systems)
    ]


def test_system_usd_accounts_refuse_a_customer() -> None:
    with pytest.raises(InvalidValue) as error:
        plan_system_usd_accounts([*system_accounts(), BUYER])
    assert (error.value.field, error.value.value) == ("system_accounts", str(BUYER.account_id))


# ---------------------------------------------------------------------------- delist fence


def _row(tb_id: int, ledger: int, net: int = 0) -> LedgerAccount:
    return LedgerAccount(
        id=tb_id,
        ledger=ledger,
        code=2,
        user_data_32=DATED.date.value,
        credits_posted=max(net, 0),
        debits_posted=max(-net, 0),
    )


def test_delist_fence_blocks_accounts_not_of_this_contract() -> None:
    buyer = BUYER.account_id
    qty_id = derive_tb_account_id(buyer, DATED)
    basis_id = derive_tb_basis_account_id(buyer, DATED)
    other_id = derive_tb_account_id(buyer, PERP)
    fence = delist_fence(
        DATED,
        qty_accounts=[_row(qty_id, 1001), _row(basis_id, 1002), _row(other_id, 1001)],
        basis_accounts=[_row(basis_id, 1002), _row(qty_id, 1001)],
        resting_orders=[],
    )
    assert fence.blockers == (
        f"account {basis_id:#x} is not of {DATED}",
        f"account {other_id:#x} is not of {DATED}",
        f"account {qty_id:#x} is not of {DATED}",
    )
    assert not fence.allowed


def test_delist_fence_names_each_open_position() -> None:
    buyer, seller = BUYER.account_id, SELLER.account_id
    fence = delist_fence(
        DATED,
        qty_accounts=[
            _row(derive_tb_account_id(buyer, DATED), 1001, 3),
            _row(derive_tb_account_id(seller, DATED), 1001, -3),
        ],
        basis_accounts=[_row(derive_tb_basis_account_id(seller, DATED), 1002, -9)],
        resting_orders=[],
    )
    assert fence.blockers == (
        f"qty of {buyer} is 3",
        f"qty of {seller} is -3",
        f"basis of {seller} is -9",
    )


def test_delist_fence_refuses_usd() -> None:
    with pytest.raises(InvalidValue) as error:
        delist_fence(ContractId.usd(), qty_accounts=[], basis_accounts=[], resting_orders=[])
    assert (error.value.field, error.value.value) == ("contract", 1)


# --------------------------------------------------------------- transfer id uniqueness


def test_require_transfer_ids_unique_accepts_a_planned_batch() -> None:
    batch = _fill(_side(BUYER), _side(SELLER), 2)
    assert len(batch) > 1
    assert require_transfer_ids_unique(batch) is None


def test_require_transfer_ids_unique_refuses_a_repeated_id() -> None:
    # An id source that repeats (a caller bug) yields a batch the ledger would refuse whole.
    batch = plan_fill(
        buy=_side(BUYER),
        sell=_side(SELLER),
        qty_lots=2,
        price_micro_usd=1_000_000,
        timestamp_ns=1,
        transfer_ids=itertools.cycle([100, 101]),
    )
    assert [t.id for t in batch] == [100, 101, 100]
    with pytest.raises(Conflict) as error:
        require_transfer_ids_unique(batch)
    assert (error.value.field, error.value.value) == ("id", 100)
    assert isinstance(error.value, DomainError)


def test_require_transfer_ids_unique_accepts_empty_and_single() -> None:
    assert require_transfer_ids_unique([]) is None
    single = plan_deposit(account=BUYER, amount_micro_usd=1, timestamp_ns=1, transfer_ids=_ids())
    assert require_transfer_ids_unique(single) is None


# ------------------------------------------------- every planner guard: field, value, text


def _funding(**overrides: object) -> list[Transfer]:
    fields: dict[str, object] = {
        "contract": PERP,
        "positions": {BUYER.account_id: 1},
        "mark_price_micro_usd": 1,
        "funding_rate_ppb": 1,
        "timestamp_ns": 1,
        "transfer_ids": _ids(),
    }
    fields.update(overrides)
    return plan_funding(**fields)  # type: ignore[arg-type]


def _settle(**overrides: object) -> list[Transfer]:
    fields: dict[str, object] = {
        "contract": DATED,
        "settlement_price_micro_usd": 1,
        "positions": {BUYER.account_id: Position(1, 1), SELLER.account_id: Position(-1, -1)},
        "timestamp_ns": 1,
        "transfer_ids": _ids(),
    }
    fields.update(overrides)
    return plan_settlement(**fields)  # type: ignore[arg-type]


def _fill_with(**overrides: object) -> list[Transfer]:
    fields: dict[str, object] = {
        "buy": _side(BUYER),
        "sell": _side(SELLER),
        "qty_lots": 1,
        "price_micro_usd": 1,
        "timestamp_ns": 1,
        "transfer_ids": _ids(),
    }
    fields.update(overrides)
    return plan_fill(**fields)  # type: ignore[arg-type]


SHORT_HUGE = Position(-1, -(1 << 128))
WRONG_SIGN = Position(1, -((1 << 128) - 10))
U64_MAX = (1 << 64) - 1
BUYER_ID, SELLER_ID = str(BUYER.account_id), str(SELLER.account_id)
PLANNER_ERRORS: list[tuple[str, object, str, object, str]] = [
    ("fill_qty", lambda: _fill_with(qty_lots=0), "qty_lots", 0,
     "must be in [1, 18446744073709551615]"),
    ("fill_price", lambda: _fill_with(price_micro_usd=0), "price_micro_usd", 0,
     "must be in [1, 18446744073709551615]"),
    ("fill_contract_type", lambda: _fill_with(buy=FillSide(BUYER, 1001, Position(), True)),  # type: ignore[arg-type]
     "contract", 1001, "must be a ContractId"),
    ("fill_usd", lambda: _fill_with(buy=FillSide(BUYER, ContractId.usd(), Position(), True)),
     "contract", 1, "USD is not a tradable contract"),
    ("fill_sell_contract", lambda: _fill_with(sell=FillSide(SELLER, DATED, Position(), False)),
     "sell.contract", DATED.value, f"must equal buy.contract {PERP.value}"),
    ("fill_self", lambda: _fill_with(sell=_side(BUYER)), "sell.account_id", BUYER_ID,
     "same as buyer"),
    ("fill_buy_system", lambda: _fill_with(buy=_side(system_accounts()[1])), "buy.account",
     SYSTEM_ACCOUNTS.AX_FEES, "must be a customer account"),
    ("fill_buy_frozen", lambda: _fill_with(buy=_side(attrs.evolve(BUYER, is_frozen=True))),
     "buy.account.is_frozen", True, "a frozen account cannot fill"),
    ("fill_basis_overflow", lambda: _fill_with(buy=FillSide(BUYER, PERP, SHORT_HUGE, True)),
     "basis_change_micro_usd", 1 << 128, "does not fit a u128 transfer amount"),
    # Only a position whose basis has the wrong sign (P2 broken) can overflow the PnL leg.
    ("fill_pnl_overflow", lambda: _fill_with(sell=FillSide(SELLER, PERP, WRONG_SIGN, False),
     qty_lots=2, price_micro_usd=U64_MAX), "realized_pnl_micro_usd",
     U64_MAX + (1 << 128) - 10, "does not fit a u128 transfer amount"),
    ("deposit_system", lambda: plan_deposit(account=system_accounts()[0], amount_micro_usd=1,
     timestamp_ns=1, transfer_ids=_ids()), "account", SYSTEM_ACCOUNTS.AX_PNL,
     "must be a customer account"),
    ("withdrawal_amount", lambda: plan_withdrawal(account=BUYER, amount_micro_usd=0,
     timestamp_ns=1, transfer_ids=_ids()), "amount_micro_usd", 0,
     "must be in [1, 340282366920938463463374607431768211455]"),
    ("funding_dated", lambda: _funding(contract=DATED), "contract", DATED.value,
     "funding applies to perpetuals only"),
    ("funding_usd", lambda: _funding(contract=ContractId.usd()), "contract", 1,
     "USD is not a tradable contract"),
    ("funding_mark", lambda: _funding(mark_price_micro_usd=0), "mark_price_micro_usd", 0,
     "must be in [1, 18446744073709551615]"),
    ("funding_rate", lambda: _funding(funding_rate_ppb=10**9 + 1), "funding_rate_ppb", 10**9 + 1,
     "must be in [-1000000000, 1000000000]"),
    ("funding_system", lambda: _funding(positions={SYSTEM_ACCOUNTS.AX_FEES: 1}), "positions",
     str(SYSTEM_ACCOUNTS.AX_FEES), "system accounts pay no funding"),
    ("funding_qty", lambda: _funding(positions={BUYER.account_id: 1 << 64}),
     f"positions[{BUYER_ID}]", 1 << 64,
     "must be in [-18446744073709551615, 18446744073709551615]"),
    ("settle_perp", lambda: _settle(contract=PERP), "contract", PERP.value,
     "a perpetual has no expiry settlement"),
    ("settle_price", lambda: _settle(settlement_price_micro_usd=0), "settlement_price_micro_usd",
     0, "must be in [1, 18446744073709551615]"),
    ("settle_system", lambda: _settle(positions={SYSTEM_ACCOUNTS.AX_PNL: Position(1, 1)}),
     "positions", str(SYSTEM_ACCOUNTS.AX_PNL), "only customer positions settle"),
    ("settle_disagree", lambda: _settle(positions={BUYER.account_id: Position(1, -1)}),
     f"positions[{BUYER_ID}]", Position(1, -1), "qty and basis disagree"),
    ("settle_flat_qty", lambda: _settle(positions={BUYER.account_id: Position(0, 3)}),
     f"positions[{BUYER_ID}]", Position(0, 3), "qty and basis disagree"),
    ("settle_pnl_overflow", lambda: _settle(positions={BUYER.account_id: Position(1, 1 << 129),
     SELLER.account_id: Position(-1, -1)}), "realized_pnl_micro_usd", 1 - (1 << 129),
     "does not fit a u128 transfer amount"),
    ("settle_not_all", lambda: _settle(positions={BUYER.account_id: Position(2, 2)}),
     "positions", 2, "net qty must be 0: list every holder"),
    ("position_accounts_id", lambda: plan_position_accounts(7, PERP), "account_id", 7,  # type: ignore[arg-type]
     "must be an AccountId"),
    ("system_usd_customer", lambda: plan_system_usd_accounts([SELLER]), "system_accounts",
     SELLER_ID, "is a customer"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "field", "value", "problem"),
    [case[1:] for case in PLANNER_ERRORS],
    ids=[case[0] for case in PLANNER_ERRORS],
)
def test_every_planner_guard_names_field_value_and_problem(
    call: Callable[[], object], field: str, value: object, problem: str
) -> None:
    with pytest.raises(InvalidValue) as error:
        call()
    assert (error.value.field, error.value.value, error.value.problem) == (field, value, problem)


def test_require_delistable_joins_every_blocker() -> None:
    fence = delist_fence(
        DATED,
        qty_accounts=[_row(derive_tb_account_id(BUYER.account_id, DATED), 1001, 2)],
        basis_accounts=[_row(derive_tb_basis_account_id(BUYER.account_id, DATED), 1002, 5)],
        resting_orders=[],
    )
    from axdomain.ledger.planners import require_delistable

    with pytest.raises(Conflict) as error:
        require_delistable(fence)
    assert (error.value.field, error.value.value) == ("contract", DATED.value)
    assert error.value.problem == f"qty of {BUYER_ID} is 2; basis of {BUYER_ID} is 5"


def test_repeated_transfer_id_problem_text() -> None:
    batch = plan_fill(
        buy=_side(BUYER),
        sell=_side(SELLER),
        qty_lots=2,
        price_micro_usd=1_000_000,
        timestamp_ns=1,
        transfer_ids=itertools.repeat(5),
    )
    with pytest.raises(Conflict) as error:
        require_transfer_ids_unique(batch)
    assert error.value.problem == "transfer id used twice in one batch"


# ------------------------------------------------------- whole batches, field by field


def test_dated_closing_fill_is_exactly_spec_section_6() -> None:
    # Buyer (maker, -1 bp rebate) is short 10 at basis -20.0 and buys 4 back at 1.5;
    # the seller (taker, 7 bp) opens short 4. Worked by hand from SPEC section 6:
    # buyer released = -20_000_000 * 4 / 10 = -8_000_000, basis change +8_000_000,
    # pnl -1.5*4 + 8.0 = +2_000_000, fee -600; seller basis change -6_000_000, fee 4_200.
    buyer = customer(0, maker_bps=-1, taker_bps=5)
    seller = customer(1, maker_bps=2, taker_bps=7)
    batch = plan_fill(
        buy=FillSide(buyer, DATED, Position(-10, -20_000_000), is_maker=True),
        sell=FillSide(seller, DATED, Position(), is_maker=False),
        qty_lots=4,
        price_micro_usd=1_500_000,
        timestamp_ns=42,
        transfer_ids=_ids(),
    )
    b, s = buyer.account_id, seller.account_id
    pnl, fees = SYSTEM_ACCOUNTS.AX_PNL, SYSTEM_ACCOUNTS.AX_FEES
    udata = pack_price_qty(1_500_000, 4)
    legs = [
        (derive_tb_account_id(s, DATED), derive_tb_account_id(b, DATED), 4, 1001, 1),
        (derive_tb_basis_account_id(pnl, DATED), derive_tb_basis_account_id(b, DATED),
         8_000_000, 1002, 2),
        (derive_tb_usd_account_id(pnl), derive_tb_usd_account_id(b), 2_000_000, 1, 3),
        (derive_tb_usd_account_id(fees), derive_tb_usd_account_id(b), 600, 1, 4),
        (derive_tb_basis_account_id(s, DATED), derive_tb_basis_account_id(pnl, DATED),
         6_000_000, 1002, 2),
        (derive_tb_usd_account_id(s), derive_tb_usd_account_id(fees), 4_200, 1, 4),
    ]  # fmt: skip
    assert batch == [
        Transfer(
            id=100 + index,
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            ledger=ledger,
            code=code,
            flags=TransferFlags.LINKED if index < len(legs) - 1 else TransferFlags.NONE,
            user_data_128=udata,
            user_data_64=42,
            user_data_32=20260130,
        )
        for index, (debit, credit, amount, ledger, code) in enumerate(legs)
    ]


def test_settlement_batch_is_exact_and_sorted_by_account() -> None:
    buyer, seller = BUYER.account_id, SELLER.account_id
    batch = plan_settlement(
        contract=DATED,
        settlement_price_micro_usd=3,
        positions={
            seller: Position(-2, -4),
            SYSTEM_ACCOUNTS.AX_SETTLEMENT: Position(),
            buyer: Position(2, 5),
        },
        timestamp_ns=9,
        transfer_ids=_ids(),
    )
    pnl, settlement = SYSTEM_ACCOUNTS.AX_PNL, SYSTEM_ACCOUNTS.AX_SETTLEMENT
    legs = [
        # buyer (2, 5): qty -2, pnl 3*2 - 5 = 1, basis reset -5
        (derive_tb_account_id(buyer, DATED), derive_tb_account_id(settlement, DATED), 2, 1001, 8,
         pack_price_qty(3, 2)),
        (derive_tb_usd_account_id(pnl), derive_tb_usd_account_id(buyer), 1, 1, 3,
         pack_price_qty(3, 2)),
        (derive_tb_basis_account_id(buyer, DATED), derive_tb_basis_account_id(pnl, DATED), 5,
         1002, 9, pack_price_qty(3, 2)),
        # seller (-2, -4): qty +2, pnl -6 + 4 = -2, basis reset +4
        (derive_tb_account_id(settlement, DATED), derive_tb_account_id(seller, DATED), 2, 1001, 8,
         pack_price_qty(3, 2)),
        (derive_tb_usd_account_id(seller), derive_tb_usd_account_id(pnl), 2, 1, 3,
         pack_price_qty(3, 2)),
        (derive_tb_basis_account_id(pnl, DATED), derive_tb_basis_account_id(seller, DATED), 4,
         1002, 9, pack_price_qty(3, 2)),
    ]  # fmt: skip
    assert batch == [
        Transfer(
            id=100 + index,
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            ledger=ledger,
            code=code,
            # one linked chain per holder: legs 0-2 and 3-5, each closed by an unlinked leg
            flags=TransferFlags.NONE if index % 3 == 2 else TransferFlags.LINKED,
            user_data_128=udata,
            user_data_64=9,
            user_data_32=20260130,
        )
        for index, (debit, credit, amount, ledger, code, udata) in enumerate(legs)
    ]


def test_funding_legs_follow_account_order_not_insertion_order() -> None:
    batch = plan_funding(
        contract=PERP,
        positions={SELLER.account_id: -2, BUYER.account_id: 2},
        mark_price_micro_usd=1_000_000,
        funding_rate_ppb=500_000_000,
        timestamp_ns=3,
        transfer_ids=_ids(),
    )
    funding = derive_tb_usd_account_id(SYSTEM_ACCOUNTS.AX_FUNDING)
    assert [
        (t.debit_account_id, t.credit_account_id, t.amount, t.user_data_128) for t in batch
    ] == [
        (
            derive_tb_usd_account_id(BUYER.account_id),
            funding,
            1_000_000,
            pack_price_qty(1_000_000, 2),
        ),
        (
            funding,
            derive_tb_usd_account_id(SELLER.account_id),
            1_000_000,
            pack_price_qty(1_000_000, 2),
        ),
    ]
    assert {(t.ledger, t.code, t.user_data_32, t.user_data_64) for t in batch} == {(1, 7, 0, 3)}


def test_delist_fence_ignores_orders_of_other_contracts_and_finished_ones() -> None:
    assert BUYER.ubo_user_id is not None
    order = Order(
        order_id=9,
        account_id=BUYER.account_id,
        user_id=BUYER.ubo_user_id,
        client_order_id="x",
        contract=PERP,
        side=Side.BUY,
        qty_lots=1,
        limit_price_micro_usd=1,
        time_in_force=TimeInForce.GTC,
        created_at_ns=1,
    )
    fence = delist_fence(DATED, qty_accounts=[], basis_accounts=[], resting_orders=[order])
    assert fence.allowed
    on_dated = attrs.evolve(order, contract=DATED)
    assert delist_fence(
        DATED, qty_accounts=[], basis_accounts=[], resting_orders=[on_dated]
    ).blockers == ("order 9 rests",)
    cancelled = attrs.evolve(on_dated, status=OrderStatus.CANCELLED)
    assert delist_fence(
        DATED, qty_accounts=[], basis_accounts=[], resting_orders=[cancelled]
    ).allowed


def test_require_transfer_ids_unique_names_a_corrupt_id() -> None:
    (transfer,) = plan_deposit(
        account=BUYER, amount_micro_usd=1, timestamp_ns=1, transfer_ids=_ids()
    )
    object.__setattr__(transfer, "id", True)  # past the validator, as corrupt input would be
    with pytest.raises(InvalidValue) as error:
        require_transfer_ids_unique([transfer])
    assert (error.value.field, error.value.value, error.value.problem) == (
        "id",
        True,
        "must be an int",
    )


def test_a_leg_of_exactly_u128_max_is_accepted() -> None:
    u128_max = (1 << 128) - 1
    batch = _fill_with(buy=FillSide(BUYER, PERP, Position(-1, -u128_max), True), price_micro_usd=1)
    basis = [t for t in batch if t.code == TransferCode.TRADE_BASIS]
    assert basis[0].amount == u128_max
    assert basis[0].credit_account_id == derive_tb_basis_account_id(BUYER.account_id, PERP)
