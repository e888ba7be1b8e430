"""The inspection report of records made by the real recorder, fed as the station feeds it
(its own serialiser and alarm tap): findings linked to their alarms and snapshots, review
decisions from the mission and from signed addenda, merged findings counted once, a
tampered record reported ALTERED, and every refusal names what to do."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from app.station_recording import StationRecording, jsonable
from hull.queries import SurfaceAddress
from recording.errors import RecordError
from recording.keys import InstallationKey
from recording.manifest import append_addendum
from recording.mission_record import MissionInfo
from recording.recorder import MissionRecorder
from recording.report import CSV_COLUMNS, write_report
from recording.report_data import gather_report_data
from recording.verify import verify_record
from vision.alarms import Alarm
from vision.georef.findings import Finding

INFO = MissionInfo("MV Ørsted Tester", imo="9123456", mmsi="244123456", berth="Quay 3", operator="A. Diver",
                   team=("B. Tender", "C. Analyst"), unit="Port police dive team")
CLOCK_OFFSET_S = 1.7e9  # UTC minus the frames' monotonic clock in this record


@pytest.fixture
def key_dir(tmp_path, monkeypatch):
    d = tmp_path / "keys"
    monkeypatch.setenv("HULLWATCH_KEY_DIR", str(d))
    return d


def _finding(fid, tracks, side="starboard", niche="bilge keel S", t0=100.0) -> Finding:
    address = SurfaceAddress(side, 54.6 + fid, 5.9, niche, 0.0)
    return Finding(fid, "parasitic_container" if fid != 2 else "niche_anomaly", np.array([54.6 + fid, -9.0, 1.0]),
                   0.15, address, tuple(tracks), tuple(dict.fromkeys(s for s, _ in tracks)), 12, t0, t0 + 5.0,
                   0.8 - 0.1 * fid, (1.1, 0.55) if fid == 1 else None)


def _alarm(alarm_id, source, track, with_snapshot: bool, second_look=None) -> Alarm:
    snapshot = None
    if with_snapshot:  # a frame with a bright box: PNG-encoded by the station's own tap
        snapshot = np.full((120, 160, 3), 60, np.uint8)
        snapshot[40:80, 50:120] = (20, 220, 240)
    return Alarm(alarm_id, source, track, "parasitic_container", 0.6, 100.0, 100.5, (50.0, 40.0, 120.0, 80.0),
                 snapshot, track_ids=[track], second_look=second_look,
                 second_look_level=None if second_look is None else 0.1)


def _wait_events(rec: MissionRecorder, n: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while rec.status().events < n and time.monotonic() < deadline:
        time.sleep(0.05)


def make_record(root: Path, close: bool = True):
    """A record holding what a station writes during a short dive: detections, four alarms
    (one never placed on the hull), findings (one merged into another by the map), review
    actions, a warning, the final map."""
    rec = MissionRecorder(root, INFO).start()
    tap = StationRecording(None, rec)  # the station's alarm tap and action log, on this recorder
    for i, source in enumerate(["camera", "sonar"] * 3):
        t_frame = 99.0 + i * 0.5
        rec.event("detections", {"source": source, "t_frame_s": t_frame, "class_name": []},
                  t_utc_s=t_frame + CLOCK_OFFSET_S + 0.05 * (i + 1))  # each with some detector latency
    tap._alarm(_alarm(1, "camera", 1, True, second_look=0.8412))
    tap._alarm(_alarm(2, "sonar", 7, False))
    tap._alarm(_alarm(3, "sonar", 9, False))
    tap._alarm(_alarm(4, "camera", 12, True, second_look=0.3305))
    merged_away = _finding(3, [("camera", 4)])
    rec.event("finding", jsonable(merged_away))
    final = [_finding(1, [("camera", 1), ("camera", 4), ("sonar", 7)]), _finding(2, [("sonar", 9)])]
    for f in final:
        rec.event("finding", jsonable(f))
    tap.action("alarm_dismissed", alarm_id=1, reviewer="A. Diver", t_review_utc="2026-11-29T09:20:00+00:00",
               text="marine growth", class_name="parasitic_container", source="camera")
    tap.action("note", text="bare plating aft", reviewer="A. Diver")
    rec.event("disk_warning", {"disk_free_bytes": 1, "text": "disk nearly full"})
    doc = {"coverage": jsonable({"overall_pct": 41.5, "wetted_area_m2": 3300.0, "seen_area_m2": 1369.5,
                                 "per_sensor_pct": {"camera": 20.0, "sonar": 41.5},
                                 "per_niche_pct": {"sea chest S1": 100.0, "rudder": 0.0}}),
           "per_side_pct": {"port": 10.0, "starboard": 80.0, "bottom": 35.0},
           "findings": [jsonable(f) for f in final]}
    rec.add_file("map/final.json", json.dumps(doc).encode(), "map_snapshot", {"findings": 2})
    rec.add_file("map/gaps.json", json.dumps({"uncovered_m2": 1930.5, "regions": [
        {"area_m2": 1500.0, "where": "port, 30.0 m from the stern, 3.0 m deep", "niche": None},
        {"area_m2": 430.5, "where": "bottom, 100.0 m from the stern", "niche": "rudder"}]}).encode(), "map_file", {})
    _wait_events(rec, 17)
    if close:
        rec.close()
    return rec


def test_findings_alarms_and_decisions_are_linked(tmp_path, key_dir):
    rec = make_record(tmp_path / "records")
    key = InstallationKey.load_or_create()
    append_addendum(rec.folder, "review", [{"alarm_id": 2, "decision": "confirmed", "text": "diver saw it",
                                            "reviewer": "K. Olsen"}, {"text": "photos filed separately"}],
                    key, "Insp. K. Olsen")
    data = gather_report_data(rec.folder)
    assert [f.finding_id for f in data.findings] == [1, 2]
    one, two = data.findings
    assert one.merged_from == (3,) and [a.alarm_id for a in one.alarms] == [1, 2]
    assert [(d.kind, d.reviewer, d.addendum) for d in one.decisions] == [("dismissed", "A. Diver", None),
                                                                         ("confirmed", "K. Olsen", 1)]
    assert one.decision == "confirmed" and one.decided.author == "Insp. K. Olsen"
    assert one.snapshot.alarm_id == 1 and one.snapshot.snapshot_status == "intact"
    assert one.size_m == (1.1, 0.55) and two.size_m is None
    # first seen: the frame time placed on UTC by the least-delayed detection
    assert one.first_seen_utc_s == pytest.approx(100.0 + CLOCK_OFFSET_S + 0.05, abs=1e-3)
    assert two.decision == "not reviewed" and two.snapshot is None
    assert [a.alarm_id for a in data.unlinked_alarms] == [4]
    # the alarm verifier's second look, as the station recorded it with each alarm
    assert (one.alarms[0].second_look, one.alarms[0].second_look_level) == (0.8412, 0.1)
    assert one.alarms[1].second_look is None and data.unlinked_alarms[0].second_look == 0.3305
    assert data.addenda[0].other_entries == ('{"text": "photos filed separately"}',)
    assert dict(data.coverage.per_side_pct)["starboard"] == 80.0 and data.uncovered_m2 == 1930.5
    assert any(t.warning and "disk nearly full" in t.text for t in data.timeline)
    assert data.integrity.verdict == "INTACT" and data.integrity.addenda_checked == 1

    files = write_report(rec.folder)
    assert files.pdf == rec.folder.parent / f"{rec.folder.name}_report.pdf"
    assert verify_record(rec.folder).ok, "the report must not touch the sealed record"
    html = files.html.read_text(encoding="utf-8")
    assert html.count('<section class="finding"') == 2 and "sonar-only" in html and "marine growth" in html
    assert "second look 0.84 (level 0.10)" in html and "0.60; second look 0.33 (level 0.10)" in html
    rows = files.csv.read_text(encoding="utf-8").splitlines()
    assert rows[0].split(",") == list(CSV_COLUMNS) and len(rows) == 3
    assert rows[1].split(",")[CSV_COLUMNS.index("decision")] == "confirmed"
    doc = json.loads(files.json.read_text(encoding="utf-8"))
    assert {"mission", "coverage", "findings", "gaps", "integrity"} <= doc.keys()
    assert doc["findings"][0]["decisions"][1]["recorded"] == "addendum"
    assert doc["findings"][0]["alarms"][0]["second_look"] == {"score": 0.8412, "level": 0.1}
    assert doc["mission"]["vessel"]["name"] == INFO.vessel_name


def _pdf_text(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def test_a_tampered_record_gets_a_report_that_says_so(tmp_path, key_dir):
    rec = make_record(tmp_path / "records")
    png = rec.folder / "snapshots" / "alarm_0001.png"
    png.write_bytes(png.read_bytes()[:-8] + b"\0" * 8)
    with sqlite3.connect(rec.folder / "events.sqlite") as db:  # a finding's class rewritten
        seq, payload = db.execute("SELECT seq, payload FROM events WHERE kind = 'finding' LIMIT 1").fetchone()
        db.execute("UPDATE events SET payload = ? WHERE seq = ?", (payload.replace("parasitic", "benign"), seq))
    files = write_report(rec.folder, tmp_path / "out" / "tampered.pdf")
    doc = json.loads(files.json.read_text(encoding="utf-8"))
    assert doc["integrity"]["verdict"] == "ALTERED"
    problems = doc["integrity"]["problems"]
    assert any("alarm_0001.png altered" in p for p in problems) and any(f"event {seq} altered" in p for p in problems)
    snapshot = doc["findings"][0]["alarms"][0]["snapshot"]
    assert snapshot["status"].startswith("altered")
    text = _pdf_text(files.pdf)
    assert "Record integrity: ALTERED" in text and "snapshots/alarm_0001.png altered" in text
    assert "alarm_0001.png altered" in files.html.read_text(encoding="utf-8")


def test_a_record_still_recording_is_refused_with_what_to_do(tmp_path, key_dir):
    rec = make_record(tmp_path / "records", close=False)
    try:
        with pytest.raises(RecordError, match="open HullWatch so it recovers"):
            write_report(rec.folder)
        assert not list((tmp_path / "records").glob("*_report.*"))
    finally:
        rec.close()


def test_damaged_records_and_bad_outputs_are_refused_with_the_reason(tmp_path, key_dir):
    rec = make_record(tmp_path / "records")
    with pytest.raises(RecordError, match="never written to"):
        write_report(rec.folder, rec.folder / "map" / "report.pdf")
    with pytest.raises(RecordError, match="must end in .pdf"):
        write_report(rec.folder, tmp_path / "report.docx")
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(RecordError, match="cannot write the report to"):
        write_report(rec.folder, blocker / "report.pdf")
    events = rec.folder / "events.sqlite"
    saved = events.read_bytes()
    events.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RecordError, match="hullwatch verify"):
        write_report(rec.folder)
    events.write_bytes(saved)
    (rec.folder / "mission.json").write_text("{ torn", encoding="utf-8")
    with pytest.raises(RecordError, match="hullwatch verify"):
        write_report(rec.folder)
    assert not list(tmp_path.glob("records/*_report.*"))


def _read_only(folder: Path) -> bool:
    """Make `folder` read-only for this process; as root, permission bits are not enough:
    the immutable attribute is (where the file system and capabilities allow it)."""
    folder.chmod(0o555)
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        return True
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, timeout=10) if shutil.which("chattr") \
        else None
    return done is not None and done.returncode == 0


def test_a_read_only_output_folder_is_a_clear_error(tmp_path, key_dir):
    rec = make_record(tmp_path / "records")
    out = tmp_path / "read_only"
    out.mkdir()
    try:
        if not _read_only(out):
            pytest.skip("cannot make a folder read-only for root here (no chattr +i)")
        with pytest.raises(RecordError, match="cannot write the report to .*read_only"):
            write_report(rec.folder, out / "report.pdf")
        assert list(out.iterdir()) == []
    finally:
        if shutil.which("chattr"):
            subprocess.run(["chattr", "-i", str(out)], capture_output=True, timeout=10)
        out.chmod(0o755)


def test_the_pdf_font_comes_from_the_folders_given_first(tmp_path, monkeypatch):
    """The installer bundles DejaVu Sans in resources/fonts for machines without it: a
    folder given first is used even when no system copy exists; without any, Helvetica."""
    import shutil

    from recording import report_pdf

    system = next((Path(d) for d in report_pdf._FONT_DIRS if (Path(d) / "DejaVuSans-Bold.ttf").is_file()), None)
    if system is None:
        pytest.skip("no DejaVu Sans on this machine to copy (apt-get install fonts-dejavu-core)")
    bundled = tmp_path / "fonts"
    bundled.mkdir()
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        shutil.copy(system / name, bundled / name)
    monkeypatch.setattr(report_pdf, "_FONT_DIRS", ())
    monkeypatch.setattr(report_pdf.importlib.util, "find_spec", lambda name: None)  # hide matplotlib's copy
    report_pdf._fonts.cache_clear()
    try:
        assert report_pdf._fonts((tmp_path / "empty",)) == ("Helvetica", "Helvetica-Bold", False)
        assert report_pdf._fonts((bundled,)) == ("HW-Sans", "HW-Sans-Bold", True)
    finally:
        report_pdf._fonts.cache_clear()
