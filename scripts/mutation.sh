#!/usr/bin/env bash
# Mutation testing of the domain: mutmut mutates src/axdomain, the fast suites (tests/unit +
# tests/property) must kill each mutant. Slow (see docs/testing.md), so never part of CI.
#
#   bash scripts/mutation.sh                     # every module of src/axdomain
#   bash scripts/mutation.sh ids ledger/invariants axdomain.contracts
#
# One module at a time, one worker (MUTATION_WORKERS to change it), then a per-module table.
# MUTATION_KEEP=1 keeps mutants/ from an earlier run (to add modules to it); by default it is
# deleted first. Do not edit src/ or tests/ during a run: each module's run copies them anew.
# Surviving mutants: `.venv/bin/mutmut results` and `.venv/bin/mutmut show NAME` (run from
# the repository root, while mutants/ from the last run is still there).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh dev,mutation
bin="$root/.venv/bin"
workers="${MUTATION_WORKERS:-1}"
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-mutation}"

to_module() {  # ids | ledger/invariants | axdomain.ledger.invariants | src/axdomain/x.py
  local name="${1#src/}"
  name="${name%.py}"
  name="${name//\//.}"
  name="${name#axdomain.}"
  echo "axdomain.${name}"
}

modules=()
if [ "$#" -eq 0 ]; then
  while IFS= read -r path; do
    modules+=("$(to_module "$path")")
  done < <(cd src && find axdomain -name '*.py' | sort)
else
  for name in "$@"; do modules+=("$(to_module "$name")"); done
fi

# mutmut copies src/ and tests/ into mutants/ only when missing: start clean so a run always
# judges the current code and tests.
if [ "${MUTATION_KEEP:-0}" != 1 ]; then
  rm -rf mutants
fi
mkdir -p mutants/logs
touch mutants/survivors.txt
rows=()
failed=()
started=$SECONDS
for module in "${modules[@]}"; do
  path="src/${module//.//}.py"
  if [ ! -f "$path" ]; then
    echo "no such module: $module ($path)" >&2
    exit 2
  fi
  if ! "$bin/python" scripts/mutation_table.py has-mutants "$module"; then
    echo "== $module: nothing to mutate"
    continue
  fi
  echo "== $module"
  began=$SECONDS
  if ! "$bin/mutmut" run --max-children "$workers" "${module}.*" >"mutants/logs/${module}.log" 2>&1; then
    tail -n 30 "mutants/logs/${module}.log" >&2
    echo "mutmut failed on $module (log: mutants/logs/${module}.log)" >&2
    failed+=("$module")
    continue
  fi
  rows+=("${module}=$((SECONDS - began))")
  grep -vF "    ${module}.x" mutants/survivors.txt >mutants/survivors.tmp || true
  "$bin/mutmut" results 2>/dev/null | grep -F "    ${module}.x" >>mutants/survivors.tmp || true
  mv mutants/survivors.tmp mutants/survivors.txt
done
echo
"$bin/python" scripts/mutation_table.py table "${rows[@]}"
echo "wall time: $((SECONDS - started)) s with ${workers} worker(s)"
echo "not killed: $(grep -c . mutants/survivors.txt || true) (mutants/survivors.txt; diff: $bin/mutmut show NAME)"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "mutmut failed on: ${failed[*]}" >&2
  exit 1
fi
