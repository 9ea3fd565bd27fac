"""Ledger values and the position arithmetic: every width bound on both sides, the derived
balances, and each branch of the SPEC §6 split worked by hand."""

from __future__ import annotations

import attrs
import pytest

from axdomain import InvalidValue
from axdomain.ledger.position import Position, apply_fill, div_toward_zero, fill_effect, sign
from axdomain.ledger.values import (
    AccountFlags,
    LedgerAccount,
    Transfer,
    pack_price_qty,
    unpack_price_qty,
)

U16, U32, U64, U128 = ((1 << bits) - 1 for bits in (16, 32, 64, 128))
ACCOUNT = LedgerAccount(id=1, ledger=1, code=1)
TRANSFER = Transfer(id=1, debit_account_id=2, credit_account_id=3, amount=0, ledger=1, code=1)

BOUNDS = [
    (ACCOUNT, "id", 1, U128),
    (ACCOUNT, "ledger", 1, U32),
    (ACCOUNT, "code", 1, U16),
    (ACCOUNT, "user_data_128", 0, U128),
    (ACCOUNT, "user_data_64", 0, U64),
    (ACCOUNT, "user_data_32", 0, U32),
    (ACCOUNT, "debits_posted", 0, U128),
    (ACCOUNT, "credits_posted", 0, U128),
    (ACCOUNT, "timestamp", 0, U64),
    (ACCOUNT, "debits_pending", 0, U128),
    (ACCOUNT, "credits_pending", 0, U128),
    (TRANSFER, "id", 1, U128),
    (TRANSFER, "debit_account_id", 1, U128),
    (TRANSFER, "credit_account_id", 1, U128),
    (TRANSFER, "amount", 0, U128),
    (TRANSFER, "ledger", 1, U32),
    (TRANSFER, "code", 1, U16),
    (TRANSFER, "user_data_128", 0, U128),
    (TRANSFER, "user_data_64", 0, U64),
    (TRANSFER, "user_data_32", 0, U32),
    (TRANSFER, "timestamp", 0, U64),
    (TRANSFER, "pending_id", 0, U128),
    (TRANSFER, "timeout", 0, U32),
]


@pytest.mark.parametrize(
    ("base", "field", "low", "high"),
    BOUNDS,
    ids=[f"{type(b).__name__}.{f}" for b, f, _, _ in BOUNDS],
)
def test_each_field_accepts_its_range_and_refuses_one_past_it(
    base: object, field: str, low: int, high: int
) -> None:
    for ok in (low, high):
        assert getattr(attrs.evolve(base, **{field: ok}), field) == ok
    for bad in (low - 1, high + 1):
        with pytest.raises(InvalidValue) as raised:
            attrs.evolve(base, **{field: bad})
        assert (raised.value.field, raised.value.value, raised.value.problem) == (
            field,
            bad,
            f"must be in [{low}, {high}]",
        )


def test_account_balances_and_closed_flag() -> None:
    account = attrs.evolve(ACCOUNT, credits_posted=10, debits_posted=3, debits_pending=2)
    assert (account.net, account.available, account.is_closed) == (7, 5, False)
    closed = attrs.evolve(account, flags=AccountFlags.CLOSED | AccountFlags.HISTORY)
    assert closed.is_closed
    assert not attrs.evolve(account, flags=AccountFlags.HISTORY).is_closed


def test_price_and_qty_pack_into_the_two_halves() -> None:
    assert pack_price_qty(U64, U64) == U128
    assert pack_price_qty(3, 5) == (3 << 64) | 5
    assert unpack_price_qty((3 << 64) | 5) == (3, 5)
    assert unpack_price_qty(U128) == (U64, U64)
    assert unpack_price_qty(0) == (0, 0)
    with pytest.raises(InvalidValue) as raised:
        unpack_price_qty(-1)
    assert (raised.value.field, raised.value.problem) == (
        "user_data_128",
        f"must be in [0, {U128}]",
    )
    with pytest.raises(InvalidValue) as price:
        pack_price_qty(U64 + 1, 0)
    assert (price.value.field, price.value.problem) == ("price_micro_usd", f"must be in [0, {U64}]")


@pytest.mark.parametrize(
    ("numerator", "denominator", "quotient"),
    [(7, 2, 3), (-7, 2, -3), (7, -2, -3), (-7, -2, 3), (0, -2, 0), (6, 3, 2), (-6, 3, -2)],
)
def test_division_rounds_toward_zero(numerator: int, denominator: int, quotient: int) -> None:
    assert div_toward_zero(numerator, denominator) == quotient


def test_sign_and_flatness() -> None:
    assert (sign(-3), sign(0), sign(4)) == (-1, 0, 1)
    assert Position().is_flat
    assert not Position(0, 5).is_flat
    assert not Position(5, 0).is_flat


# (position before, fill d at price 10, (closing, opening, released, basis change, pnl))
FILLS = {
    "open": (Position(), 2, (0, 2, 0, 20, 0)),
    "add": (Position(2, 20), 1, (0, 1, 0, 10, 0)),
    # closing exactly releases all of the basis
    "close_exact": (Position(3, 31), -3, (-3, 0, 31, -31, -1)),
    # a partial close releases basis pro rata, toward zero (not floor) on both sides
    "partial_long": (Position(3, 31), -2, (-2, 0, 20, -20, 0)),
    "partial_short": (Position(-3, -31), 2, (2, 0, -20, 20, 0)),
    "flip": (Position(-2, -22), 5, (2, 3, -22, 52, 2)),
}


@pytest.mark.parametrize("case", sorted(FILLS))
def test_fill_effect_by_hand(case: str) -> None:
    before, d, expected = FILLS[case]
    effect = fill_effect(before, d, 10)
    assert (
        effect.closing_lots,
        effect.opening_lots,
        effect.released_basis_micro_usd,
        effect.basis_change_micro_usd,
        effect.realized_pnl_micro_usd,
    ) == expected
    after = apply_fill(before, d, 10)
    assert after == Position(before.qty_lots + d, before.basis_micro_usd + expected[3])
