#!/usr/bin/env bash
# Fresh machine to a running `ax demo` on embedded defaults (no server needed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh" embedded
exec "$root/.venv/bin/ax" demo "$@"
