import time

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from tests.sim.gcs_helper import PilotLoop

M = mavlink


@pytest.mark.timeout(60)
def test_poshold_holds_position_and_depth_after_a_stick_push(make_sim, make_gcs):
    sim = make_sim(start_depth_m=3.0, params_overrides={"JS_GAIN_DEFAULT": 1.0})
    gcs = make_gcs(sim)
    with PilotLoop(gcs) as pilot:
        assert gcs.set_mode(16) == M.MAV_RESULT_ACCEPTED
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        pilot.x = 800
        time.sleep(1.5)
        pilot.x = 0
        time.sleep(2.5)
        held = sim.truth()
        time.sleep(3.0)
        now = sim.truth()
        assert np.linalg.norm(now.estimated_position_ned_m[:2] - held.estimated_position_ned_m[:2]) < 0.3
        assert abs(now.depth_m - held.depth_m) < 0.3
        assert held.estimated_position_ned_m[0] > 0.5


@pytest.mark.timeout(60)
def test_circle_moves_round_and_turns(make_sim, make_gcs):
    sim = make_sim(start_depth_m=2.0, params_overrides={"CIRCLE_RADIUS": 200, "CIRCLE_RATE": 30})
    gcs = make_gcs(sim)
    with PilotLoop(gcs):
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        assert gcs.set_mode(7) == M.MAV_RESULT_ACCEPTED
        time.sleep(5.0)
        t = sim.truth()
        assert np.linalg.norm(t.position_ned_m[:2]) > 0.8
        assert abs(t.heading_rad) > 0.5
        assert sim.stats()["handler_errors"] == 0


@pytest.mark.timeout(60)
def test_surftrak_follows_the_range_function(make_sim, make_gcs):
    sim = make_sim(start_depth_m=5.0)
    gcs = make_gcs(sim)
    seabed = {"depth_m": 10.0}
    sim.set_range_function(lambda pos, heading: seabed["depth_m"] - float(pos[2]))
    with PilotLoop(gcs):
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        time.sleep(0.2)
        assert gcs.set_mode(21) == M.MAV_RESULT_ACCEPTED
        time.sleep(1.0)
        seabed["depth_m"] = 9.0      # the bottom rises 1 m: keep the same range
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sim.truth().depth_m > 4.1:
            time.sleep(0.1)
        assert sim.truth().depth_m == pytest.approx(4.0, abs=0.3)


def test_distance_sensor_reports_the_range_function(make_sim, make_gcs):
    sim = make_sim(start_depth_m=1.0)
    sim.set_range_function(lambda pos, heading: 2.5)
    gcs = make_gcs(sim)
    gcs.command(M.MAV_CMD_SET_MESSAGE_INTERVAL, M.MAVLINK_MSG_ID_DISTANCE_SENSOR, 200_000)
    since = time.monotonic() + 0.1
    msg = gcs.wait_for("DISTANCE_SENSOR", timeout_s=2.0, since=since)
    assert msg.current_distance == 250 and msg.signal_quality == 100
    sim.set_range_function(lambda pos, heading: None)
    time.sleep(0.3)
    msg = gcs.wait_for("DISTANCE_SENSOR", timeout_s=2.0, since=time.monotonic())
    assert msg.signal_quality == 1
