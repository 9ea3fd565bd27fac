"""A position (net qty, net basis) and the SPEC §6 fill arithmetic on it, in integers only.

Basis is the signed cost of the open qty in micro-USD (long: positive, short: negative), so
``sign(basis) == sign(qty)`` and ``qty == 0 <=> basis == 0`` hold for every customer
position (invariants P1, P2). Rounding is always toward zero, never Python's floor, so a
short position releases exactly the mirror image of the same long.
"""

from __future__ import annotations

import attrs

from axdomain._checks import require_int


def div_toward_zero(numerator: int, denominator: int) -> int:
    """Integer quotient rounded toward zero (``//`` floors, which is wrong for shorts)."""
    if denominator == 0:
        raise AssertionError("division by zero in a money path")
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def sign(value: int) -> int:
    return (value > 0) - (value < 0)


@attrs.frozen
class Position:
    qty_lots: int = attrs.field(default=0, validator=lambda _, a, v: require_int(a.name, v))
    basis_micro_usd: int = attrs.field(default=0, validator=lambda _, a, v: require_int(a.name, v))

    @property
    def is_flat(self) -> bool:
        return self.qty_lots == 0 and self.basis_micro_usd == 0


@attrs.frozen
class FillEffect:
    """What a signed fill ``d`` does to one side: SPEC §6 verbatim."""

    closing_lots: int  # c: opposite sign to q0, |c| <= |q0|
    opening_lots: int  # o: same sign as d
    released_basis_micro_usd: int
    basis_change_micro_usd: int  # new basis - B0 = -released + p*o
    realized_pnl_micro_usd: int  # -p*c - released


def fill_effect(before: Position, signed_qty_lots: int, price_micro_usd: int) -> FillEffect:
    """Split ``d`` into closing ``c`` and opening ``o`` and price both parts.

    ``released = B0*|c| // |q0|`` toward zero (all of B0 when ``|c| == |q0|``), new basis
    ``B0 - released + p*o``, realized PnL ``-p*c - released``.
    """
    q0, b0, d = before.qty_lots, before.basis_micro_usd, signed_qty_lots
    if d == 0:
        raise AssertionError("a fill moves at least one lot")
    reduces = q0 != 0 and sign(q0) != sign(d)
    closing = (d if abs(d) <= abs(q0) else -q0) if reduces else 0
    opening = d - closing
    if closing == 0:
        released = 0
    elif abs(closing) == abs(q0):
        released = b0
    else:
        released = div_toward_zero(b0 * abs(closing), abs(q0))
    return FillEffect(
        closing_lots=closing,
        opening_lots=opening,
        released_basis_micro_usd=released,
        basis_change_micro_usd=-released + price_micro_usd * opening,
        realized_pnl_micro_usd=-price_micro_usd * closing - released,
    )


def apply_fill(before: Position, signed_qty_lots: int, price_micro_usd: int) -> Position:
    effect = fill_effect(before, signed_qty_lots, price_micro_usd)
    return Position(
        before.qty_lots + signed_qty_lots,
        before.basis_micro_usd + effect.basis_change_micro_usd,
    )
