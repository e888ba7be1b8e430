#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite (under a virtual X display when one
# is available, so GUI and 3D tests run as on a desktop). Extra arguments go to pytest.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/setup.sh"
cd "$REPO"
# Libraries that write to $HOME (ultralytics, OpenVINO, matplotlib) get a private one.
export HULLWATCH_TEST_HOME="${HULLWATCH_TEST_HOME:-$(mktemp -d)}"
cmd=("$REPO/.venv/bin/python" -m pytest "$@")
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  exec xvfb-run -a -s "-screen 0 1920x1200x24" "${cmd[@]}"
fi
exec "${cmd[@]}"
