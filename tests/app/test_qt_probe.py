"""The bench's hooks into the window (app/qt_probe.py) on real widgets and timers."""
import time

from PySide6.QtWidgets import QLabel

from app.qt_probe import PaintWatch, application, ini_settings, precise_single_shot, repeating, run_for, single_shot


def test_paint_watch_counts_every_paint_of_the_widget(qtbot):
    label = QLabel("probe")
    qtbot.addWidget(label)
    paints = []
    PaintWatch(label, lambda: paints.append(time.monotonic()))
    label.show()
    qtbot.waitUntil(lambda: len(paints) >= 1, timeout=5000)
    before = len(paints)
    label.setText("probe, again")
    label.repaint()
    assert len(paints) > before


def test_timers_fire_as_asked_while_run_for_serves_the_event_loop(qapp):
    assert application() is qapp
    fired, ticks, later = [], [], []
    shot = precise_single_shot(lambda: fired.append(time.monotonic()))
    t0 = time.monotonic()
    shot.start(20)
    tick = repeating(30, lambda: ticks.append(1))
    single_shot(50, lambda: later.append(1))
    run_for(0.3)
    tick.stop()
    assert len(fired) == 1 and fired[0] - t0 >= 0.019   # single-shot: once, not before its time
    assert len(ticks) >= 3 and later == [1]


def test_ini_settings_live_in_their_own_file(tmp_path):
    path = tmp_path / "hullwatch.ini"
    settings = ini_settings(path)
    settings.setValue("probe/value", 7)
    settings.sync()
    assert "value=7" in path.read_text()
