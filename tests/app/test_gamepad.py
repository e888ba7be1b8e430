"""Gamepad → map → PadPilot → Vehicle.manual → simulated ArduSub on loopback.

The pad itself is an SDL virtual game controller read through the real PygameSource, or a
ScriptedSource / the KeyboardSource fed by Qt key events; everything after the pad is the
real path. What the sim receives is tapped at its MANUAL_CONTROL handler.
"""
from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import QThread, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.gamepad import (KeyboardSource, PadPilot, PygameSource, ScriptedSource, VEHICLE_ACTIONS, pad_state,
                         run_vehicle_action)
from app.gamepad_map import (AxisMap, GamepadMapError, default_map, load_map, save_map, shape, to_dict)
from app.qt_gamepad import QtGamepadPanel
from app.qt_theme import colour
from tests.vehicle.sim_fixtures import sim_and_station

RT, FWD_AXIS, TRIGGER_AXIS = 16, 3, 5


def _tap(sim) -> list[tuple[float, int, int, int, int]]:
    """(t_monotonic, x, y, z, r) of every MANUAL_CONTROL the sim handles."""
    got = []
    original = sim._on_manual_control

    def tap(msg, peer, now):
        got.append((time.monotonic(), msg.x, msg.y, msg.z, msg.r))
        original(msg, peer, now)
    sim._on_manual_control = tap
    return got


def _wait(cond, timeout_s=5.0, what="condition"):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# ------------------------------------------------------------------ map
def test_shaping_deadzone_expo_invert():
    assert shape(0.05, 0.1, 0.0) == 0.0
    assert shape(0.55, 0.1, 0.0) == pytest.approx(0.5)
    assert shape(-1.0, 0.1, 0.3) == pytest.approx(-1.0)  # full travel survives deadzone and expo
    assert shape(0.5, 0.0, 1.0) == pytest.approx(0.125)
    assert shape(0.5, 0.0, 0.3) == pytest.approx(0.7 * 0.5 + 0.3 * 0.125)
    assert AxisMap(3, invert=True, deadzone=0, expo=0).apply((0, 0, 0, -0.4)) == pytest.approx(0.4)
    assert AxisMap(9).apply((0.0,)) == 0.0  # a pad with fewer axes
    m = default_map()
    assert m.sticks((0, -1.0, 0, -1.0, 0, 0)) == (1000, 0, 1000, 0)  # both sticks up: forward and up
    assert m.sticks((0.05, 0, 0.02, 0, 0, 0)) == (0, 0, 500, 0)


def test_map_json_round_trip_and_bad_files_named(tmp_path):
    m = default_map()
    m = m.__class__(**{**m.__dict__, "buttons": m.buttons.with_action("toggle_recording", 5)})
    path = tmp_path / "pad.json"
    save_map(m, path)
    assert load_map(path) == m
    assert m.buttons.with_action("arm", 0).button_for("acknowledge_alarm") is None  # stolen, not doubled

    def refused(data, *words):
        path.write_text(json.dumps(data))
        with pytest.raises(GamepadMapError) as info:
            load_map(path)
        for w in words:
            assert w in str(info.value)
    good = to_dict(m)
    refused({**good, "axes": {**good["axes"], "forward": {**good["axes"]["forward"], "deadzone": "abc"}}},
            "axes.forward.deadzone", "'abc'")
    refused({**good, "buttons": {**good["buttons"], "snapshot": 0}}, "acknowledge_alarm", "snapshot", "A")
    refused({**good, "buttons": {**good["buttons"], "launch_torpedo": 3}}, "buttons.launch_torpedo")
    refused({**good, "deadman": 0}, "deadman", "acknowledge_alarm")
    refused({k: v for k, v in good.items() if k != "axes"}, "axes: missing")
    path.write_text("{ not json")
    with pytest.raises(GamepadMapError, match="not valid JSON"):
        load_map(path)


# ------------------------------------------------------------------ flying the sim
@pytest.fixture
def virtual_pad():
    pytest.importorskip("pygame")
    from app.gamepad_sdl import VirtualPad
    pads = []

    def make():
        pad = VirtualPad()
        pad.set_axis(TRIGGER_AXIS, -1.0)
        pad.set_axis(4, -1.0)
        pads.append(pad)
        return pad
    yield make
    for pad in pads:
        pad.unplug()


def test_virtual_sdl_pad_flies_the_sim_at_25hz_and_deadman_gives_neutral(virtual_pad):
    with sim_and_station() as (sim, v):
        got = _tap(sim)
        v.manual.keep_alive(True)
        v.arm()
        v.set_mode("MANUAL")
        pad = virtual_pad()
        pilot = PadPilot(v, PygameSource("virtual"))
        pilot.start()
        try:
            _wait(lambda: pilot.status.connected, what="virtual pad seen by SDL")
            pad.set_axis(FWD_AXIS, -1.0)  # right stick fully up, deadman not yet held
            time.sleep(0.3)
            assert not pilot.status.live and all(x == 0 for _, x, *_ in got)
            h0 = sim.truth().heading_rad
            p0 = sim.truth().position_ned_m.copy()
            pad.set_axis(TRIGGER_AXIS, 1.0)  # RT: deadman held
            _wait(lambda: pilot.status.live, what="LIVE")
            t_live = time.monotonic()
            time.sleep(1.5)
            pad.set_axis(TRIGGER_AXIS, -1.0)
            t_release = time.monotonic()
            _wait(lambda: not pilot.status.live, what="SAFE")
            time.sleep(0.3)
            held = [g for g in got if t_live + 0.1 < g[0] < t_release - 0.05]
            rate_hz = (len(held) - 1) / (held[-1][0] - held[0][0])
            assert 21.0 < rate_hz < 29.0
            assert all(x >= 990 and z == 500 for _, x, _, z, _ in held)
            after = [g for g in got if g[0] > t_release]
            first_neutral = next((t for t, x, *_ in after if x == 0), None)
            assert first_neutral is not None, "no neutral stick after the deadman was released"
            assert first_neutral - t_release < 0.2  # poll (40 ms) + next frame (40 ms) + a loaded machine
            assert all(x == 0 for t, x, *_ in after if t > first_neutral)
            moved = sim.truth().position_ned_m - p0
            import math
            assert moved[0] * math.cos(h0) + moved[1] * math.sin(h0) > 0.3  # it went forward
            pad.unplug()  # pad lost: disconnected, then a new pad is picked up
            _wait(lambda: not pilot.status.connected, what="pad lost")
            assert "disconnected" in pilot.status.reason
            virtual_pad()
            _wait(lambda: pilot.status.connected, what="pad back")
        finally:
            pilot.stop()


def test_button_edges_fire_once_and_reach_the_vehicle():
    script = [(0.0, pad_state()), (0.2, pad_state(pressed=[6])), (0.8, pad_state()),
              (0.9, pad_state(pressed=[0])), (1.0, pad_state(pressed=[0, 2])), (1.3, pad_state())]
    with sim_and_station() as (sim, v):
        v.manual.keep_alive(True)
        fired, done = [], []

        def on_action(name):
            fired.append(name)
            if name in VEHICLE_ACTIONS:
                done.append(v.submit(run_vehicle_action, v, name))
        pilot = PadPilot(v, ScriptedSource(script), on_action=on_action)
        pilot.start()
        try:
            _wait(lambda: len(fired) >= 3, what="three actions")
            time.sleep(0.5)
            for f in done:
                f.result(timeout=5)
        finally:
            pilot.stop()
        assert fired == ["arm", "acknowledge_alarm", "mode_alt_hold"]
        assert sim.truth().armed and sim.truth().mode == "ALT_HOLD"


# ------------------------------------------------------------------ Qt panel
def _deadman_rgb(panel):
    img = panel.deadman_label.grab().toImage()
    return img.pixelColor(4, 4).getRgb()[:3]


def test_panel_live_safe_and_keyboard_flies_the_same_pilot(qtbot):
    with sim_and_station() as (sim, v):
        got = _tap(sim)
        keyboard = KeyboardSource()
        pilot = PadPilot(v, keyboard)
        host = QWidget()
        child, text = QPushButton("focus here"), QLineEdit()
        lay = QVBoxLayout(host)
        lay.addWidget(child)
        lay.addWidget(text)
        qtbot.addWidget(host)
        panel = QtGamepadPanel(pilot, keyboard)
        qtbot.addWidget(panel)
        panel.install_keyboard(host)
        panel.show()
        pilot.start()
        try:
            qtbot.waitUntil(lambda: panel.deadman_label.text() == "SAFE", timeout=2000)
            assert _deadman_rgb(panel) == colour("stale").getRgb()[:3]
            qtbot.keyPress(text, Qt.Key_Space)  # typing in a text field does not fly
            time.sleep(0.1)
            assert not keyboard.deadman_on
            qtbot.keyClick(child, Qt.Key_Space)
            qtbot.keyPress(child, Qt.Key_W)
            qtbot.waitUntil(lambda: panel.deadman_label.text() == "LIVE", timeout=2000)
            assert _deadman_rgb(panel) == colour("ok").getRgb()[:3]
            qtbot.waitUntil(lambda: any(x == 1000 for _, x, *_ in got), timeout=2000)
            assert panel.sticks.dot_centres()["move"].y() < panel.sticks.rect().center().y() - 20
            qtbot.keyRelease(child, Qt.Key_W)
            qtbot.keyClick(child, Qt.Key_Space)
            qtbot.waitUntil(lambda: panel.deadman_label.text() == "SAFE", timeout=2000)
            n = len(got)
            qtbot.waitUntil(lambda: len(got) > n, timeout=2000)
            assert got[-1][1] == 0
            with qtbot.waitSignal(panel.action_triggered, timeout=2000) as blocker:
                threads = []
                panel.action_triggered.connect(lambda _: threads.append(QThread.currentThread()))
                qtbot.keyClick(child, Qt.Key_Return)
            assert blocker.args == ["acknowledge_alarm"]
            qtbot.waitUntil(lambda: bool(threads), timeout=1000)
            assert threads[0] == QApplication.instance().thread()
        finally:
            panel.close()
            pilot.stop()


def test_panel_captures_a_button_and_reports_a_bad_file(qtbot, tmp_path):
    script = [(0.0, pad_state()), (0.6, pad_state(pressed=[5]))]
    with sim_and_station() as (_, v):
        fired = []
        pilot = PadPilot(v, ScriptedSource(script))
        panel = QtGamepadPanel(pilot)
        panel.action_triggered.connect(fired.append)
        qtbot.addWidget(panel)
        pilot.start()
        try:
            panel.start_capture("arm")
            qtbot.waitUntil(lambda: pilot.pad_map.buttons.button_for("arm") == 5, timeout=3000)
            assert panel.table.item(panel._rows().index("arm"), 1).text() == "Guide"
            qtbot.wait(300)
            assert fired == [] and pilot.actions_enabled  # the captured press did not arm
            bad = tmp_path / "bad.json"
            bad.write_text(json.dumps({**to_dict(default_map()), "deadman": "sometimes"}))
            panel.load_from(str(bad))
            qtbot.waitUntil(lambda: "deadman" in panel.message.text(), timeout=3000)
            assert "bad.json" in panel.message.text()
            assert pilot.pad_map.buttons.button_for("arm") == 5  # the bad file changed nothing
        finally:
            panel.close()
            pilot.stop()
