"""Parse a domain source file as its author wrote it, even while mutmut has rewritten it.

During a mutation run (scripts/mutation.sh) every function of ``src/axdomain`` sits next to
its mutants (``x_name__mutmut_3``, ``xǁClassǁmethod__mutmut_3``) behind a trampoline that
mutmut imports from itself. The source-reading tests must judge the original code, not the
mutants (a mutant may well contain a ``/``): ``authored_tree`` drops exactly those generated
nodes and keeps everything else, including mutmut's ``_orig`` copy of each function. A file
without mutmut's trampoline import is returned exactly as parsed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

MUTANT_FUNCTION = re.compile(r"x(?:_|ǁ[^ǁ]+ǁ).+__mutmut_\d+")
TRAMPOLINE_MODULE = "mutmut.mutation.trampoline"


def is_mutmut_generated(node: ast.AST) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return MUTANT_FUNCTION.fullmatch(node.name) is not None
    return isinstance(node, ast.ImportFrom) and node.module == TRAMPOLINE_MODULE


class _DropGenerated(ast.NodeTransformer):
    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and any(isinstance(v, ast.stmt) for v in value):
                kept = [v for v in value if not is_mutmut_generated(v)]
                setattr(node, name, kept or [ast.Pass()])
        return super().generic_visit(node)


def authored_tree(source: str, filename: str = "<source>") -> ast.Module:
    tree = ast.parse(source, filename)
    if not any(is_mutmut_generated(node) for node in tree.body if isinstance(node, ast.ImportFrom)):
        return tree
    result = _DropGenerated().visit(tree)
    assert isinstance(result, ast.Module)
    return result


def authored_file(path: Path) -> ast.Module:
    return authored_tree(path.read_text(encoding="utf-8"), str(path))
