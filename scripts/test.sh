#!/usr/bin/env bash
# Fresh machine to the whole suite: install, then every quality gate and every test.
# Any gate failing fails the run; pytest's own exit code (5 = no test ran) is kept.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh dev
bin="$root/.venv/bin"
echo "== ruff check";          "$bin/ruff" check src tests bench
echo "== ruff format --check"; "$bin/ruff" format --check src tests bench
echo "== mypy --strict";       "$bin/mypy" --strict
echo "== import-linter";       "$bin/lint-imports"
echo "== pytest"
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
exec "$bin/python" -m pytest "$@"
