#!/usr/bin/env bash
# Sets everything up, then runs HullWatch on the embedded world. Extra arguments go to
# `hullwatch` (e.g. `./scripts/run.sh --connect udpin:0.0.0.0:14550`).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/setup.sh"
exec "$REPO/.venv/bin/hullwatch" "$@"
