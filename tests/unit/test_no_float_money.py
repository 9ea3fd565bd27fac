"""No float can enter a money path: the ledger package and the id/contract codecs contain
no float literal, no ``float(...)``, no true division, no ``math``/``decimal`` import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import axdomain
from axdomain.ledger.position import Position, div_toward_zero, fill_effect
from tests.source_scan import authored_file

PACKAGE = Path(axdomain.__file__).parent
MONEY_MODULES = sorted(
    [*(PACKAGE / "ledger").glob("*.py"), PACKAGE / "ledger_ids.py", PACKAGE / "contracts.py"]
)


def _float_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, float | complex):
            found.append(f"line {node.lineno}: float literal {node.value!r}")
        elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Div):
            found.append(f"line {node.lineno}: true division")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in {"float", "round", "complex"}:
                found.append(f"line {node.lineno}: {node.func.id}()")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(
                n.split(".")[0] in {"math", "decimal", "fractions", "statistics"} for n in names
            ):
                found.append(f"line {node.lineno}: imports {names}")
    return found


def test_the_scanner_catches_each_pattern() -> None:
    bad = "import math\nx = 1.5\ny = a / b\nz = float(3)\nw = round(q)\nv /= 2\n"
    assert len(_float_uses(ast.parse(bad))) == 6


@pytest.mark.parametrize("path", MONEY_MODULES, ids=lambda p: p.name)
def test_money_module_has_no_float(path: Path) -> None:
    assert _float_uses(authored_file(path)) == []


def test_the_scan_covers_the_planners_and_invariants() -> None:
    names = {p.name for p in MONEY_MODULES}
    assert {"planners.py", "invariants.py", "risk.py", "position.py", "events.py"} <= names


@given(
    q0=st.integers(-(10**9), 10**9),
    d=st.integers(-(10**9), 10**9).filter(bool),
    price=st.integers(1, 10**12),
    basis_per_lot=st.integers(1, 10**12),
)
def test_fill_arithmetic_is_exact_integers(q0: int, d: int, price: int, basis_per_lot: int) -> None:
    before = Position(q0, q0 * basis_per_lot)
    effect = fill_effect(before, d, price)
    values = attrs_values(effect)
    assert all(type(v) is int for v in values)
    # The books balance exactly: basis change - pnl == p * d, no rounding anywhere.
    assert effect.basis_change_micro_usd - effect.realized_pnl_micro_usd == price * d
    assert abs(effect.released_basis_micro_usd) <= abs(before.basis_micro_usd)


@given(st.integers(-(10**30), 10**30), st.integers(-(10**12), 10**12).filter(bool))
def test_div_toward_zero_matches_exact_rational(n: int, m: int) -> None:
    q = div_toward_zero(n, m)
    assert type(q) is int
    assert abs(q * m) <= abs(n) < abs(q * m) + abs(m)
    assert q == 0 or (q > 0) == ((n > 0) == (m > 0))


def attrs_values(value: object) -> list[object]:
    import attrs

    return list(attrs.astuple(value))  # type: ignore[arg-type]
