"""The source-reading tests see the authored code, during a mutation run and outside it."""

from __future__ import annotations

import ast
from pathlib import Path

import axdomain
from tests.source_scan import authored_file, authored_tree

MUTATED = """
from __future__ import annotations
import attrs
from mutmut.mutation.trampoline import wrap_in_trampoline as _mutmut_mutated, MutantDict
mutants_x_half__mutmut: MutantDict = {}  # type: ignore


@_mutmut_mutated(mutants_x_half__mutmut)
def half(n: int) -> int:
    return n // 2


def x_half__mutmut_orig(n: int) -> int:
    return n // 2


def x_half__mutmut_1(n: int) -> int:
    return n / 2


class Box:
    def size(self) -> int:
        return 1

    def xǁBoxǁsize__mutmut_orig(self) -> int:
        return 1

    def xǁBoxǁsize__mutmut_1(self) -> float:
        import math
        return math.pi
"""


def _names(tree: ast.AST) -> set[str]:
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_mutants_and_the_trampoline_import_are_dropped() -> None:
    tree = authored_tree(MUTATED)
    assert _names(tree) == {"half", "x_half__mutmut_orig", "Box", "size", "xǁBoxǁsize__mutmut_orig"}
    assert _imports(tree) == {"__future__", "attrs"}
    assert not any(isinstance(n, ast.Div) for n in ast.walk(tree))
    assert sum(isinstance(n, ast.FloorDiv) for n in ast.walk(tree)) == 2


def test_without_the_trampoline_import_nothing_is_dropped() -> None:
    source = MUTATED.replace("from mutmut.mutation.trampoline import", "from elsewhere import")
    assert ast.dump(authored_tree(source)) == ast.dump(ast.parse(source))
    assert "x_half__mutmut_1" in _names(authored_tree(source))


def test_an_unmutated_domain_file_is_read_verbatim() -> None:
    path = Path(axdomain.__file__).parent / "permissions.py"
    tree = authored_file(path)
    assert "Permissions" in _names(tree)
    if "mutmut" not in path.read_text(encoding="utf-8"):
        assert ast.dump(tree) == ast.dump(ast.parse(path.read_text(encoding="utf-8")))
