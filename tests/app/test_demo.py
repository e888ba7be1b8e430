"""`hullwatch demo --headless`: the whole inspection on the embedded world, end to end, as
a user runs it (a real process, the embedded world in its own child process)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recording.mission_record import read_mission
from recording.verify import verify_record

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_the_demo_plans_dives_detects_maps_records_and_sums_up(tmp_path):
    env = {**os.environ, "HULLWATCH_KEY_DIR": str(tmp_path / "keys"), "QT_QPA_PLATFORM": "offscreen"}
    out = tmp_path / "demo"
    done = subprocess.run([sys.executable, "-m", "app.cli", "demo", "--headless", "--duration", "45", "-o", str(out)],
                          cwd=str(REPO), capture_output=True, text=True, timeout=800, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    record = Path(next(line for line in lines if line.startswith("record: ")).split(": ", 1)[1])
    assert record.parent == out and (out / "plan.hullplan.json").exists()
    assert any(line.startswith("coverage: ") for line in lines)
    assert any(line.startswith("camera: ") and "received" in line for line in lines)
    assert "plan of 52 legs, niche areas first" in done.stdout or "niche areas first" in done.stdout
    assert "mission part 1/" in done.stderr and "stopping after 45 s" in done.stderr
    doc = read_mission(record)
    assert doc["state"] == "closed" and doc["plan"]["sha256"] and doc["vessel"]["name"]
    report = verify_record(record)
    assert report.ok, report.problems
    digest = next(line for line in lines if line.startswith("manifest SHA-256: ")).split(": ")[1]
    import hashlib

    assert hashlib.sha256((record / "manifest.json").read_bytes()).hexdigest() == digest
