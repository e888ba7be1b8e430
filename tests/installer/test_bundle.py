"""The desktop bundle: the PyInstaller one-folder bundle built from installer/hullwatch.spec, started for its self-test and on the embedded
world (the self-test in process, which needs Qt, is tests/app/test_self_test.py). The build takes a few minutes; HULLWATCH_SKIP_BUNDLE=1 leaves it out."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STEPS = ("models", "vehicle", "libraries", "qt")


# ------------------------------------------------------------------ the bundle
def _bundle_env() -> dict:
    """The environment a user's shell gives the bundle: no venv, no PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed: pip install pyinstaller==6.22.3 "
                                              "(the `installer` extra) to build and test the desktop bundle")
    if os.environ.get("HULLWATCH_SKIP_BUNDLE") == "1":
        pytest.skip("HULLWATCH_SKIP_BUNDLE=1: the desktop bundle's build is left out")
    tmp = tmp_path_factory.mktemp("installer")
    proc = subprocess.run([sys.executable, str(REPO / "installer" / "build.py"), "--dist", str(tmp / "dist"),
                           "--work", str(tmp / "work"), "--no-self-test"],
                          cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert " MB" in proc.stdout  # the script reports the bundle's size
    yield tmp / "dist" / "hullwatch"
    shutil.rmtree(tmp, ignore_errors=True)  # ~1 GB; pytest would keep three runs of it


def _exe(bundle: Path) -> str:
    return str(bundle / ("hullwatch.exe" if sys.platform.startswith("win") else "hullwatch"))


def _internal(bundle: Path) -> Path:
    return bundle / "_internal" if (bundle / "_internal").is_dir() else bundle


def _self_test(bundle: Path) -> tuple[int, str, float]:
    t0 = time.monotonic()
    proc = subprocess.run([_exe(bundle), "--self-test"], env=_bundle_env(), cwd=bundle.parent,
                          capture_output=True, text=True, timeout=180)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - t0


@pytest.mark.timeout(1800)
def test_bundle_holds_the_models_and_no_torch(bundle):
    internal = _internal(bundle)
    for name in ("camera.onnx", "camera.card.json", "sonar.onnx", "sonar.card.json"):
        assert (internal / "resources" / "models" / name).is_file(), name
    assert (internal / "resources" / "sounds" / "alarm.wav").is_file()
    shipped = {p.name.split(".")[0] for p in internal.iterdir()}
    assert not shipped & {"torch", "torchvision", "ultralytics", "matplotlib", "sklearn", "pandas", "plotly"}
    assert {"open3d", "onnxruntime", "PySide6", "cv2", "av", "pygame", "scipy", "cryptography"} <= shipped


@pytest.mark.timeout(1800)
def test_bundle_self_test_passes(bundle):
    code, out, elapsed_s = _self_test(bundle)
    assert code == 0, out
    assert "self-test: HullWatch" in out and "(bundle " in out  # it ran frozen, not from the venv
    for step in STEPS:
        assert f"self-test: {step}: ok (" in out, out
    assert "self-test: passed" in out
    assert elapsed_s < 60.0, f"the bundle's self-test took {elapsed_s:.0f} s"


@pytest.mark.timeout(1800)
def test_bundle_starts_on_the_embedded_world(bundle):
    proc = subprocess.run([_exe(bundle), "--headless", "--duration", "8"], env=_bundle_env(), cwd=bundle.parent,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    telemetry = [line for line in out.splitlines() if "link OK" in line and "depth" in line]
    assert telemetry, out[-4000:]


@pytest.mark.timeout(1800)
def test_bundle_self_test_fails_on_a_damaged_model(bundle):
    """Last: it damages the bundle. The self-test must notice, name the step and exit 1."""
    model = _internal(bundle) / "resources" / "models" / "camera.onnx"
    with open(model, "ab") as f:
        f.write(b"\0")
    code, out, _ = _self_test(bundle)
    assert code == 1, out
    assert "self-test: models: FAILED" in out and "SHA-256" in out, out
    assert "self-test: vehicle: ok (" in out  # the other steps still run and report
    assert "self-test: FAILED: models" in out
