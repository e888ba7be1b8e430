import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from tests.sim.gcs_helper import PilotLoop

M = mavlink


@pytest.mark.timeout(60)
def test_gcs_failsafe_disarms_about_5_s_after_the_station_goes_away(make_sim, make_gcs):
    sim = make_sim(params_overrides={"FS_PILOT_INPUT": 0})
    gcs = make_gcs(sim)
    pilot = PilotLoop(gcs).__enter__()
    assert gcs.arm() == M.MAV_RESULT_ACCEPTED
    time.sleep(0.5)
    pilot.stop()
    gone = time.monotonic()
    assert gcs.wait_for("STATUSTEXT", lambda m: m.text == "GCS Failsafe", timeout_s=8.0, since=gone)
    elapsed = time.monotonic() - gone
    assert 4.0 < elapsed < 7.0
    time.sleep(0.1)
    assert not sim.truth().armed


@pytest.mark.timeout(60)
def test_gcs_failsafe_surface_action(make_sim, make_gcs):
    sim = make_sim(start_depth_m=5.0, params_overrides={"FS_PILOT_INPUT": 0, "FS_GCS_ENABLE": 4,
                                                         "FS_GCS_TIMEOUT": 2.0})
    gcs = make_gcs(sim)
    gcs.heartbeat()
    assert gcs.arm() == M.MAV_RESULT_ACCEPTED
    assert gcs.wait_for("STATUSTEXT", lambda m: m.text == "GCS Failsafe", timeout_s=5.0)
    time.sleep(0.1)
    t = sim.truth()
    assert t.armed and t.mode == "SURFACE" and "gcs" in t.failsafes


def test_no_gcs_failsafe_before_any_gcs_was_heard(make_sim, make_gcs):
    sim = make_sim(params_overrides={"FS_PILOT_INPUT": 0, "FS_GCS_TIMEOUT": 1.0})
    gcs = make_gcs(sim, "tcp")
    # a COMMAND_LONG, or a heartbeat from a non-GCS sysid and type, is not a GCS heartbeat
    gcs.mav.srcSystem = 42
    gcs.send(gcs.mav.heartbeat_encode(M.MAV_TYPE_ONBOARD_CONTROLLER, M.MAV_AUTOPILOT_INVALID, 0, 0, 0))
    assert gcs.arm() == M.MAV_RESULT_ACCEPTED
    time.sleep(2.0)
    assert sim.truth().armed


@pytest.mark.timeout(60)
def test_pilot_input_failsafe_disarms_after_3_s_of_silence(make_sim, make_gcs):
    sim = make_sim()
    gcs = make_gcs(sim)
    with PilotLoop(gcs) as pilot:
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        time.sleep(0.5)
        # heartbeats continue, joystick stops
        pilot.stop()
    stopped = time.monotonic()
    hb_until = stopped + 6
    while time.monotonic() < hb_until and sim.truth().armed:
        gcs.heartbeat()
        time.sleep(0.2)
    msg = gcs.wait_for("STATUSTEXT", lambda m: m.text == "Lost manual control", timeout_s=0.5, since=stopped)
    assert msg is not None and msg.severity == M.MAV_SEVERITY_CRITICAL
    assert 2.5 < time.monotonic() - stopped < 5.0
    assert not sim.truth().armed


def test_pilot_input_failsafe_warn_only_keeps_armed(make_sim, make_gcs):
    sim = make_sim(params_overrides={"FS_PILOT_INPUT": 1, "FS_PILOT_TIMEOUT": 0.5, "FS_GCS_ENABLE": 0})
    gcs = make_gcs(sim)
    since = time.monotonic()
    assert gcs.arm() == M.MAV_RESULT_ACCEPTED
    assert gcs.wait_for("STATUSTEXT", lambda m: m.text == "Lost manual control", timeout_s=3.0, since=since)
    assert sim.truth().armed
    hb = gcs.wait_for("HEARTBEAT", timeout_s=2.5)
    assert hb.system_status == M.MAV_STATE_CRITICAL


def test_leak_is_critical_blocks_arming_and_can_force(make_sim, make_gcs):
    sim = make_sim()
    gcs = make_gcs(sim)
    since = time.monotonic()
    sim.inject_leak()
    msg = gcs.wait_for("STATUSTEXT", lambda m: m.text == "Leak Detected", timeout_s=2.0, since=since)
    assert msg.severity == M.MAV_SEVERITY_CRITICAL
    hb = gcs.wait_for("HEARTBEAT", timeout_s=2.5, since=time.monotonic())
    assert hb.system_status == M.MAV_STATE_CRITICAL
    assert gcs.arm() == M.MAV_RESULT_FAILED
    assert gcs.text_seen("PreArm: Leak Detected", since)
    assert not sim.truth().armed
    assert gcs.arm(force=True) == M.MAV_RESULT_ACCEPTED
    assert "leak" in sim.truth().failsafes


def test_leak_surface_action(make_sim, make_gcs):
    sim = make_sim(start_depth_m=4.0, params_overrides={"FS_LEAK_ENABLE": 2})
    gcs = make_gcs(sim)
    with PilotLoop(gcs):
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        sim.inject_leak()
        time.sleep(0.3)
        assert sim.truth().mode == "SURFACE"


def test_low_battery_refuses_arming_unless_forced(make_sim, make_gcs):
    sim = make_sim(params_overrides={"BATT_ARM_VOLT": 15.0})
    gcs = make_gcs(sim)
    sim.set_battery_remaining(0.3)
    since = time.monotonic()
    assert gcs.arm() == M.MAV_RESULT_FAILED
    assert gcs.text_seen("PreArm: Battery", since)
    assert gcs.arm(force=True) == M.MAV_RESULT_ACCEPTED


def test_battery_failsafe_disarms_after_the_low_timer(make_sim, make_gcs):
    sim = make_sim(params_overrides={"BATT_LOW_VOLT": 14.5, "BATT_LOW_TIMER": 1, "BATT_FS_LOW_ACT": 2})
    gcs = make_gcs(sim)
    with PilotLoop(gcs):
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        since = time.monotonic()
        sim.set_battery_remaining(0.3)
        assert gcs.wait_for("STATUSTEXT", lambda m: m.text.startswith("Battery 1 is low"),
                            timeout_s=3.0, since=since)
        time.sleep(0.1)
        t = sim.truth()
        assert not t.armed and "battery" in t.failsafes
        assert gcs.arm() == M.MAV_RESULT_FAILED
