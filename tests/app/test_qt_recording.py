"""Mission recording from the window, on the embedded world, driven as the team drives it:
the Mission menu, the mission dialog typed into, the Vehicle panel's Arm button, the
alarm panel's review buttons; the record that comes out is checked as a court would
(closed, signed, intact, the operator's actions in its event chain). A record a killed
station left open is recovered when the window starts, and the user is told."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from app.main_window import MainWindow
from app.qt_theme import colour
from app.station import Station, StationConfig
from recording.event_log import read_events
from recording.mission_record import read_mission
from recording.verify import verify_record

REPO = Path(__file__).resolve().parents[2]
START_MS = 90_000


@pytest.fixture(autouse=True)
def _app_look_restored(qapp):
    palette, font, style = qapp.palette(), qapp.font(), qapp.style().name()
    yield
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)


@pytest.fixture
def records(tmp_path, monkeypatch) -> Path:
    """Records and the signing key in this test's folder, set before any station starts."""
    monkeypatch.setenv("HULLWATCH_RECORDS", str(tmp_path / "records"))
    monkeypatch.setenv("HULLWATCH_KEY_DIR", str(tmp_path / "keys"))
    return tmp_path / "records"


@pytest.fixture
def open_window(qtbot, tmp_path, records):
    """Start the window on the embedded world when the test says so (after it has set the
    stage); the window is shut down in order afterwards."""
    opened = []

    def start() -> MainWindow:
        station = Station(StationConfig(video_url="udp://127.0.0.1:0"), log=lambda text: None)
        w = MainWindow(station, QSettings(str(tmp_path / "hullwatch.ini"), QSettings.IniFormat))
        opened.append(w)
        w.resize(1600, 1000)
        w.show()
        w.start_station()
        qtbot.waitUntil(lambda: w.bridge is not None and station.vehicle.state.discovered, timeout=START_MS)
        return w

    yield start
    for w in opened:
        if not w._closed_down:
            w.close()
            qtbot.waitUntil(lambda: w._closed_down, timeout=60_000)


def _menu_action(window, menu_title: str, text: str):
    for action in window.menuBar().actions():
        if action.text() == menu_title:
            return next(a for a in action.menu().actions() if a.text() == text)
    raise AssertionError(f"no menu {menu_title}")


def _rec_pixels(window) -> int:
    """Pixels of the REC mark's colour in the video view's top-right corner."""
    image = window.video.grab().toImage()
    w = image.width()
    img = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(w - 120, w)] for y in range(0, 110)])
    want = np.array(colour("alarm").getRgb()[:3])
    return int((np.abs(img - want).sum(axis=2) < 40).sum())


def _frames(text: str) -> int:
    m = re.search(r"([\d,]+) frames", text)
    return int(m.group(1).replace(",", "")) if m else -1


def _left():
    return Qt.LeftButton


@pytest.mark.timeout(600)
def test_a_mission_recorded_from_the_window_closes_signed_with_the_operators_actions(qtbot, open_window, records):
    from vision.alarms import Alarm

    window = open_window()
    st = window.station
    assert _menu_action(window, "&Mission", "Stop recording").isEnabled() is False
    qtbot.waitUntil(lambda: window.video.snapshot() is not None, timeout=30_000)
    rec_before = _rec_pixels(window)

    # the Mission menu opens the dialog; OK waits for a valid vessel
    _menu_action(window, "&Mission", "Start recording…").trigger()
    qtbot.waitUntil(lambda: window.record_dialog is not None and window.record_dialog.isVisible(), timeout=5_000)
    dialog = window.record_dialog
    assert not dialog.ok_button.isEnabled() and "vessel name" in dialog.problems.text()
    qtbot.keyClicks(dialog.fields["vessel_name"], "MV Evidence")
    qtbot.keyClicks(dialog.fields["imo"], "91234")
    assert not dialog.ok_button.isEnabled() and "IMO number" in dialog.problems.text()
    qtbot.keyClicks(dialog.fields["imo"], "56")
    for key, text in (("mmsi", "244123456"), ("berth", "Waalhaven quay 3"), ("operator", "A. Diver"),
                      ("team", "B. Tender, C. Analyst"), ("unit", "Port police dive team")):
        qtbot.keyClicks(dialog.fields[key], text)
    qtbot.keyClicks(dialog.notes, "hull search before departure")
    assert dialog.ok_button.isEnabled() and dialog.problems.text() == ""
    assert dialog.info().team == ("B. Tender", "C. Analyst")
    qtbot.mouseClick(dialog.ok_button, _left())

    # recording: REC on the video, the status line counts frames as the world streams
    qtbot.waitUntil(lambda: window.recording.is_recording(), timeout=30_000)
    folder = st.recording.folder
    assert read_mission(folder)["state"] == "recording"
    qtbot.waitUntil(lambda: _rec_pixels(window) > rec_before + 20, timeout=5_000)
    assert _menu_action(window, "&Mission", "Stop recording").isEnabled()
    assert not _menu_action(window, "&Mission", "Start recording…").isEnabled()
    qtbot.waitUntil(lambda: _frames(window.rec_label.text()) > 0, timeout=20_000)
    first = _frames(window.rec_label.text())
    qtbot.waitUntil(lambda: _frames(window.rec_label.text()) > first + 5, timeout=20_000)
    assert window.rec_label.text().startswith("REC ") and "GB free" in window.rec_label.text()
    # a disk running low: the warning joins the status line in the alarm colour and stays
    st.recording.recorder.warn_free_bytes = 1 << 50  # every disk is "nearly full" now
    qtbot.waitUntil(lambda: "WARNING: disk nearly full" in window.rec_label.text(), timeout=15_000)
    assert colour("alarm").name() in window.rec_label.styleSheet()

    # two alarms reach the review panel (as the bridge delivers them); the operator reviews
    image = window.video.snapshot()
    for alarm_id in (901, 902):
        window._alarm(Alarm(alarm_id, "camera", alarm_id, "parasitic_container", 0.9, 1.0, 2.0,
                            (100.0, 100.0, 200.0, 200.0), np.ascontiguousarray(image[100:200, 100:200])))
    qtbot.mouseClick(window.alarms.buttons["acknowledge"], _left())
    window.alarms.select_alarm(901)
    qtbot.mouseClick(window.alarms.buttons["confirm"], _left())
    window.alarms.select_alarm(902)
    qtbot.mouseClick(window.alarms.buttons["dismiss"], _left())
    dismiss = window.alarms.dialog
    dismiss.reasons.setCurrentIndex(1)  # marine growth
    qtbot.mouseClick(dismiss.buttons.button(dismiss.buttons.StandardButton.Ok), _left())
    assert window.review.status(902) == "dismissed"

    # the pilot arms from the Vehicle panel; a point is marked and a snapshot taken
    panel = window.vehicle_panel
    finished = []
    panel.command_finished.connect(lambda name, ok, msg: finished.append((name, ok)))
    qtbot.mouseClick(panel.arm_button, _left())
    qtbot.waitUntil(lambda: ("arm", True) in finished, timeout=20_000)
    assert st.vehicle.state.armed
    window.gamepad_action("mark_point")
    window.gamepad_action("snapshot")
    qtbot.waitUntil(lambda: not window.recording._snapshot_tasks, timeout=10_000)  # its PNG, encoded in a task

    assert "WARNING: disk nearly full" in window.rec_label.text()  # still there: sticky
    # stop from the menu: the summary names the folder and the manifest's hash
    _menu_action(window, "&Mission", "Stop recording").trigger()
    qtbot.waitUntil(lambda: not window.recording.is_recording(), timeout=60_000)
    assert window.recording.summary_box is not None and window.recording.summary_box.isVisible()
    summary_text = window.recording.summary_box.informativeText()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest_sha = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    assert str(folder) in summary_text and f"Manifest SHA-256: {manifest_sha[:16]}…" in summary_text
    assert "Warning: disk nearly full" in summary_text
    qtbot.waitUntil(lambda: _rec_pixels(window) <= rec_before + 5, timeout=5_000)
    assert window.rec_label.text().startswith("not recording")
    assert colour("alarm").name() not in window.rec_label.styleSheet()  # the warning lives on in the summary
    assert window.recording.open_folder_button.isEnabled()

    doc = read_mission(folder)
    assert doc["state"] == "closed" and doc["vessel"]["imo"] == "9123456"
    assert doc["team"] == {"operator": "A. Diver", "members": ["B. Tender", "C. Analyst"],
                           "unit": "Port police dive team"}
    assert doc["notes"] == "hull search before departure"
    report = verify_record(folder)
    assert report.ok, report.problems
    assert manifest["record_id"] == doc["record_id"]
    events = read_events(folder / "events.sqlite")
    by_kind: dict = {}
    for e in events:
        by_kind.setdefault(e.kind, []).append(e.payload)
    assert by_kind["operator_arm"][0]["ok"] is True and by_kind["operator_arm"][0]["via"] == "vehicle panel"
    confirmed = by_kind["operator_alarm_confirmed"][0]
    assert confirmed["alarm_id"] == 901 and confirmed["reviewer"] == "A. Diver" and confirmed["t_review_utc"]
    dismissed = by_kind["operator_alarm_dismissed"][0]
    assert dismissed["alarm_id"] == 902 and dismissed["text"] == "marine growth"
    assert {p["alarm_id"] for p in by_kind["operator_alarm_acknowledged"]} == {901, 902}
    assert by_kind["operator_mark_point"][0]["frame"] == "hull"
    snap = by_kind["operator_snapshot"][0]
    assert (folder / snap["file"]).is_file() and snap["width"] == image.shape[1]
    assert any(p.get("armed") is True for p in by_kind["vehicle_ArmedChanged"])  # the vehicle's side of it

    # the next mission's dialog remembers the team, not the notes
    _menu_action(window, "&Mission", "Start recording…").trigger()
    qtbot.waitUntil(lambda: window.record_dialog is not None, timeout=5_000)
    again = window.record_dialog
    assert again.fields["vessel_name"].text() == "MV Evidence"
    assert again.fields["team"].text() == "B. Tender, C. Analyst"
    assert again.notes.toPlainText() == ""
    again.reject()


CRASHING_STATION = textwrap.dedent("""
    import os, signal, sys, time
    sys.path.insert(0, {repo!r})
    from recording.mission_record import MissionInfo
    from recording.recorder import MissionRecorder
    rec = MissionRecorder({root!r}, MissionInfo("MV Crashed", operator="A. Diver")).start()
    for i in range(20):
        rec.event("detections", {{"frame": i}})
    time.sleep(1.5)  # committed: the writer commits every half second
    print(rec.folder, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no close(): as a crash or a power cut
""")


@pytest.mark.timeout(600)
def test_a_record_a_killed_station_left_open_is_recovered_at_start_and_the_user_told(qtbot, open_window,
                                                                                     records):
    proc = subprocess.run([sys.executable, "-c", CRASHING_STATION.format(repo=str(REPO), root=str(records))],
                          cwd=str(REPO), capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == -9, proc.stderr[-2000:]
    folder = Path(proc.stdout.strip().splitlines()[0])
    assert read_mission(folder)["state"] == "recording"

    window = open_window()
    qtbot.waitUntil(lambda: getattr(window, "recovered_box", None) is not None, timeout=10_000)
    box = window.recovered_box
    assert box.isVisible() and not box.isModal()
    assert box.text() == "Recovered an interrupted record:"
    assert folder.name in box.informativeText() and "closed and signed" in box.informativeText()
    assert folder.name in window.log.toPlainText()
    doc = read_mission(folder)
    assert doc["state"] == "recovered"
    report = verify_record(folder)
    assert report.ok, report.problems
    kinds = [e.kind for e in read_events(folder / "events.sqlite")]
    assert kinds.count("detections") == 20


@pytest.mark.timeout(600)
def test_closing_the_window_while_the_record_opens_waits_for_it_then_closes_it_signed(qtbot, open_window, records):
    window = open_window()
    window.open_record_dialog()
    dialog = window.record_dialog
    qtbot.keyClicks(dialog.fields["vessel_name"], "MV Closing")
    done, busy_at_close = [], []
    window.shut_down.connect(lambda: done.append(True))

    def close_at_once():  # right after the window asked for the record, before its task reports
        busy_at_close.append(window.recording.busy())
        window.close()
    dialog.accepted.connect(close_at_once)
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    qtbot.mouseClick(dialog.ok_button, _left())
    assert busy_at_close == [True]
    assert any("waiting for the mission record" in m for m in messages)
    qtbot.waitUntil(lambda: window._closing, timeout=30_000)  # opened; now the real shutdown
    assert window.rec_label.text() == "closing the record…"
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    folders = [p for p in records.iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.endswith("MV-Closing")
    assert read_mission(folders[0])["state"] == "closed"
    report = verify_record(folders[0])
    assert report.ok, report.problems
