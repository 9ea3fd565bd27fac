"""Import cost: ``import axdomain`` and friends, each in a fresh interpreter.

For each statement prints the best of several runs of (a) ``-X importtime``'s cumulative
time of the modules the statement imports beyond those every interpreter imports at start
and (b) the wall time of the whole process, next to the floor measured in the same run: an
interpreter that runs ``pass``. Figures only.

    .venv/bin/python bench/bench_import.py
"""

from __future__ import annotations

import subprocess
import sys
import time

RUNS = 7
STARTUP = frozenset({"site", "encodings", "_distutils_hack", "_frozen_importlib_external"})
STATEMENTS = (
    ("pass", "floor: the interpreter alone"),
    ("import attrs", "attrs (every value type needs it)"),
    ("import axdomain", "the package (names load on first use)"),
    ("from axdomain import AccountId, ContractId", "two value types"),
    ("import axdomain; [getattr(axdomain, n) for n in axdomain.__all__]", "every public name"),
    ("import axadapters.sql", "SQL adapters (Alembic not imported)"),
    ("import axadapters.sql.migrate as m; m.alembic_config()", "SQL adapters + Alembic"),
)


def import_us(statement: str) -> int:
    """Sum of ``-X importtime`` cumulative figures of the top-level imports (µs), without
    the interpreter's own start-up imports (``site`` and what it pulls in)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        top_level = not name.startswith("  ")
        if cumulative.strip().isdigit() and top_level and name.strip() not in STARTUP:
            total += int(cumulative)
    return total


def wall_ms(statement: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    print(f"best of {RUNS} fresh interpreters")
    print(f"  {'what':<40} {'imports ms':>10} {'process ms':>10}")
    for statement, label in STATEMENTS:
        imports = min(import_us(statement) for _ in range(RUNS)) / 1000
        process = min(wall_ms(statement) for _ in range(RUNS))
        print(f"  {label:<40} {imports:>10.1f} {process:>10.1f}")


if __name__ == "__main__":
    main()
