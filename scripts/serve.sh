#!/usr/bin/env bash
# Fresh machine to a running `ax serve` on embedded defaults (127.0.0.1:8080 unless told).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh" embedded
exec "$root/.venv/bin/ax" serve "$@"
