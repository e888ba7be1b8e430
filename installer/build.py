"""Build the one-folder desktop bundle and check it: PyInstaller on installer/hullwatch.spec,
then the bundle's size and `hullwatch --self-test` run from the bundle.

    python installer/build.py [--dist DIR] [--work DIR] [--clean] [--no-self-test]

Defaults: dist/hullwatch/ and build/installer/ at the repository root (both git-ignored).
Exit code 0 when the bundle was built and its self-test passed; 1 otherwise. Works on
Linux, Windows and macOS (run it with the Python that has HullWatch and PyInstaller).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "hullwatch.spec"
BUILD_TIMEOUT_S = 1800.0
SELF_TEST_TIMEOUT_S = 180.0  # the self-test itself takes < 60 s; a cold first start unpacks nothing but is slow
FORBIDDEN = ("torch", "torchvision", "ultralytics")


def bundle_executable(bundle: Path) -> Path:
    return bundle / ("hullwatch.exe" if sys.platform.startswith("win") else "hullwatch")


def folder_size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def forbidden_in(bundle: Path) -> list[str]:
    """Top-level packages that must never ship (torch and friends)."""
    internal = bundle / "_internal"
    base = internal if internal.is_dir() else bundle
    return sorted(p.name for p in base.iterdir() if p.name.split(".")[0] in FORBIDDEN)


def build(dist: Path, work: Path, clean: bool = False, log=print) -> Path:
    """Run PyInstaller; returns the bundle folder. Raises RuntimeError on failure."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise RuntimeError(f"PyInstaller is not installed in {sys.executable}: "
                           f"{sys.executable} -m pip install pyinstaller==6.22.3") from None
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)] + (["--clean"] if clean else [])
    log(f"build: {' '.join(cmd)}")
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"PyInstaller did not finish in {BUILD_TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"PyInstaller failed (exit code {proc.returncode}); its messages are above")
    bundle = dist / "hullwatch"
    if not bundle_executable(bundle).is_file():
        raise RuntimeError(f"PyInstaller finished but {bundle_executable(bundle)} is missing")
    log(f"build: {bundle} built in {time.monotonic() - t0:.0f} s, {folder_size_mb(bundle):.0f} MB")
    bad = forbidden_in(bundle)
    if bad:
        raise RuntimeError(f"the bundle carries {', '.join(bad)}: check the spec's excludes")
    return bundle


def self_test(bundle: Path, log=print) -> int:
    """Run `hullwatch --self-test` from the bundle with a clean environment for Python
    (no PYTHONPATH from a venv leaking in); returns its exit code."""
    exe = bundle_executable(bundle)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    log(f"build: {exe} --self-test")
    t0 = time.monotonic()
    try:
        code = subprocess.run([str(exe), "--self-test"], env=env, cwd=bundle.parent,
                              timeout=SELF_TEST_TIMEOUT_S).returncode
    except subprocess.TimeoutExpired:
        log(f"build: the self-test did not finish in {SELF_TEST_TIMEOUT_S:.0f} s")
        return 1
    log(f"build: self-test exit code {code} after {time.monotonic() - t0:.1f} s")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the bundle goes (default dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "installer",
                        help="PyInstaller's work folder (default build/installer/)")
    parser.add_argument("--clean", action="store_true",
                        help="empty PyInstaller's cache and work folder first (slower; after a dependency change)")
    parser.add_argument("--no-self-test", action="store_true", help="build only")
    args = parser.parse_args(argv)
    try:
        bundle = build(args.dist.resolve(), args.work.resolve(), clean=args.clean)
    except RuntimeError as exc:
        print(f"build: error: {exc}", file=sys.stderr)
        return 1
    if args.no_self_test:
        return 0
    code = self_test(bundle)
    if code != 0:
        print("build: error: the bundle's self-test failed (its lines above say which step)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
