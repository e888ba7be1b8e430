"""The ground station's window on the embedded world, driven as a pilot drives it: buttons,
a (virtual-hardware-free) scripted gamepad through the real pad pilot, the real vehicle
link, sensors, detectors and hull map behind them."""
from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from app.gamepad import ScriptedSource, pad_state
from app.gamepad_map import default_map
from app.main_window import MainWindow
from app.station import Station, StationConfig

START_MS = 90_000


@pytest.fixture(autouse=True)
def _app_look_restored(qapp):
    """The window applies its theme to the whole application (palette, font, style): give
    the next test module the look it started with."""
    palette, font, style = qapp.palette(), qapp.font(), qapp.style().name()
    yield
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)


def _settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "hullwatch.ini"), QSettings.IniFormat)


def _close(qtbot, window) -> None:
    if not window._closed_down:
        window.close()
        qtbot.waitUntil(lambda: window._closed_down, timeout=60_000)


@pytest.fixture
def window(qtbot, tmp_path):
    # a real vehicle's video would come to UDP 5600; tests take any free port
    station = Station(StationConfig(video_url="udp://127.0.0.1:0"), log=lambda text: None)
    w = MainWindow(station, _settings(tmp_path))
    # not qtbot.addWidget: pytest-qt would close and delete the window before this fixture's
    # teardown, while its orderly shutdown still runs; _close waits for that shutdown instead
    w.resize(1600, 1000)
    w.show()
    w.start_station()
    qtbot.waitUntil(lambda: w.bridge is not None and station.vehicle.state.discovered, timeout=START_MS)
    yield w
    _close(qtbot, w)


def _press(window, action: str, hold_s: float = 0.3) -> None:
    """Press the gamepad button mapped to `action`, through the window's real pad pilot."""
    button = default_map().buttons.button_for(action)
    window.pad_pilot.set_source(ScriptedSource([(0.0, pad_state()), (0.1, pad_state(pressed=[button])),
                                                (0.1 + hold_s, pad_state())]))


@pytest.mark.timeout(600)
def test_arm_mode_dive_and_telemetry_from_the_window_then_an_orderly_shutdown(qtbot, window):
    before = {t.name for t in threading.enumerate()}
    st = window.station
    panel = window.vehicle_panel
    qtbot.mouseClick(panel.arm_button, _left())
    qtbot.waitUntil(lambda: st.vehicle.state.armed, timeout=15_000)
    qtbot.mouseClick(panel.mode_buttons["ALT_HOLD"], _left())
    qtbot.waitUntil(lambda: st.vehicle.state.mode == "ALT_HOLD", timeout=15_000)
    panel.dive_depth.setValue(1.5)
    qtbot.mouseClick(panel.dive_button, _left())
    qtbot.waitUntil(lambda: abs((st.vehicle.state.depth_m or 0) - 1.5) < 0.2, timeout=60_000)
    # the instruments follow the vehicle
    depth_label = window.instruments.findChild(type(window.link_label), "depth_value")
    qtbot.waitUntil(lambda: depth_label.text().startswith("1."), timeout=5_000)
    mode_label = window.instruments.findChild(type(window.link_label), "mode_value")
    assert "ALT_HOLD" in mode_label.text()
    assert window.link_label.text().startswith("link ok")
    # live video and sonar reached their views; the map counts what they see
    qtbot.waitUntil(lambda: window.video.status_text() == "" or "stalled" not in window.video.status_text(),
                    timeout=5_000)
    assert window.video.snapshot() is not None
    qtbot.waitUntil(lambda: window.sonar.ping_rate_hz_measured() > 0, timeout=10_000)
    # close: workers stop in order, the window really closes, no thread is left behind
    done = []
    window.shut_down.connect(lambda: done.append(True))
    window.close()
    qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    assert st.vehicle.closed
    qtbot.waitUntil(lambda: not ({t.name for t in threading.enumerate() if t.is_alive()} - before
                                 - {"gui-task_0", "gui-task_1"}), timeout=20_000)


@pytest.mark.timeout(900)
def test_a_planted_container_raises_an_alarm_the_pilot_acknowledges_with_the_gamepad_and_confirms(qtbot, window):
    from app.fly_to import fly_to, target_for
    from app.qt_tasks import run_task

    st = window.station
    ew = st.world["world"]
    placement = st.world["placement"]
    _press(window, "arm")  # the gamepad arms, through the window's action routing
    qtbot.waitUntil(lambda: st.vehicle.state.armed, timeout=15_000)
    # lamps on, as the pilot does at depth: the slider moved from the keyboard (PageUp: +10 %)
    slider = window.vehicle_panel.lights
    for _ in range(5):
        qtbot.keyClick(slider, Qt.Key_PageUp)
    qtbot.waitUntil(lambda: (st.vehicle.state.lights1 or 0) >= 0.4, timeout=30_000)
    # the nearest container on the ship's side, looked at from 1.5 m
    side = [o for o in ew.scenario.objects if o.class_name == "parasitic_container" and o.attached_to != "free"
            and o.kind != "sea_chest_package" and math.hypot(*o.normal_h[:2]) > 0.5]
    assert side, "the embedded world plants containers on the ship's side"
    ned = [placement.h_to_ned(np.array([o.center_h]))[0] for o in side]
    obj = side[int(np.argmin([math.hypot(p[0], p[1]) for p in ned]))]
    target = target_for(ew.model.queries, placement, obj.center_h)
    run_task("fly to the container", fly_to, st.vehicle, target, 300.0, executor=st.vehicle, parent=window)
    qtbot.waitUntil(lambda: any(a.class_name == "parasitic_container" for a in window.review.alarms()),
                    timeout=300_000)
    alarm = next(a for a in window.review.alarms() if a.class_name == "parasitic_container")
    assert window.alarms.flashing_ids(), "a new alarm flashes until acknowledged"
    _press(window, "acknowledge_alarm")
    qtbot.waitUntil(lambda: not window.alarms.flashing_ids(), timeout=10_000)
    assert window.review.status(alarm.alarm_id) == "acknowledged"
    window.alarms.select_alarm(alarm.alarm_id)
    qtbot.mouseClick(window.alarms.buttons["confirm"], _left())
    assert window.review.status(alarm.alarm_id) == "confirmed"
    # the hull map places it: the alarm gets its hull-surface address, near the container
    qtbot.waitUntil(lambda: window.review.alarm(alarm.alarm_id).address is not None, timeout=30_000)
    finding = next(f for f in st.station_map.worker.latest.findings if ("camera", alarm.track_id) in f.tracks
                   or any(("camera", t) in f.tracks for t in alarm.track_ids))
    assert np.linalg.norm(np.asarray(finding.position_h) - np.asarray(obj.center_h)) < 1.0


@pytest.mark.timeout(300)
def test_link_loss_is_shown_at_once_and_recovers_by_itself(qtbot, window):
    world = window.station.world_proc  # the embedded world runs in its own process, as a vehicle would
    assert world is not None and world.running
    banner = window.instruments.link_banner
    world.set_fault("link_down", True)
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: window.link_label.text().startswith("LINK LOST") and banner.isVisible(), timeout=10_000)
    lost_after_s = time.monotonic() - t0
    assert lost_after_s < 5.0
    world.set_fault("link_down", False)
    qtbot.waitUntil(lambda: window.link_label.text().startswith(("link restored", "link ok")), timeout=20_000)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)


@pytest.mark.timeout(300)
def test_the_connect_dialog_switches_to_another_vehicle(qtbot, window):
    """From the embedded world to a vehicle on TCP (as ArduPilot SITL serves): the old
    station stops in order, the panels follow the new vehicle."""
    from app.qt_connect_dialog import QtConnectDialog
    from sim.vehicle_server import SimConfig, SimVehicle

    other = SimVehicle(SimConfig(udp_target=None, tcp_port=0))
    other.start()
    old = window.station
    try:
        window.choose_connection()
        dialog = window.findChild(QtConnectDialog)
        dialog.set_url(f"tcp:127.0.0.1:{other.tcp_port}")
        dialog.accept()
        qtbot.waitUntil(lambda: window.station is not old and window.bridge is not None
                        and window.station.vehicle.state.discovered, timeout=60_000)
        assert old.vehicle.closed and not window.station.embedded
        qtbot.mouseClick(window.vehicle_panel.arm_button, _left())
        qtbot.waitUntil(other.is_armed, timeout=15_000)
    finally:
        _close(qtbot, window)
        other.stop()


def test_layout_and_theme_are_saved_and_restored(qtbot, tmp_path):
    first = MainWindow(Station(StationConfig()), _settings(tmp_path))
    first.show()
    first.set_theme("dark")
    first.docks["params"].hide()
    first.docks["sonar"].setFloating(True)
    _close(qtbot, first)
    again = MainWindow(Station(StationConfig()), _settings(tmp_path))
    again.show()
    try:
        assert again.theme_actions["dark"].isChecked()
        assert again.palette().window().color().lightness() < 80
        assert not again.docks["params"].isVisible()
        assert again.docks["sonar"].isFloating()
    finally:
        _close(qtbot, again)


def _left():
    return Qt.LeftButton
