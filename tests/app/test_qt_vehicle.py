"""The vehicle panel, parameter editor and connection dialog against a simulated ArduSub on
loopback: clicks become commands, the vehicle's answers (or refusals) come back into the
panel, and the GUI keeps running while commands wait for their ACKs."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from app.qt_connect_dialog import QtConnectDialog, serial_ports
from app.qt_params import STATUS, VALUE, QtParamEditor
from app.qt_vehicle import QtVehiclePanel
from tests.vehicle.sim_fixtures import sim_and_station
from vehicle.params import read_params_file

STATE_RATE_MS = 50  # the main window's 20 Hz state feed


def _panel(qtbot, vehicle):
    panel = QtVehiclePanel()
    qtbot.addWidget(panel)
    panel.set_vehicle(vehicle)
    feed = QTimer(panel, interval=STATE_RATE_MS)
    feed.timeout.connect(lambda: panel.update_state(vehicle.state))
    feed.start()
    panel.show()
    qtbot.waitUntil(lambda: panel.header.text().startswith(("ARMED", "disarmed")), timeout=5000)
    return panel


class _Ticker:
    """Counts GUI-thread timer ticks: a blocked GUI thread stops counting."""

    def __init__(self, parent):
        self.ticks = 0
        self.timer = QTimer(parent, interval=20)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self):
        self.ticks += 1


@pytest.mark.timeout(120)
def test_arm_mode_dive_and_disarm_at_depth_through_the_panel(qtbot):
    with sim_and_station() as (sim, vehicle):
        vehicle.manual.keep_alive(True)  # the station pilot's neutral sticks (as the gamepad does)
        panel = _panel(qtbot, vehicle)
        assert not vehicle.state.armed

        qtbot.mouseClick(panel.arm_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: vehicle.state.armed, timeout=10_000)
        qtbot.waitUntil(lambda: "arm: done" in panel.status.text(), timeout=5000)
        qtbot.waitUntil(lambda: panel.header.text().startswith("ARMED"), timeout=2000)

        qtbot.mouseClick(panel.mode_buttons["ALT_HOLD"], Qt.LeftButton)
        qtbot.waitUntil(lambda: vehicle.state.mode == "ALT_HOLD", timeout=10_000)
        qtbot.waitUntil(lambda: panel.mode_buttons["ALT_HOLD"].isChecked(), timeout=2000)
        assert not panel.mode_buttons["MANUAL"].isChecked()

        ticker = _Ticker(panel)
        panel.dive_depth.setValue(1.5)
        qtbot.mouseClick(panel.dive_button, Qt.LeftButton)
        assert not panel.dive_button.isEnabled() and panel.dive_button.text().endswith("…")  # busy, not blocking
        qtbot.waitUntil(lambda: (vehicle.state.depth_m or 0) >= 1.2, timeout=30_000)
        qtbot.waitUntil(lambda: "dive to 1.5 m: done" in panel.status.text(), timeout=30_000)
        assert abs(vehicle.state.depth_m - 1.5) <= 0.35
        assert ticker.ticks >= 50, f"the GUI thread ticked only {ticker.ticks} times during a dive of several seconds"
        assert panel.dive_button.isEnabled() and panel.dive_button.text() == "Dive to"

        qtbot.mouseClick(panel.disarm_button, Qt.LeftButton)  # deeper than 0.5 m: asks first
        qtbot.waitUntil(lambda: panel.confirm_box is not None and panel.confirm_box.isVisible(), timeout=2000)
        asked_at_m = float(re.search(r"is ([0-9.]+) m deep", panel.confirm_box.text()).group(1))
        assert asked_at_m > 1.0 and abs(asked_at_m - vehicle.state.depth_m) < 0.3
        qtbot.mouseClick(panel.confirm_box.button(QMessageBox.Cancel), Qt.LeftButton)
        qtbot.wait(500)
        assert vehicle.state.armed and "disarm" not in panel.status.text()
        qtbot.mouseClick(panel.disarm_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: panel.confirm_box is not None and panel.confirm_box.isVisible(), timeout=2000)
        qtbot.mouseClick(panel.confirm_box.button(QMessageBox.Yes), Qt.LeftButton)
        qtbot.waitUntil(lambda: not vehicle.state.armed, timeout=10_000)
        qtbot.waitUntil(lambda: "disarm: done" in panel.status.text(), timeout=5000)


@pytest.mark.timeout(120)
def test_refused_commands_show_the_vehicles_reason_and_the_gui_keeps_running(qtbot):
    with sim_and_station(position_estimate=False, params={"BATT_ARM_VOLT": 40.0}) as (sim, vehicle):
        panel = _panel(qtbot, vehicle)
        qtbot.waitUntil(lambda: not panel.mode_buttons["AUTO"].isEnabled(), timeout=5000)
        for name in ("GUIDED", "AUTO", "POSHOLD"):  # no DVL/GPS: these modes cannot be flown
            assert not panel.mode_buttons[name].isEnabled()
            assert "position estimate" in panel.mode_buttons[name].toolTip()
        assert panel.mode_buttons["ALT_HOLD"].isEnabled() and not panel.mission_start_button.isEnabled()

        qtbot.mouseClick(panel.arm_button, Qt.LeftButton)
        assert panel.status.text() == "arm…"  # the click returned at once; the ACK comes later
        qtbot.waitUntil(lambda: "rejected" in panel.status.text(), timeout=10_000)
        assert "below minimum arming voltage" in panel.status.text(), panel.status.text()
        assert not vehicle.state.armed
        assert panel.arm_button.isEnabled() and panel.arm_button.text() == "Arm"

        sim.stop()  # the vehicle goes silent: a command now waits out all its retries (~3 s)
        ticker = _Ticker(panel)
        qtbot.mouseClick(panel.mode_buttons["ALT_HOLD"], Qt.LeftButton)
        assert panel.mode_buttons["ALT_HOLD"].text().endswith("…")
        qtbot.waitUntil(lambda: "no answer from the vehicle" in panel.status.text(), timeout=15_000)
        assert ticker.ticks >= 50, f"the GUI thread ticked only {ticker.ticks} times while the command waited"


@pytest.mark.timeout(120)
def test_auto_without_a_mission_is_refused_with_the_vehicles_words(qtbot):
    with sim_and_station() as (sim, vehicle):
        panel = _panel(qtbot, vehicle)
        qtbot.waitUntil(lambda: panel.mode_buttons["AUTO"].isEnabled(), timeout=5000)  # DVL: position known
        results = []
        panel.command_finished.connect(lambda name, ok, text: results.append((name, ok, text)))
        qtbot.mouseClick(panel.mode_buttons["AUTO"], Qt.LeftButton)
        qtbot.waitUntil(lambda: bool(results), timeout=10_000)
        assert results[0][:2] == ("mode AUTO", False)
        assert "AUTO requires a mission" in panel.status.text(), panel.status.text()
        assert vehicle.state.mode != "AUTO" and not panel.mode_buttons["AUTO"].isChecked()


@pytest.mark.timeout(120)
def test_lights_slider_and_camera_tilt_reach_the_vehicle(qtbot):
    with sim_and_station() as (sim, vehicle):
        panel = _panel(qtbot, vehicle)
        qtbot.waitUntil(lambda: vehicle.state.named("Lights1") is not None
                        and vehicle.state.named("CamTilt") is not None, timeout=10_000)
        assert vehicle.state.named("Lights1") < 0.1
        panel.lights.setFocus()
        for _ in range(5):  # the pilot pages the slider up to half
            qtbot.keyClick(panel.lights, Qt.Key_PageUp)
        assert panel.lights.value() == 50
        qtbot.waitUntil(lambda: "lights: done" in panel.status.text(), timeout=20_000)
        assert abs(vehicle.state.named("Lights1") - 0.5) <= 0.07
        qtbot.waitUntil(lambda: abs(panel.lights.value() - 50) <= 7, timeout=2000)

        tilt = vehicle.state.named("CamTilt")
        qtbot.mouseClick(panel.tilt_up, Qt.LeftButton)
        qtbot.waitUntil(lambda: "camera tilt up: done" in panel.status.text(), timeout=10_000)
        qtbot.waitUntil(lambda: vehicle.state.named("CamTilt") > tilt + 0.02, timeout=5000)

        assert abs(vehicle.state.named("PilotGain") - 0.5) < 0.01  # ArduSub's JS_GAIN_DEFAULT
        panel.gain.setValue(0.75)
        qtbot.mouseClick(panel.gain_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: "pilot gain: done" in panel.status.text(), timeout=10_000)
        assert abs(vehicle.state.named("PilotGain") - 0.75) <= 0.13


@pytest.mark.timeout(180)
def test_param_editor_fetches_filters_edits_saves_and_loads(qtbot, tmp_path):
    with sim_and_station() as (sim, vehicle):
        editor = QtParamEditor()
        qtbot.addWidget(editor)
        editor.set_vehicle(vehicle)
        progress = []
        editor.fetch_button.click()
        editor.progress.valueChanged.connect(progress.append)
        qtbot.waitUntil(lambda: editor.status.text().endswith("parameters") and editor.fetch_button.isEnabled(),
                        timeout=60_000)
        count = editor.model.rowCount()
        assert count == len(vehicle.params.values) > 100
        assert editor.progress.isHidden() and progress and progress[-1] == 1000  # the bar went to full

        qtbot.keyClicks(editor.search, "js_lights")
        names = [editor.proxy.index(r, 0).data() for r in range(editor.proxy.rowCount())]
        assert "JS_LIGHTS_STEPS" in names and all("JS_LIGHTS" in n for n in names) and len(names) < count

        row = names.index("JS_LIGHTS_STEPS")
        assert editor.proxy.index(row, VALUE).data() == "8"
        editor.proxy.setData(editor.proxy.index(row, VALUE), "6")  # what typing in the cell does
        status = editor.proxy.index(row, STATUS)
        qtbot.waitUntil(lambda: "confirmed" in (status.data() or ""), timeout=10_000)
        assert status.data() == "confirmed 6" and vehicle.params.get("JS_LIGHTS_STEPS", refresh=True) == 6

        editor.proxy.setData(editor.proxy.index(row, VALUE), "lots")
        assert "not a number" in editor.proxy.index(row, STATUS).data()
        assert editor.proxy.index(row, VALUE).data() == "6"  # the vehicle's value is shown again

        path = tmp_path / "sub.params"
        editor.save_to(path)
        qtbot.waitUntil(lambda: editor.status.text().startswith("saved"), timeout=10_000)
        assert read_params_file(path)["JS_LIGHTS_STEPS"] == 6 and len(read_params_file(path)) == count

        vehicle.params.set("JS_LIGHTS_STEPS", 3)  # someone changes it elsewhere; the file restores it
        editor.load_from(path)
        qtbot.waitUntil(lambda: editor.status.text().startswith("file applied"), timeout=30_000)
        assert "1 parameter(s) changed" in editor.status.text(), editor.status.text()
        assert vehicle.params.get("JS_LIGHTS_STEPS", refresh=True) == 6
        assert editor.proxy.index(row, VALUE).data() == "6"

        editor.load_from(tmp_path / "missing.params")
        qtbot.waitUntil(lambda: "does not exist" in editor.status.text(), timeout=10_000)


def test_connect_dialog_builds_and_checks_connection_strings(qtbot):
    dialog = QtConnectDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.ports_listed, timeout=10_000) as listed:  # listed off the GUI thread
        pass
    assert listed.args == [len(serial_ports())] and dialog.serial_port.count() == listed.args[0]
    ok = dialog.buttons.button(QDialogButtonBox.Ok)
    assert dialog.url() == "embedded" and ok.isEnabled()

    dialog.kind_buttons["udp"].setChecked(True)
    assert dialog.url() == "udpin:0.0.0.0:14550" and ok.isEnabled() and dialog.error.text() == ""
    dialog.udp.setText("14551")
    assert dialog.url() == "udpin:0.0.0.0:14551"

    dialog.kind_buttons["tcp"].setChecked(True)
    dialog.tcp.clear()
    qtbot.keyClicks(dialog.tcp, "192.168.2.2:port")
    assert not ok.isEnabled() and "port 'port' is not a number" in dialog.error.text()
    dialog.tcp.setText("192.168.2.2:5760")
    assert dialog.url() == "tcp:192.168.2.2:5760" and ok.isEnabled()

    dialog.kind_buttons["serial"].setChecked(True)
    dialog.serial_port.setEditText("/dev/ttyUSB0")
    dialog.baud.setCurrentText("57600")
    assert dialog.url() == "serial:/dev/ttyUSB0:57600" and ok.isEnabled()
    dialog.baud.setCurrentText("fast")
    assert not ok.isEnabled() and "baud" in dialog.error.text()

    dialog.serial_port.setEditText("")
    assert not ok.isEnabled() and "choose a serial port" in dialog.error.text()

    dialog.kind_buttons["udp"].setChecked(True)
    dialog.udp.setText("tcp:1.2.3.4:5760")
    assert not ok.isEnabled() and "udpin:" in dialog.error.text()
    dialog.udp.setText("udpin:0.0.0.0:14550")
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.mouseClick(ok, Qt.LeftButton)
    assert dialog.url() == "udpin:0.0.0.0:14550"

    again = QtConnectDialog(initial_url="tcp:10.0.0.5:5760")
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.ports_listed, timeout=10_000):
        pass
    assert again.kind() == "tcp" and again.url() == "tcp:10.0.0.5:5760"
