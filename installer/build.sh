#!/bin/sh
# Build dist/hullwatch/ (the one-folder desktop bundle) and run its self-test.
# Usage: installer/build.sh [--dist DIR] [--work DIR] [--no-self-test]
# Uses the repository's .venv (HULLWATCH_PYTHON overrides); installs PyInstaller if missing.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${HULLWATCH_PYTHON:-"$ROOT/.venv/bin/python"}
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    "$PY" -m pip install "pyinstaller==6.22.3"
fi
exec "$PY" "$ROOT/installer/build.py" "$@"
