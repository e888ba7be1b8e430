import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

M = mavlink


def _press(gcs, button, hold_s=0.0):
    gcs.manual_control(buttons=1 << button)
    if hold_s:
        end = time.monotonic() + hold_s
        while time.monotonic() < end:
            time.sleep(0.04)
            gcs.manual_control(buttons=1 << button)
    time.sleep(0.05)
    gcs.manual_control(buttons=0)
    time.sleep(0.05)


def _named(gcs, name, since):
    values = [m.value for m in gcs.all("NAMED_VALUE_FLOAT", since) if m.name == name]
    return values[-1] if values else None


def _stream_named(gcs):
    gcs.send(gcs.mav.request_data_stream_encode(1, 1, M.MAV_DATA_STREAM_EXTENDED_STATUS, 10, 1))


def test_lights_step_per_press_edge_with_feedback(sim_and_gcs):
    sim, gcs = sim_and_gcs
    _stream_named(gcs)
    for _ in range(3):
        _press(gcs, 14)             # lights1_brighter
    assert sim.truth().lights1 == pytest.approx(3 / 8)
    # holding the button does not repeat
    _press(gcs, 14, hold_s=0.3)
    assert sim.truth().lights1 == pytest.approx(4 / 8)
    _press(gcs, 13)                 # lights1_dimmer
    assert sim.truth().lights1 == pytest.approx(3 / 8)
    time.sleep(0.3)
    since = time.monotonic()
    time.sleep(0.3)
    assert _named(gcs, "Lights1", since) == pytest.approx(3 / 8)


def test_camera_tilt_moves_while_held_and_centres(sim_and_gcs):
    sim, gcs = sim_and_gcs
    _stream_named(gcs)
    _press(gcs, 10, hold_s=1.0)     # mount_tilt_up
    tilt = sim.truth().cam_tilt
    assert 0.7 < tilt < 0.85
    time.sleep(0.3)
    assert sim.truth().cam_tilt == pytest.approx(tilt)   # stops when released
    since = time.monotonic()
    time.sleep(0.3)
    assert _named(gcs, "CamTilt", since) == pytest.approx(tilt, abs=1e-3)
    _press(gcs, 7)                  # mount_center
    assert sim.truth().cam_tilt == 0.5


def test_shift_selects_the_shift_function(sim_and_gcs):
    sim, gcs = sim_and_gcs
    gcs.manual_control(buttons=(1 << 5) | (1 << 9))     # shift + tilt_down -> pan left
    end = time.monotonic() + 0.6
    while time.monotonic() < end:
        time.sleep(0.04)
        gcs.manual_control(buttons=(1 << 5) | (1 << 9))
    gcs.manual_control(buttons=0)
    time.sleep(0.1)
    t = sim.truth()
    assert t.cam_pan < 0.45 and t.cam_tilt == 0.5


def test_gain_buttons_step_and_announce(sim_and_gcs):
    sim, gcs = sim_and_gcs
    since = time.monotonic()
    _press(gcs, 11)                 # gain_inc: 0.5 -> 0.75
    assert sim.truth().pilot_gain == pytest.approx(0.75)
    assert gcs.wait_for("STATUSTEXT", lambda m: m.text == "#Gain is 75%", since=since)
    for _ in range(4):
        _press(gcs, 12)             # gain_dec floors at JS_GAIN_MIN
    assert sim.truth().pilot_gain == pytest.approx(0.25)


def test_arm_disarm_and_mode_buttons(sim_and_gcs):
    sim, gcs = sim_and_gcs
    _press(gcs, 6)
    assert sim.truth().armed
    _press(gcs, 2)
    assert sim.truth().mode == "ALT_HOLD"
    _press(gcs, 3)
    assert sim.truth().mode == "STABILIZE"
    _press(gcs, 1)
    assert sim.truth().mode == "MANUAL"
    _press(gcs, 4)
    assert not sim.truth().armed


def test_manual_control_for_another_system_is_ignored(sim_and_gcs):
    sim, gcs = sim_and_gcs
    gcs.manual_control(buttons=1 << 6, target=9)
    time.sleep(0.2)
    assert not sim.truth().armed


def test_button_functions_follow_params(sim_and_gcs):
    sim, gcs = sim_and_gcs
    gcs.send(gcs.mav.param_set_encode(1, 1, b"BTN15_FUNCTION", 35, M.MAV_PARAM_TYPE_INT8))
    time.sleep(0.1)
    _press(gcs, 15)                 # now lights2_brighter
    assert sim.truth().lights2 == pytest.approx(1 / 8)
