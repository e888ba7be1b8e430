import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

M = mavlink


def test_heartbeat_identifies_an_ardusub_in_manual_disarmed(sim_and_gcs):
    sim, gcs = sim_and_gcs
    hb = gcs.wait_for("HEARTBEAT", timeout_s=2.5)
    assert hb is not None
    assert hb.type == M.MAV_TYPE_SUBMARINE
    assert hb.autopilot == M.MAV_AUTOPILOT_ARDUPILOTMEGA
    assert hb.custom_mode == 19
    assert hb.base_mode & M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
    assert not hb.base_mode & M.MAV_MODE_FLAG_SAFETY_ARMED
    assert hb.system_status == M.MAV_STATE_STANDBY
    assert hb.get_srcSystem() == 1 and hb.get_srcComponent() == 1


def test_udp_target_receives_heartbeats_without_talking(make_sim, make_gcs):
    import socket
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(2.5)
    try:
        make_sim(udp_target=listener.getsockname())
        data, _ = listener.recvfrom(65535)
        parser = M.MAVLink(None)
        msgs = parser.parse_buffer(data)
        assert msgs and msgs[0].get_type() in ("HEARTBEAT", "STATUSTEXT")
    finally:
        listener.close()


def test_heartbeat_rate_is_one_hz_and_nothing_else_streams(sim_and_gcs):
    sim, gcs = sim_and_gcs
    start = time.monotonic()
    time.sleep(3.2)
    assert 2 <= gcs.count("HEARTBEAT", start) <= 4
    for kind in ("ATTITUDE", "VFR_HUD", "SYS_STATUS", "GLOBAL_POSITION_INT", "NAMED_VALUE_FLOAT"):
        assert gcs.count(kind) == 0, kind


def test_set_message_interval_streams_at_the_asked_rate(sim_and_gcs):
    sim, gcs = sim_and_gcs
    assert gcs.command(M.MAV_CMD_SET_MESSAGE_INTERVAL, M.MAVLINK_MSG_ID_ATTITUDE, 100_000) == M.MAV_RESULT_ACCEPTED
    time.sleep(0.3)
    start = time.monotonic()
    time.sleep(2.0)
    assert 16 <= gcs.count("ATTITUDE", start) <= 24
    assert gcs.command(M.MAV_CMD_SET_MESSAGE_INTERVAL, M.MAVLINK_MSG_ID_ATTITUDE, -1) == M.MAV_RESULT_ACCEPTED
    time.sleep(0.3)
    stop = time.monotonic()
    time.sleep(0.6)
    assert gcs.count("ATTITUDE", stop) == 0


def test_request_data_stream_groups_like_ardupilot(sim_and_gcs):
    sim, gcs = sim_and_gcs
    gcs.send(gcs.mav.request_data_stream_encode(1, 1, M.MAV_DATA_STREAM_EXTRA1, 4, 1))
    gcs.send(gcs.mav.request_data_stream_encode(1, 1, M.MAV_DATA_STREAM_EXTENDED_STATUS, 2, 1))
    time.sleep(0.3)
    start = time.monotonic()
    time.sleep(2.0)
    assert 6 <= gcs.count("ATTITUDE", start) <= 10
    assert 3 <= gcs.count("SYS_STATUS", start) <= 5
    names = {m.name for m in gcs.all("NAMED_VALUE_FLOAT", start)}
    assert {"CamTilt", "CamPan", "TetherTrn", "Lights1", "Lights2", "PilotGain", "InputHold",
            "RollPitch"} <= names
    assert gcs.count("VFR_HUD") == 0
    gcs.send(gcs.mav.request_data_stream_encode(1, 1, M.MAV_DATA_STREAM_ALL, 0, 0))
    time.sleep(0.3)
    stop = time.monotonic()
    time.sleep(0.6)
    assert gcs.count("ATTITUDE", stop) == 0


def test_every_streamable_message_is_well_formed(make_sim, make_gcs):
    sim = make_sim(origin_lat_deg=53.5, origin_lon_deg=9.9, start_depth_m=3.0)
    gcs = make_gcs(sim)
    gcs.send(gcs.mav.request_data_stream_encode(1, 1, M.MAV_DATA_STREAM_ALL, 5, 1))
    kinds = ("SYS_STATUS", "ATTITUDE", "VFR_HUD", "GLOBAL_POSITION_INT", "LOCAL_POSITION_NED",
             "SCALED_PRESSURE2", "DISTANCE_SENSOR", "RANGEFINDER", "BATTERY_STATUS",
             "EKF_STATUS_REPORT", "GPS_RAW_INT", "SYSTEM_TIME", "SERVO_OUTPUT_RAW", "RC_CHANNELS",
             "MISSION_CURRENT")
    for kind in kinds:
        assert gcs.wait_for(kind, timeout_s=2.0, since=0.0) is not None, kind
    depth = sim.truth().depth_m
    hud = gcs.all("VFR_HUD")[-1]
    assert hud.alt == pytest.approx(-depth, abs=0.3)
    gpi = gcs.all("GLOBAL_POSITION_INT")[-1]
    assert gpi.relative_alt == pytest.approx(-depth * 1000, abs=300)
    assert gpi.lat == pytest.approx(53.5e7, abs=200) and gpi.lon == pytest.approx(9.9e7, abs=200)
    sp2 = gcs.all("SCALED_PRESSURE2")[-1]
    assert sp2.press_abs == pytest.approx(1013.25 + depth * 98.0665, abs=30)
    ds = gcs.all("DISTANCE_SENSOR")[-1]
    assert ds.orientation == M.MAV_SENSOR_ROTATION_PITCH_270
    assert ds.current_distance == pytest.approx((30.0 - depth) * 100, abs=30)
    assert gcs.all("GPS_RAW_INT")[-1].fix_type == M.GPS_FIX_TYPE_NO_GPS
    ekf = gcs.all("EKF_STATUS_REPORT")[-1].flags
    assert ekf & M.EKF_POS_HORIZ_REL and ekf & M.EKF_POS_HORIZ_ABS
    assert gcs.all("BATTERY_STATUS")[-1].voltages[0] > 15000


def test_no_position_estimate_hides_local_position_and_flags_const_pos(make_sim, make_gcs):
    sim = make_sim(position_estimate=False)
    gcs = make_gcs(sim)
    gcs.send(gcs.mav.request_data_stream_encode(1, 1, M.MAV_DATA_STREAM_ALL, 5, 1))
    ekf = gcs.wait_for("EKF_STATUS_REPORT", timeout_s=2.0)
    assert ekf.flags & M.EKF_CONST_POS_MODE and not ekf.flags & M.EKF_POS_HORIZ_REL
    gpi = gcs.wait_for("GLOBAL_POSITION_INT", timeout_s=2.0)
    assert gpi.lat == 0 and gpi.lon == 0
    assert gcs.count("LOCAL_POSITION_NED") == 0


def test_request_message_autopilot_version_reports_4_1_1(sim_and_gcs):
    sim, gcs = sim_and_gcs
    assert gcs.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED
    ver = gcs.wait_for("AUTOPILOT_VERSION", since=0.0)
    assert ver.flight_sw_version == (4 << 24) | (1 << 16) | (1 << 8) | M.FIRMWARE_VERSION_TYPE_OFFICIAL
    assert ver.capabilities & M.MAV_PROTOCOL_CAPABILITY_MISSION_INT
    since = time.monotonic()
    assert gcs.command(M.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES, 1) == M.MAV_RESULT_ACCEPTED
    assert gcs.wait_for("AUTOPILOT_VERSION", since=since) is not None
    assert gcs.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_ATTITUDE) == M.MAV_RESULT_ACCEPTED
    assert gcs.command(M.MAV_CMD_REQUEST_MESSAGE, 9999) == M.MAV_RESULT_FAILED


def test_banner_statustext_on_first_contact(sim_and_gcs):
    sim, gcs = sim_and_gcs
    assert gcs.wait_for("STATUSTEXT", lambda m: m.text.startswith("ArduSub V4.1.1"), since=0.0)
    assert gcs.wait_for("STATUSTEXT", lambda m: m.text == "Frame: VECTORED_6DOF", since=0.0)


def test_tcp_serves_several_clients(make_sim, make_gcs):
    sim = make_sim()
    a, b = make_gcs(sim, "tcp"), make_gcs(sim, "tcp")
    assert a.wait_for("HEARTBEAT", timeout_s=2.5, since=0.0) is not None
    assert b.wait_for("HEARTBEAT", timeout_s=2.5, since=0.0) is not None
    assert a.arm() == M.MAV_RESULT_ACCEPTED


def test_named_value_float_has_no_message_interval_like_ardupilot(sim_and_gcs):
    sim, gcs = sim_and_gcs
    result = gcs.command(M.MAV_CMD_SET_MESSAGE_INTERVAL, M.MAVLINK_MSG_ID_NAMED_VALUE_FLOAT, 250000)
    assert result == M.MAV_RESULT_DENIED
    time.sleep(1.0)
    assert gcs.count("NAMED_VALUE_FLOAT") == 0
