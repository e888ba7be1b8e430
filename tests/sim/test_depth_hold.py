import time

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from tests.sim.gcs_helper import PilotLoop

M = mavlink
FAST_PILOT = {"JS_GAIN_DEFAULT": 1.0, "PILOT_SPEED_DN": 100, "PILOT_SPEED_UP": 100}


def _wait_until(predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.timeout(60)
def test_alt_hold_dive_with_throttle_then_hold_within_30_cm(make_sim, make_gcs):
    sim = make_sim(params_overrides=FAST_PILOT)
    gcs = make_gcs(sim)
    with PilotLoop(gcs) as pilot:
        assert gcs.set_mode(2) == M.MAV_RESULT_ACCEPTED
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        pilot.z = 0   # full down
        assert _wait_until(lambda: sim.truth().depth_m >= 4.6, 15)
        pilot.z = 500
        time.sleep(2.0)
        hold_m = sim.truth().depth_m
        assert 4.5 <= hold_m <= 5.8
        samples = []
        for _ in range(40):
            samples.append(sim.truth().depth_m)
            time.sleep(0.1)
        assert np.max(np.abs(np.array(samples) - hold_m)) < 0.3


@pytest.mark.timeout(60)
def test_alt_hold_holds_a_guided_5_m_target_then_holds_it(make_sim, make_gcs):
    sim = make_sim()
    gcs = make_gcs(sim)
    with PilotLoop(gcs):
        assert gcs.set_mode(4) == M.MAV_RESULT_ACCEPTED
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        gcs.send(gcs.mav.set_position_target_local_ned_encode(
            0, 1, 1, M.MAV_FRAME_LOCAL_NED, 0b110111111011, 0, 0, 5.0, 0, 0, 0, 0, 0, 0, 0, 0))
        assert _wait_until(lambda: abs(sim.truth().depth_m - 5.0) < 0.1, 20)
        assert gcs.set_mode(2) == M.MAV_RESULT_ACCEPTED
        samples = []
        for _ in range(50):
            samples.append(sim.truth().depth_m)
            time.sleep(0.1)
        assert np.max(np.abs(np.array(samples) - 5.0)) < 0.3


def test_idle_vehicle_rises_slowly_and_stays_level(make_sim):
    sim = make_sim(start_depth_m=3.0)
    time.sleep(2.0)
    t = sim.truth()
    assert 2.4 < t.depth_m < 2.99
    assert abs(t.attitude_rpy_rad[0]) < 0.05 and abs(t.attitude_rpy_rad[1]) < 0.05


def test_surface_mode_climbs_at_about_half_a_metre_per_second(make_sim, make_gcs):
    sim = make_sim(start_depth_m=4.0)
    gcs = make_gcs(sim)
    with PilotLoop(gcs):
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        assert gcs.set_mode(9) == M.MAV_RESULT_ACCEPTED
        time.sleep(1.5)
        d0 = sim.truth().depth_m
        time.sleep(2.0)
        rate = (d0 - sim.truth().depth_m) / 2.0
        assert 0.35 < rate < 0.65


def test_manual_forward_stick_moves_forward_and_yaw_turns(make_sim, make_gcs):
    sim = make_sim(start_depth_m=2.0)
    gcs = make_gcs(sim)
    with PilotLoop(gcs) as pilot:
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        pilot.x = 1000
        time.sleep(2.0)
        t = sim.truth()
        assert t.velocity_ned_m_s[0] > 0.4
        pilot.x, pilot.r = 0, 1000
        time.sleep(1.0)
        assert sim.truth().heading_rad > 0.3
