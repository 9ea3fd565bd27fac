#!/usr/bin/env bash
# Creates (or reuses) the project's virtual environment in .venv and installs the package
# with the given extras. Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
extras="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -x "$root/.venv/bin/python" ]; then
  python3 -m venv "$root/.venv"
fi
"$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[$extras]"
