"""A whitelist check that complements import-linter's blacklist: axdomain imports only the
standard library, attrs and itself, so no new third-party dependency can slip in unnamed."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests.source_scan import authored_file

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "axdomain"
ALLOWED = set(sys.stdlib_module_names) | {"attrs", "axdomain", "__future__"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(authored_file(path)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_only_stdlib_and_attrs() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(DOMAIN)): imported_roots(f) - ALLOWED for f in files}
    assert {name: roots for name, roots in offenders.items() if roots} == {}
