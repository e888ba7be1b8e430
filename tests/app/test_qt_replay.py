"""The replay-and-review window on real data: the ArduSub tlog another ground station
recorded (../shared/data/mavlink/small.tlog) and a real signed record with H.264 video whose
frames carry their index in pixels (tests/app/replay_record_fixture.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt

from app.qt_replay_plots import QtDepthProfile, QtTrackPlot
from app.qt_replay_timeline import QtTimeline
from app.qt_replay_window import QtReplayWindow
from app.qt_theme import colour
from vehicle.tlog import iter_tlog_messages

SMALL_TLOG = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mavlink" / "small.tlog"
OPEN_MS = 60_000


def _near(image, x: float, y: float, rgb, r: int = 3, tol: int = 40) -> bool:
    """Some pixel within r of (x, y) is within tol of rgb."""
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            c = image.pixelColor(int(x) + dx, int(y) + dy)
            if max(abs(c.red() - rgb[0]), abs(c.green() - rgb[1]), abs(c.blue() - rgb[2])) <= tol:
                return True
    return False


def _rgb(role: str):
    return colour(role).getRgb()[:3]


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "hullwatch.ini"), QSettings.IniFormat)


def _window(qtbot, settings, path, key=None) -> QtReplayWindow:
    w = QtReplayWindow(settings, key=key)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    with qtbot.waitSignal(w.opened, timeout=OPEN_MS):
        w.open_path(path)
    return w


# ---- widgets on their own, fed from the tlog directly ------------------------------------
def test_track_plot_and_depth_profile_draw_the_logged_path(qtbot):
    track, depth = [], []
    for t, m in iter_tlog_messages(SMALL_TLOG):
        if m.get_type() == "LOCAL_POSITION_NED":
            track.append((t, m.x, m.y, m.z))
        elif m.get_type() == "VFR_HUD":
            depth.append((t, -m.alt))
    track, depth = np.array(track), np.array(depth)
    plot, profile = QtTrackPlot(), QtDepthProfile()
    for w in (plot, profile):
        qtbot.addWidget(w)
        w.resize(500, 360)
        w.show()
    plot.set_track(track)
    plot.set_time(track[-1, 0])
    profile.set_depth(depth)
    t_mid = depth[len(depth) // 2, 0]
    profile.set_time(t_mid)
    img = plot.grab().toImage()
    for row in track[:: len(track) // 8]:
        p = plot.to_widget(row[1], row[2])
        assert _near(img, p.x(), p.y(), _rgb("info")), f"track point {row[1:3]} not drawn at {p}"
    img = profile.grab().toImage()
    for t, d in depth[:: len(depth) // 8]:
        p = profile.to_widget(t, d)
        assert _near(img, p.x(), p.y(), _rgb("info"), r=4), f"depth {d} at {t} not drawn at {p}"
    cursor = profile.to_widget(t_mid, 0.0)
    r = profile.plot_rect()
    assert _near(img, cursor.x(), r.top() + 5, _rgb("alarm"), r=1)


def test_timeline_marks_clicks_and_keys(qtbot):
    from types import SimpleNamespace as NS

    tl = QtTimeline(speeds=(0.25, 1.0, 4.0))
    qtbot.addWidget(tl)
    tl.resize(900, 120)
    tl.show()
    tl.set_span(1000.0, 1100.0)
    tl.set_marks([NS(t_utc_s=1025.0, kind="alarm", label="a"), NS(t_utc_s=1075.0, kind="finding", label="f")])
    tl.set_time(1010.0)
    img = tl.bar.grab().toImage()
    assert _near(img, tl.bar.x_of(1025.0), 20, _rgb("alarm"), r=1)
    assert _near(img, tl.bar.x_of(1075.0), tl.bar.height() / 2, _rgb("finding_anomaly"), r=2)
    with qtbot.waitSignal(tl.seek_requested, timeout=2000) as seek:
        qtbot.mouseClick(tl.bar, Qt.LeftButton, pos=QPoint(int(tl.bar.x_of(1050.0)), 10))
    assert seek.args[0] == pytest.approx(1050.0, abs=0.3)
    tl.activateWindow()
    qtbot.waitUntil(tl.isActiveWindow, timeout=2000)  # the keys are the window's shortcuts
    with qtbot.waitSignal(tl.mark_requested, timeout=2000) as mark:
        qtbot.keyClick(tl, Qt.Key_L)
    assert mark.args == [1]
    with qtbot.waitSignal(tl.speed_requested, timeout=2000) as speed:
        qtbot.keyClick(tl, Qt.Key_BracketRight)
    assert speed.args == [4.0]


# ---- the window on a bare tlog ---------------------------------------------------------------
def test_small_tlog_plots_modes_events_and_seek(qtbot, settings):
    w = _window(qtbot, settings, SMALL_TLOG)
    tel = w.session.telemetry
    assert not w.video.isVisible() and not w.docks["sonar"].isVisible() and not w.docks["findings"].isVisible()
    assert w.video.status_text() == "no video in this log" and w.center.currentWidget() is w.plots_page
    qtbot.waitUntil(lambda: w.track.isVisible() and w.depth.isVisible(), timeout=5000)
    w.seek(tel.track[-1, 0])
    img = w.track.grab().toImage()
    drawn = sum(_near(img, *(lambda p: (p.x(), p.y()))(w.track.to_widget(n, e)), _rgb("info"))
                for _, n, e, _d in tel.track[:: max(1, len(tel.track) // 10)])
    assert drawn >= 9
    img = w.depth.grab().toImage()
    t, d = tel.depth[len(tel.depth) // 3]
    p = w.depth.to_widget(t, d)
    assert _near(img, p.x(), p.y(), _rgb("info"), r=4)
    assert w.modes.modes_shown() == ["MANUAL"] and w.modes.mode_at(tel.t_start_s + 100) == "MANUAL"
    texts = "\n".join(w.events.texts())
    assert "armed" in texts and "disarmed" in texts and "ArduSub V4.1.1" in texts
    bar = w.timeline.bar
    for f in (0.3, 0.85):
        x = bar.x_of(w.session.t_start_s + f * (w.session.t_end_s - w.session.t_start_s))
        qtbot.mouseClick(bar, Qt.LeftButton, pos=QPoint(int(x), 10))
        t = w.clock.t_s
        assert t == pytest.approx(bar.t_of(int(x)))
        assert w.instruments.depth.text() == f"{tel.state_at(t).depth_m:.2f} m"
        assert w.instruments.mode.text() == "MANUAL"


@pytest.mark.parametrize("bad", ["folder", "tlog"])
def test_not_a_record_says_so(qtbot, settings, tmp_path, bad):
    path = tmp_path / "holiday photos"
    path.mkdir()
    (path / "beach.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a record")
    if bad == "tlog":
        path = tmp_path / "broken.tlog"
        path.write_bytes(bytes(range(256)) * 64)
    w = QtReplayWindow(settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.open_failed, timeout=OPEN_MS) as failed:
        w.open_path(path)
    assert path.name in failed.args[0] and "Traceback" not in failed.args[0]
    assert w.error_box.isVisible() and path.name in w.error_box.text()
    assert w.session is None


# ---- the window on a real record -------------------------------------------------------------
@pytest.fixture(scope="module")
def record(tmp_path_factory):
    from recording.keys import InstallationKey
    from tests.app.replay_record_fixture import build_record

    base = tmp_path_factory.mktemp("replay")
    key = InstallationKey.load_or_create(base / "keys")
    return build_record(base / "records", key, seconds=20.0, fps=10.0), key


def _shown_index(w) -> int:
    """The frame index read from the picture on screen (the overlay hidden: it covers the code)."""
    from tests.app.replay_record_fixture import decode_frame_index

    w.video.set_overlay_visible(False)
    img = w.video.grab().toImage()
    w.video.set_overlay_visible(True)
    r = w.video.image_rect().toRect()
    img = img.copy(r).scaled(*w.session_size, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
    img = img.convertToFormat(img.Format.Format_BGR888)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, :img.width() * 3]
    return decode_frame_index(a.reshape(img.height(), img.width(), 3))


def test_record_play_seek_overlay_and_marks(qtbot, settings, record):
    truth, key = record
    w = _window(qtbot, settings, truth.folder, key)
    w.session_size = truth.size
    assert w.video.isVisible() and w.docks["sonar"].isVisible() and w.docks["findings"].isVisible()
    # seek: the picture of that time, its overlay and its recorded box
    k = int(0.5 * len(truth.frame_t_s))
    t = float(truth.frame_t_s[k] + 0.03)
    w.seek(t)
    qtbot.waitUntil(lambda: w.shown is not None and w.shown.t_s == t, timeout=10_000)
    qtbot.waitUntil(lambda: _shown_index(w) == k, timeout=5000)
    assert list(w.video._overlay) == list(w.session.overlay_lines(t)) and w.video._overlay
    det = w.video.drawn_detections()
    assert det is not None and np.allclose(det.xyxy[0], [200, 150, 320, 230])
    img, r = w.video.grab().toImage(), w.video.image_rect()
    s = r.width() / truth.size[0]
    assert _near(img, r.x() + 260 * s, r.y() + 230 * s, _rgb("alarm"), r=3)  # the box's bottom edge
    assert w.sonar._fan is not None and w.instruments.mode.text() == truth.modes[1][1]
    # play at 4x: the picture moves on
    w.seek(float(truth.frame_t_s[10]))
    qtbot.waitUntil(lambda: _shown_index(w) == 10, timeout=5000)
    w.timeline.speed_requested.emit(4.0)
    qtbot.mouseClick(w.timeline.play_button, Qt.LeftButton)
    assert w.clock.playing and w.clock.speed == 4.0
    qtbot.waitUntil(lambda: _shown_index(w) >= 30, timeout=10_000)
    qtbot.mouseClick(w.timeline.play_button, Qt.LeftButton)
    assert not w.clock.playing
    # 16x: frames are skipped, and once paused the newest one is on screen, not a backlog
    w.seek(float(truth.frame_t_s[0]))
    qtbot.waitUntil(lambda: _shown_index(w) == 0, timeout=5000)
    decodes = w.worker.decodes
    w.set_speed(16.0)
    w.toggle_play()
    qtbot.waitUntil(lambda: w.session.video_frame_at(w.clock.t_s) >= 120, timeout=10_000)
    w.toggle_play()
    stop = w.session.video_frame_at(w.clock.t_s)
    qtbot.waitUntil(lambda: w.shown.video.index == stop, timeout=5000)
    assert _shown_index(w) == stop and w.worker.decodes - decodes < stop
    # step: one frame on
    shown = w.session.video_frame_at(w.clock.t_s)
    qtbot.mouseClick(w.timeline.step_button, Qt.LeftButton)
    assert w.session.video_frame_at(w.clock.t_s) == shown + 1
    qtbot.waitUntil(lambda: _shown_index(w) == shown + 1, timeout=5000)
    qtbot.keyClick(w, Qt.Key_Left)  # the window's key: one frame back
    assert w.session.video_frame_at(w.clock.t_s) == shown
    qtbot.waitUntil(lambda: _shown_index(w) == shown, timeout=5000)
    # the next-mark button lands on the alarm, then the finding; back again on the alarm
    w.seek(truth.t0_s)
    qtbot.mouseClick(w.timeline.next_mark_button, Qt.LeftButton)
    assert w.clock.t_s == pytest.approx(truth.alarm_t_s, abs=1e-6)
    qtbot.mouseClick(w.timeline.next_mark_button, Qt.LeftButton)
    assert w.clock.t_s == pytest.approx(truth.finding_t_s, abs=1e-6)
    qtbot.mouseClick(w.timeline.prev_mark_button, Qt.LeftButton)
    assert w.clock.t_s == pytest.approx(truth.alarm_t_s, abs=1e-6)


def test_review_confirm_and_dismiss_sign_addenda(qtbot, settings, record):
    from recording.verify import verify_record

    truth, key = record
    w = _window(qtbot, settings, truth.folder, key)
    rv = w.review
    qtbot.waitUntil(lambda: len(rv.findings) == 1, timeout=10_000)
    rv.reviewer.setText("R. Viewer")
    assert rv.select(truth.finding_id)
    with qtbot.waitSignal(rv.review_written, timeout=20_000):
        qtbot.mouseClick(rv.buttons["confirmed"], Qt.LeftButton)
    qtbot.waitUntil(lambda: rv.findings[0].decision == "confirmed", timeout=10_000)
    assert rv.findings[0].decided.reviewer == "R. Viewer"
    qtbot.mouseClick(rv.buttons["dismissed"], Qt.LeftButton)
    dialog = rv._dialog
    assert dialog.isVisible() and not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.details.setText("a sea chest grating")
    with qtbot.waitSignal(rv.review_written, timeout=20_000):
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.LeftButton)
    qtbot.waitUntil(lambda: rv.findings[0].decision == "dismissed", timeout=10_000)
    decided = rv.findings[0].decided
    assert decided.text == "a sea chest grating" and decided.reviewer == "R. Viewer"
    assert "dismissed by R. Viewer" in rv.table.item(0, 5).text() and "a sea chest grating" in rv.history.text()
    qtbot.mouseClick(rv.buttons["measurement"], Qt.LeftButton)
    rv._dialog.setDoubleValue(0.42)
    with qtbot.waitSignal(rv.review_written, timeout=20_000):
        rv._dialog.accept()
    k = 57
    w.seek(float(truth.frame_t_s[k]))
    qtbot.waitUntil(lambda: w.current_frame() == (k, "camera"), timeout=10_000)
    with qtbot.waitSignal(rv.review_written, timeout=20_000) as written:
        qtbot.mouseClick(rv.buttons["evidence_photo"], Qt.LeftButton)
    entry = json.loads(Path(written.args[0]).read_text())["entries"][0]
    assert entry["frame_index"] == k and entry["finding_id"] == truth.finding_id and entry["reviewer"] == "R. Viewer"
    qtbot.waitUntil(lambda: [d.kind for d in rv.findings[0].decisions][-2:] == ["measurement", "evidence_photo"],
                    timeout=10_000)
    assert "length 0.42 m" in rv.history.text()
    assert len(list((truth.folder / "addenda").glob("*_review.json"))) >= 4
    report = verify_record(truth.folder)
    assert report.ok, report.problems
    assert settings.value("reviewer") == "R. Viewer"


def test_main_window_file_menu_opens_a_replay(qtbot, tmp_path, settings):
    from app.main_window import MainWindow
    from app.station import Station, StationConfig

    main = MainWindow(Station(StationConfig(video_url="udp://127.0.0.1:0"), log=lambda text: None), settings)
    main.show()
    titles = [a.text() for a in main.menuBar().actions()[0].menu().actions()]
    assert titles == ["Open record…", "Open telemetry log…", "Open telemetry log with video…"]
    replay = main.open_replay(record=False, path=SMALL_TLOG)
    qtbot.waitUntil(lambda: replay.session is not None, timeout=OPEN_MS)
    assert replay.isVisible() and replay.modes.mode_at(replay.session.t_start_s + 60) == "MANUAL"
    main.close()
    qtbot.waitUntil(lambda: main._closed_down and not main.replay_windows, timeout=60_000)


# ---- alarms no finding holds: reviewed on their own rows -------------------------------------
@pytest.fixture(scope="module")
def alarm_record(tmp_path_factory):
    """A record with the camera alarm its finding holds (alarm 1) and a sonar alarm raised
    without a pose that never became a finding (alarm 2)."""
    from recording.keys import InstallationKey
    from tests.app.replay_record_fixture import build_record

    base = tmp_path_factory.mktemp("replay_alarms")
    key = InstallationKey.load_or_create(base / "keys")
    return build_record(base / "records", key, seconds=20.0, fps=10.0, extra_alarm=True), key


def _cell_has(table, row: int, column: int, rgb) -> bool:
    """Some pixel of the drawn cell is within 40 of rgb (the decision's colour), seen unselected
    (a selected row is drawn in the palette's highlight colours)."""
    keep = table.currentRow()
    table.clearSelection()
    table.scrollToItem(table.item(row, column))
    img = table.viewport().grab().toImage()
    r = table.visualItemRect(table.item(row, column)) & table.viewport().rect()
    table.selectRow(keep)
    return any(_near(img, x, y, rgb, r=0)
               for x in range(r.left() + 1, r.right()) for y in range(r.top() + 1, r.bottom()))


def _unlinked_report_rows(folder):
    from recording.report_data import gather_report_data
    from recording.report_text import unlinked_alarm_rows

    return unlinked_alarm_rows(gather_report_data(folder))


def test_alarm_without_finding_is_listed_shown_confirmed_and_dismissed(qtbot, settings, alarm_record):
    from app.qt_replay_review_rows import COLUMNS
    from recording.verify import verify_record

    truth, key = alarm_record
    w = _window(qtbot, settings, truth.folder, key)
    rv = w.review
    qtbot.waitUntil(lambda: len(rv.rows) == 2, timeout=10_000)
    col = {name: i for i, name in enumerate(COLUMNS)}
    text = lambda r, c: rv.table.item(r, col[c]).text()  # noqa: E731
    # the finding first (its camera alarm reviewed through it), then the sonar alarm on its own row
    assert [text(r, "Id") for r in range(2)] == [f"finding {truth.finding_id}", f"alarm {truth.extra_alarm_id}"]
    assert "alarm 1 (camera): part of this finding" in rv.table.item(0, 0).toolTip()
    assert (text(1, "Class"), text(1, "Confidence"), text(1, "Source"), text(1, "Decision")) == \
        ("niche_anomaly", "0.65", "sonar", "not reviewed")
    assert "never became a finding" in rv.table.item(1, col["Decision"]).toolTip()
    assert not _cell_has(rv.table, 1, col["Decision"], _rgb("alarm"))  # not reviewed: not drawn as a decision
    assert rv.photo_source.model().item(1).isEnabled()  # the window says which sonar ping is on screen
    w.seek(truth.extra_alarm_t_s)
    qtbot.waitUntil(lambda: w.current_ping() is not None, timeout=10_000)
    assert w.current_ping()[1] == "sonar"
    # Show: the replay goes to the moment the alarm was raised
    assert rv.select_alarm(truth.extra_alarm_id) and not rv.select_alarm(1)  # alarm 1 has no row of its own
    assert rv.select_alarm(truth.extra_alarm_id) and rv.buttons["confirmed"].isEnabled()
    qtbot.mouseClick(rv.buttons["go"], Qt.LeftButton)
    assert w.clock.t_s == pytest.approx(truth.extra_alarm_t_s, abs=1e-6)
    # Confirm without a name: nothing is written, the reviewer is asked for it
    signed = lambda: sorted((truth.folder / "addenda").glob("*.json"))  # noqa: E731
    before = signed()
    rv.reviewer.setText("")
    with qtbot.waitSignal(rv.message, timeout=2000) as said:
        qtbot.mouseClick(rv.buttons["confirmed"], Qt.LeftButton)
    assert "your name" in said.args[0] and signed() == before
    rv.reviewer.setText("R. Viewer")
    with qtbot.waitSignal(rv.review_written, timeout=20_000) as written:
        qtbot.mouseClick(rv.buttons["confirmed"], Qt.LeftButton)
    entry = json.loads(Path(written.args[0]).read_text())["entries"][0]
    assert {k: entry[k] for k in ("alarm_id", "decision", "reviewer")} == \
        {"alarm_id": truth.extra_alarm_id, "decision": "confirmed", "reviewer": "R. Viewer"}
    assert "finding_id" not in entry
    qtbot.waitUntil(lambda: text(1, "Decision") == "confirmed by R. Viewer", timeout=10_000)
    assert text(0, "Decision") == "not reviewed"  # the finding is not touched by the alarm's call
    assert rv.selected_row().label == f"alarm {truth.extra_alarm_id}"  # the selection survives the re-read
    assert _cell_has(rv.table, 1, col["Decision"], _rgb("alarm"))
    assert _unlinked_report_rows(truth.folder)[0][0] == str(truth.extra_alarm_id)
    assert _unlinked_report_rows(truth.folder)[0][-1].startswith("CONFIRMED by R. Viewer")
    # Dismiss: not without a reason; with one, the record and the report say so
    qtbot.mouseClick(rv.buttons["dismissed"], Qt.LeftButton)
    dialog = rv._dialog
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert dialog.isVisible() and ok.text() == "Dismiss alarm" and not ok.isEnabled()
    dialog.details.setText("a school of fish on the sonar")
    with qtbot.waitSignal(rv.review_written, timeout=20_000) as written:
        qtbot.mouseClick(ok, Qt.LeftButton)
    entry = json.loads(Path(written.args[0]).read_text())["entries"][0]
    assert (entry["alarm_id"], entry["decision"], entry["text"]) == \
        (truth.extra_alarm_id, "dismissed", "a school of fish on the sonar")
    qtbot.waitUntil(lambda: text(1, "Decision") == "dismissed by R. Viewer", timeout=10_000)
    assert "a school of fish on the sonar" in rv.history.text() and "Alarm 2 (sonar)" in rv.history.text()
    assert _cell_has(rv.table, 1, col["Decision"], _rgb("stale"))
    report = verify_record(truth.folder)
    assert report.ok, report.problems
    row = _unlinked_report_rows(truth.folder)[0]
    assert row[:3] == ("2", "niche_anomaly", "sonar") and row[-1].startswith("DISMISSED by R. Viewer")


def test_alarm_note_measure_and_sonar_evidence_photo(qtbot, settings, alarm_record):
    import hashlib

    from app.qt_replay_review import QtReplayReview
    from app.replay_session import ReplaySession
    from recording.verify import verify_record

    truth, key = alarm_record
    session = ReplaySession.open(truth.folder)
    ping = truth.ping_at(truth.extra_alarm_t_s)
    assert ping >= 0 and session.sonar_ping_at(truth.extra_alarm_t_s) == ping
    rv = QtReplayReview(settings, key=key, current_frame=lambda: None, current_ping=lambda: (ping, "sonar"))
    qtbot.addWidget(rv)
    rv.resize(900, 500)
    rv.show()
    rv.set_session(session)
    qtbot.waitUntil(lambda: any(r.target == "alarm" for r in rv.rows), timeout=10_000)
    rv.reviewer.setText("S. Onar")
    assert rv.select_alarm(truth.extra_alarm_id)
    qtbot.mouseClick(rv.buttons["note"], Qt.LeftButton)
    assert not rv._dialog.buttons.button(rv._dialog.buttons.StandardButton.Ok).isEnabled()
    rv._dialog.editor.setPlainText("diver to check the sea chest on the next dive")
    with qtbot.waitSignal(rv.review_written, timeout=20_000):
        rv._dialog.accept()
    qtbot.mouseClick(rv.buttons["measurement"], Qt.LeftButton)
    rv._dialog.setDoubleValue(0.35)
    with qtbot.waitSignal(rv.review_written, timeout=20_000):
        rv._dialog.accept()
    # the camera shows nothing: a camera photo is refused with a message, nothing written
    rv.photo_source.setCurrentIndex(0)
    with qtbot.waitSignal(rv.message, timeout=2000) as said:
        qtbot.mouseClick(rv.buttons["evidence_photo"], Qt.LeftButton)
    assert "no camera frame on screen" in said.args[0]
    rv.photo_source.setCurrentIndex(1)
    assert rv.photo_source.currentData() == "sonar"
    with qtbot.waitSignal(rv.review_written, timeout=20_000) as written:
        qtbot.mouseClick(rv.buttons["evidence_photo"], Qt.LeftButton)
    entry = json.loads(Path(written.args[0]).read_text())["entries"][0]
    assert (entry["alarm_id"], entry["decision"], entry["source"], entry["ping_index"]) == \
        (truth.extra_alarm_id, "evidence_photo", "sonar", ping)
    assert entry["file"].startswith("sonar/")
    assert entry["file_sha256"] == hashlib.sha256((truth.folder / entry["file"]).read_bytes()).hexdigest()
    qtbot.waitUntil(lambda: rv.selected_row() is not None and [d.kind for d in rv.selected_row().decisions][-3:] ==
                    ["note", "measurement", "evidence_photo"], timeout=10_000)
    history = rv.history.text()
    assert "diver to check the sea chest" in history and "0.350 m" in history and f"sonar ping {ping}" in history
    alarm = next(a for a in session.alarms() if a.alarm_id == truth.extra_alarm_id)
    assert [d.reviewer for d in alarm.decisions][-3:] == ["S. Onar"] * 3
    report = verify_record(truth.folder)
    assert report.ok, report.problems
    # without a way to know the ping on screen, the sonar choice is offered but disabled
    plain = QtReplayReview(settings, key=key)
    qtbot.addWidget(plain)
    assert not plain.photo_source.model().item(1).isEnabled()


def test_record_without_findings_lists_every_alarm(alarm_record):
    """A record made without a hull model has alarms but no findings: each is a row."""
    from app.qt_replay_review_rows import review_rows
    from app.replay_session import ReplaySession

    truth, _ = alarm_record
    alarms = ReplaySession.open(truth.folder).alarms()
    rows = review_rows([], alarms)
    assert [(r.label, r.source) for r in rows] == [("alarm 1", "camera"), ("alarm 2", "sonar")]
    assert rows[0].t_utc_s == pytest.approx(truth.alarm_t_s) and rows[1].t_utc_s == pytest.approx(truth.extra_alarm_t_s)
