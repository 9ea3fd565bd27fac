"""Per-module table of a mutmut run, read from mutmut's own result files under ``mutants/``.

Used by scripts/mutation.sh; runs with the project's virtual environment (mutmut installed).
``has-mutants MODULE`` exits 0 when mutmut generated (or, before its first run, could
generate) a mutant in the dotted module; ``table MODULE[=SECONDS] ...`` prints the table.
"""

from __future__ import annotations

import ast
import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

MUTANTS = Path("mutants")
COLUMNS = ("generated", "killed", "survived", "no tests", "timeout", "other")


def _source(module: str) -> Path:
    return Path("src", *module.split(".")).with_suffix(".py")


def has_mutants(module: str) -> bool:
    meta = MUTANTS / f"{_source(module)}.meta"
    if meta.exists():
        return bool(json.loads(meta.read_text())["exit_code_by_key"])
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(tree))


def counts(module: str) -> Counter[str]:
    meta = MUTANTS / f"{_source(module)}.meta"
    found: Counter[str] = Counter()
    if not meta.exists():
        return found
    for exit_code in json.loads(meta.read_text())["exit_code_by_key"].values():
        status = status_by_exit_code[exit_code]
        found["generated"] += 1
        found[status if status in COLUMNS else "other"] += 1
    return found


def score(found: Counter[str]) -> str:
    """Killed (or timed out) over every mutant; an untested mutant counts as a survivor."""
    if not found["generated"]:
        return "-"
    return f"{100 * (found['killed'] + found['timeout']) / found['generated']:.1f} %"


def table(arguments: list[str]) -> None:
    header = ("module", *COLUMNS, "score", "seconds")
    rows = []
    total: Counter[str] = Counter()
    seconds_total = 0
    for argument in arguments:
        module, _, seconds = argument.partition("=")
        found = counts(module)
        total += found
        seconds_total += int(seconds or 0)
        rows.append((module, *(str(found[c]) for c in COLUMNS), score(found), seconds or "-"))
    rows.append(("TOTAL", *(str(total[c]) for c in COLUMNS), score(total), str(seconds_total)))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        numbers = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in numbers]
        print(" | ".join(cells))


def main(argv: list[str]) -> int:
    if argv[:1] == ["has-mutants"] and len(argv) == 2:
        return 0 if has_mutants(argv[1]) else 1
    if argv[:1] == ["table"]:
        table(argv[1:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
