"""The mission recorder: a record closes signed and intact; a killed recorder loses at most
about a second and is recovered; a full disk stops the media and keeps the record whole."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from recording.mission_record import MissionInfo, read_mission
from recording.recorder import MissionRecorder
from recording.recovery import find_interrupted, recover_record
from recording.verify import verify_record

from .media import access_units, oculus_message

REPO = Path(__file__).resolve().parents[2]
INFO = MissionInfo("MV Test Vessel", imo="9123456", mmsi="244123456", berth="Quay 3", operator="A. Diver",
                   team=("B. Tender", "C. Analyst"), unit="Port police dive team")


@pytest.fixture
def key_dir(tmp_path, monkeypatch):
    d = tmp_path / "keys"
    monkeypatch.setenv("HULLWATCH_KEY_DIR", str(d))
    return d


def _feed(rec: MissionRecorder, aus, pings: int = 0, fps: float = 10.0, t0: float | None = None) -> None:
    t0 = time.time() if t0 is None else t0
    raw = oculus_message()
    for i, au in enumerate(aus):
        t = t0 + i / fps
        rec.on_access_unit(au, time.monotonic(), t)
        if i < pings:
            rec.on_sonar_message(raw, time.monotonic(), t)
        rec.event("detections", {"frame": i, "boxes": []}, t_utc_s=t)


def _wait_written(rec: MissionRecorder, frames: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while rec.status().video_frames < frames and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_record_closes_signed_and_verifies_intact(tmp_path, key_dir):
    rec = MissionRecorder(tmp_path / "records", INFO).start()
    assert read_mission(rec.folder)["state"] == "recording"
    aus = access_units(40)
    _feed(rec, aus, pings=5)
    rec.add_file("snapshots/alarm_0001.png", b"\x89PNG fake but bytes", "alarm", {"alarm_id": 1})
    _wait_written(rec, len(aus))
    summary = rec.close()
    assert summary["video_frames"] == len(aus) and summary["sonar_pings"] == 5
    doc = read_mission(rec.folder)
    assert doc["state"] == "closed" and doc["vessel"]["imo"] == "9123456" and doc["end_utc"]
    assert not (rec.folder / ".recording.lock").exists() and not (rec.folder / ".reserve").exists()
    report = verify_record(rec.folder)
    assert report.ok, report.problems
    from recording.event_log import read_events

    kinds = [e.kind for e in read_events(rec.folder / "events.sqlite")]
    assert kinds[0] == "record_started" and kinds[-1] == "record_closed"
    assert kinds.count("detections") == len(aus) and "alarm" in kinds
    assert find_interrupted(tmp_path / "records") == []


def test_bad_vessel_data_is_refused_with_the_reason(tmp_path, key_dir):
    from recording.errors import RecordError

    with pytest.raises(RecordError, match="IMO number"):
        MissionRecorder(tmp_path, MissionInfo("MV X", imo="12"))
    with pytest.raises(RecordError, match="vessel name"):
        MissionRecorder(tmp_path, MissionInfo("  "))


CRASHING_STATION = textwrap.dedent("""
    import os, signal, sys, time
    sys.path.insert(0, {repo!r})
    from recording.mission_record import MissionInfo
    from recording.recorder import MissionRecorder
    from tests.recording.media import access_units, oculus_message
    rec = MissionRecorder({root!r}, MissionInfo("MV Crash")).start()
    print(rec.folder, flush=True)
    aus = access_units(400)
    raw = oculus_message()
    t0 = time.time()
    for i, au in enumerate(aus):
        now = time.time()
        rec.on_access_unit(au, time.monotonic(), now)
        rec.on_sonar_message(raw, time.monotonic(), now)
        rec.event("detections", {{"frame": i}})
        print(i, now, flush=True)
        if i == 250:
            os.kill(os.getpid(), signal.SIGKILL)  # no close(), no flush: as a crash or a power cut
        time.sleep(0.02)
""")


@pytest.mark.timeout(300)
def test_a_killed_recorder_loses_at_most_a_second_and_is_recovered(tmp_path, key_dir):
    root = tmp_path / "records"
    script = CRASHING_STATION.format(repo=str(REPO), root=str(root))
    proc = subprocess.run([sys.executable, "-c", script], cwd=str(REPO), capture_output=True, text=True, timeout=240,
                          env={**os.environ, "HULLWATCH_KEY_DIR": str(key_dir)})
    assert proc.returncode == -9, proc.stderr[-2000:]
    lines = proc.stdout.split("\n")
    folder = Path(lines[0])
    fed = [tuple(map(float, line.split())) for line in lines[1:] if line.strip()]
    t_kill = fed[-1][1]
    fed_a_second_before = sum(1 for _, t in fed if t <= t_kill - 1.0)
    assert find_interrupted(root) == [folder]
    recovered = recover_record(folder)
    assert recovered.video_frames >= fed_a_second_before, (recovered, fed_a_second_before)
    assert recovered.sonar_pings >= fed_a_second_before
    doc = read_mission(folder)
    assert doc["state"] == "recovered" and doc["recovery"]["video_frames"] == recovered.video_frames
    assert "recovered the interrupted record" in recovered.describe()
    report = verify_record(folder)
    assert report.ok, report.problems
    assert find_interrupted(root) == []


def _tmpfs(path: Path, size: str):
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up (needs root): {done.stderr.decode().strip()}")


@pytest.mark.timeout(300)
def test_a_full_disk_stops_the_media_and_loses_nothing_already_written(tmp_path, key_dir):
    disk = tmp_path / "small_disk"
    _tmpfs(disk, "12m")
    try:
        rec = MissionRecorder(disk, INFO, stop_free_bytes=0, warn_free_bytes=6 << 20, reserve_bytes=2 << 20,
                              disk_check_s=0.2).start()
        aus = access_units(120, noisy=True, gop=1)  # every frame an IDR of random texture: ~400 kB each
        _feed(rec, aus)
        deadline = time.monotonic() + 60
        while not rec.status().media_stopped and time.monotonic() < deadline:
            time.sleep(0.1)
        status = rec.status()
        assert status.media_stopped and "stopped" in status.warning and "Free disk space" in status.warning
        written = status.video_frames
        assert 0 < written < len(aus)
        rec.event("operator_note", {"text": "still logging events after the disk filled"})
        summary = rec.close()
        assert summary["video_frames"] == written
        report = verify_record(rec.folder)
        assert report.ok, report.problems
        from recording.video_replay import VideoRecordReader

        reader = VideoRecordReader(rec.folder / "video")
        decoded = sum(1 for _ in reader.iter_decoded())
        assert decoded == written, "every frame written before the disk filled decodes"
        events = (rec.folder / "events.sqlite")
        from recording.event_log import read_events

        kinds = [e.kind for e in read_events(events)]
        assert "media_stopped" in kinds and "operator_note" in kinds and kinds[-1] == "record_closed"
        assert json.loads((rec.folder / "mission.json").read_text())["state"] == "closed"
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
