import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

M = mavlink
ALL_MODES = {"STABILIZE": 0, "ACRO": 1, "ALT_HOLD": 2, "AUTO": 3, "GUIDED": 4, "CIRCLE": 7,
             "SURFACE": 9, "POSHOLD": 16, "MANUAL": 19, "MOTOR_DETECT": 20, "SURFTRAK": 21}


def test_arm_and_disarm_are_acked_and_shown_in_heartbeat(sim_and_gcs):
    sim, gcs = sim_and_gcs
    assert gcs.arm() == M.MAV_RESULT_ACCEPTED
    assert sim.truth().armed
    hb = gcs.wait_for("HEARTBEAT", lambda m: m.base_mode & M.MAV_MODE_FLAG_SAFETY_ARMED, 2.5)
    assert hb.system_status == M.MAV_STATE_ACTIVE
    assert gcs.disarm() == M.MAV_RESULT_ACCEPTED
    assert not sim.truth().armed
    assert gcs.disarm() == M.MAV_RESULT_ACCEPTED  # disarm is always accepted


def test_unknown_command_is_unsupported(sim_and_gcs):
    sim, gcs = sim_and_gcs
    assert gcs.command(M.MAV_CMD_NAV_TAKEOFF) == M.MAV_RESULT_UNSUPPORTED
    assert gcs.command(31337) == M.MAV_RESULT_UNSUPPORTED


@pytest.mark.parametrize("name", sorted(ALL_MODES))
def test_every_mode_is_accepted_with_a_position_estimate(make_sim, make_gcs, name):
    sim = make_sim()
    gcs = make_gcs(sim)
    if name == "AUTO":
        _upload_two_waypoints(gcs)
    assert gcs.set_mode(ALL_MODES[name]) == M.MAV_RESULT_ACCEPTED
    assert sim.truth().mode == name
    hb = gcs.wait_for("HEARTBEAT", lambda m: m.custom_mode == ALL_MODES[name], 2.5)
    assert hb is not None


@pytest.mark.parametrize("name", ["AUTO", "GUIDED", "POSHOLD", "CIRCLE"])
def test_position_modes_are_refused_without_a_position_estimate(make_sim, make_gcs, name):
    sim = make_sim(position_estimate=False)
    gcs = make_gcs(sim)
    since = time.monotonic()
    assert gcs.set_mode(ALL_MODES[name]) == M.MAV_RESULT_FAILED
    assert gcs.wait_for("STATUSTEXT", lambda m: m.text == f"Mode change failed: {name} requires position",
                        since=since) is not None
    assert sim.truth().mode == "MANUAL"


@pytest.mark.parametrize("name", ["STABILIZE", "ALT_HOLD", "MANUAL", "SURFACE", "ACRO"])
def test_other_modes_are_fine_without_a_position_estimate(make_sim, make_gcs, name):
    sim = make_sim(position_estimate=False)
    gcs = make_gcs(sim)
    assert gcs.set_mode(ALL_MODES[name]) == M.MAV_RESULT_ACCEPTED


def test_unknown_mode_and_missing_custom_flag_fail(sim_and_gcs):
    sim, gcs = sim_and_gcs
    assert gcs.set_mode(5) == M.MAV_RESULT_FAILED      # LOITER is a Copter mode
    assert gcs.command(M.MAV_CMD_DO_SET_MODE, 0, 2) == M.MAV_RESULT_FAILED
    assert sim.truth().mode == "MANUAL"


def test_legacy_set_mode_message(sim_and_gcs):
    sim, gcs = sim_and_gcs
    since = time.monotonic()
    gcs.send(gcs.mav.set_mode_encode(1, M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, 2))
    ack = gcs.wait_for("COMMAND_ACK", lambda m: m.command == M.MAVLINK_MSG_ID_SET_MODE, since=since)
    assert ack.result == M.MAV_RESULT_ACCEPTED
    assert sim.truth().mode == "ALT_HOLD"


def test_commands_for_another_system_are_ignored(sim_and_gcs):
    sim, gcs = sim_and_gcs
    since = time.monotonic()
    gcs.send(gcs.mav.command_long_encode(7, 1, M.MAV_CMD_COMPONENT_ARM_DISARM, 0, 1, 0, 0, 0, 0, 0, 0))
    assert gcs.wait_for("COMMAND_ACK", timeout_s=0.5, since=since) is None
    assert not sim.truth().armed


def test_guided_position_target_moves_the_vehicle(sim_and_gcs):
    sim, gcs = sim_and_gcs
    from tests.sim.gcs_helper import PilotLoop
    with PilotLoop(gcs):
        assert gcs.set_mode(4) == M.MAV_RESULT_ACCEPTED
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        gcs.send(gcs.mav.set_position_target_local_ned_encode(
            0, 1, 1, M.MAV_FRAME_LOCAL_NED, 0b110111111000, 3.0, 2.0, 2.0, 0, 0, 0, 0, 0, 0, 0, 0))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            t = sim.truth()
            if abs(t.estimated_position_ned_m[0] - 3) < 0.3 and abs(t.estimated_position_ned_m[1] - 2) < 0.3 \
                    and abs(t.depth_m - 2) < 0.3:
                break
            time.sleep(0.1)
        t = sim.truth()
        assert t.estimated_position_ned_m[0] == pytest.approx(3.0, abs=0.3)
        assert t.estimated_position_ned_m[1] == pytest.approx(2.0, abs=0.3)
        assert t.depth_m == pytest.approx(2.0, abs=0.3)


def _upload_two_waypoints(gcs):
    since = time.monotonic()
    gcs.send(gcs.mav.mission_count_encode(1, 1, 2, M.MAV_MISSION_TYPE_MISSION))
    for seq in range(2):
        req = gcs.wait_for("MISSION_REQUEST", lambda m, s=seq: m.seq == s, since=since)
        assert req is not None
        gcs.send(gcs.mav.mission_item_int_encode(
            1, 1, seq, M.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, M.MAV_CMD_NAV_WAYPOINT, 0, 1,
            0, 0, 0, 0, 10, 10, -1.0, M.MAV_MISSION_TYPE_MISSION))
    ack = gcs.wait_for("MISSION_ACK", since=since)
    assert ack.type == M.MAV_MISSION_ACCEPTED
