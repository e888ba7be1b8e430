#!/usr/bin/env bash
# Sets up everything HullWatch needs on a Debian/Ubuntu machine: system libraries for
# Qt/GL/Xvfb, a virtualenv in .venv at the repo root, and the Python packages.
# Idempotent and quick when nothing changed; sourced by run.sh and test.sh.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"

# Debian packages a fresh machine lacks (see README "Set-up"):
#  libusb-1.0-0 (open3d links it), libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0
#  libxkbcommon-x11-0 (Qt xcb platform), libgl1 libegl1 (Qt/GL), libpulse0 (QtMultimedia),
#  libgomp1 (onnxruntime), xvfb + xauth (virtual display for GUI tests), python3-venv,
#  fonts-dejavu-core (the PDF report's font: names in any script; the installer bundles it).
DEB_PACKAGES=(libusb-1.0-0 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
              libgl1 libegl1 libpulse0 libgomp1 xvfb xauth fonts-dejavu-core)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if command -v apt-get >/dev/null 2>&1 && { [ -z "$SUDO" ] || command -v sudo >/dev/null 2>&1; }; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { echo "setup: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
  else
    echo "setup: please install these system packages first: ${missing[*]}" >&2
    exit 1
  fi
fi

PY="${HULLWATCH_PYTHON:-}"
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$c"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "setup: HullWatch needs Python 3.11 (PySide6 6.11 and the torch wheels); set HULLWATCH_PYTHON to one" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV" >&2
  "$PY" -m venv "$VENV" || { echo "setup: python venv failed; on Debian install python3-venv" >&2; exit 1; }
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
fi

# The training extra (ultralytics + torch, ~6 GB, ~1-2 min from the local wheels) comes too,
# so data-set and training tests run on a new machine; HULLWATCH_NO_TRAIN=1 leaves it out.
# One pip command for everything: torch and torchvision are pinned in the extra, and a
# separate "pip install ultralytics" would let pip upgrade torch (STACK.md).
EXTRAS="dev,train,openvino,installer"
[ "${HULLWATCH_NO_TRAIN:-0}" = "1" ] && EXTRAS="dev,openvino,installer"

# Reinstall only when the dependency list (or the chosen extras) changed.
stamp="$VENV/.hullwatch-deps"
want="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1) $EXTRAS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv ($EXTRAS)" >&2
  "$VENV/bin/python" -m pip install -q -e "$REPO[$EXTRAS]" >&2
  # ultralytics requires opencv-python, whose wheel overwrites cv2 with a build carrying its
  # own Qt 5 (clashes with PySide6, STACK.md): keep only the headless one
  if "$VENV/bin/python" -m pip show -q opencv-python >/dev/null 2>&1; then
    headless="$("$VENV/bin/python" -m pip show opencv-python-headless | sed -n 's/^Version: //p')"
    "$VENV/bin/python" -m pip uninstall -q -y opencv-python >&2
    "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "opencv-python-headless==$headless" >&2
  fi
  echo "$want" > "$stamp"
fi
