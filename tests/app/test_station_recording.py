"""A mission recorded from the running station on the embedded world: the original video
stream, the sonar's raw pings, telemetry both ways, detections, alarms, the map; the record
verifies intact, and each kind of tampering is named."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.station import Station, StationConfig
from recording.event_log import read_events
from recording.mission_record import MissionInfo, read_mission
from recording.verify import verify_record

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def keys(tmp_path, monkeypatch):
    monkeypatch.setenv("HULLWATCH_KEY_DIR", str(tmp_path / "keys"))


def _wait(pred, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


@pytest.fixture(scope="module")
def station_record(tmp_path_factory):
    """One record of about 20 s from the station (the embedded world in its own process)."""
    import os

    root = tmp_path_factory.mktemp("records")
    old = os.environ.get("HULLWATCH_KEY_DIR")
    os.environ["HULLWATCH_KEY_DIR"] = str(root / "keys")
    station = Station(StationConfig(records_dir=root / "records", video_url="udp://127.0.0.1:0"), log=lambda t: None)
    try:
        station.start()
        assert station.vehicle.wait_discovered(60.0).discovered
        rec = station.start_recording(MissionInfo("MV Station Test", imo="9876543", operator="tester"))
        status = rec.recorder.status
        assert _wait(lambda: status().video_frames >= 60 and status().sonar_pings >= 20, 120.0), status()
        rec.action("note", text="bare plating, no anomaly", reviewer="tester")
        summary = station.stop_recording()
    finally:
        station.close()
        if old is None:
            os.environ.pop("HULLWATCH_KEY_DIR", None)
        else:
            os.environ["HULLWATCH_KEY_DIR"] = old
    return Path(summary["folder"]), summary, root / "keys"


@pytest.mark.timeout(600)
def test_the_station_records_every_stream_and_the_record_verifies(station_record):
    folder, summary, _ = station_record
    doc = read_mission(folder)
    assert doc["state"] == "closed" and doc["vehicle"]["embedded"] and doc["models"]["camera"]["sha256"]
    assert summary["video_frames"] >= 60 and summary["sonar_pings"] >= 20
    assert (folder / "telemetry.tlog").stat().st_size > 10_000
    from vehicle.tlog import iter_tlog_messages

    from pymavlink.dialects.v20 import ardupilotmega as mavlink

    messages = [m for _, m in iter_tlog_messages(folder / "telemetry.tlog")]
    assert {"HEARTBEAT", "ATTITUDE"} <= {m.get_type() for m in messages}
    senders = {m.type for m in messages if m.get_type() == "HEARTBEAT"}
    assert {mavlink.MAV_TYPE_SUBMARINE, mavlink.MAV_TYPE_GCS} <= senders, "both ways: the vehicle's and ours"
    from recording.video_replay import VideoRecordReader

    video = VideoRecordReader(folder / "video")
    first = next(iter(video.iter_decoded()))
    assert first[2].shape == (480, 640, 3)
    kinds = [e.kind for e in read_events(folder / "events.sqlite")]
    assert "operator_note" in kinds and "map_snapshot" in kinds and "coverage" in kinds
    assert (folder / "map" / "expansion.png").exists() and (folder / "map" / "gaps.json").exists()
    report = verify_record(folder)
    assert report.ok, report.problems


def _copy(folder: Path, tmp_path: Path) -> Path:
    import shutil

    dst = tmp_path / folder.name
    shutil.copytree(folder, dst)
    return dst


@pytest.mark.timeout(600)
def test_each_kind_of_tampering_is_named(station_record, tmp_path):
    folder, _, _ = station_record
    # a byte of video changed
    a = _copy(folder, tmp_path / "a")
    seg = sorted((a / "video").glob("segment_*"))[0]
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0xFF
    seg.write_bytes(bytes(data))
    problems = verify_record(a).problems
    assert any(seg.name in p and "altered" in p for p in problems), problems
    # an event deleted
    b = _copy(folder, tmp_path / "b")
    with sqlite3.connect(b / "events.sqlite") as db:
        seq = db.execute("SELECT seq FROM events WHERE kind = 'operator_note'").fetchone()[0]
        db.execute("DELETE FROM events WHERE seq = ?", (seq,))
    problems = verify_record(b).problems
    assert any(f"event {seq}" in p and "removed" in p for p in problems), problems
    # a finding added
    c = _copy(folder, tmp_path / "c")
    with sqlite3.connect(c / "events.sqlite") as db:
        last = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        db.execute("INSERT INTO events (seq, t_utc_s, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                   (last[0] + 1, time.time(), "finding", '{"class_name":"parasitic_container"}', last[1], "0" * 64))
    problems = verify_record(c).problems
    assert any(f"event {last[0] + 1}" in p for p in problems), problems


@pytest.mark.timeout(300)
def test_hullwatch_verify_prints_intact_or_what_changed(station_record, tmp_path):
    folder, _, key_dir = station_record
    env = {"HULLWATCH_KEY_DIR": str(key_dir), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "app.cli", "verify", str(folder)], cwd=str(REPO), capture_output=True,
                        text=True, timeout=120, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "INTACT" in ok.stdout
    bad = _copy(folder, tmp_path)
    (bad / "map" / "gaps.json").write_text("{}")
    done = subprocess.run([sys.executable, "-m", "app.cli", "verify", str(bad)], cwd=str(REPO), capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 1 and "map/gaps.json" in done.stdout and "ALTERED" in done.stdout


@pytest.mark.timeout(300)
def test_the_video_exports_with_telemetry_and_detections_burned_in(station_record, tmp_path):
    """A derived MP4 for viewing without HullWatch; the record stays intact."""
    import av

    from app.record_video_export import export_video
    from recording.video_replay import VideoRecordReader

    folder, summary, _ = station_record
    done = export_video(folder, tmp_path / "mission.mp4")
    assert done.frames == summary["video_frames"]
    reader = VideoRecordReader(folder / "video")
    raw = reader.decode(0)
    with av.open(str(done.path)) as f:
        first = next(f.decode(video=0)).to_ndarray(format="bgr24")
        assert f.streams.video[0].frames in (0, done.frames)
    assert first.shape == raw.shape
    # the telemetry band darkens the top-left corner; the middle of the picture is the frame
    assert first[:30, :200].mean() < raw[:30, :200].mean() - 10
    h, w = raw.shape[:2]
    middle = (slice(h // 3, 2 * h // 3), slice(w // 3, 2 * w // 3))
    assert np.abs(first[middle].astype(int) - raw[middle].astype(int)).mean() < 8
    assert verify_record(folder).ok
    with pytest.raises(Exception, match="inside the record"):
        export_video(folder, folder / "x.mp4")
