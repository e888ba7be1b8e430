"""The client against a scripted peer: refusals, silence and floods a real vehicle can produce."""
import os
import random
import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from vehicle import (CommandRejected, CommandTimeout, MissionTransferError, Timeouts, Vehicle,
                     waypoint)
from vehicle.events import ManualControlChanged

from .scripted_peer import ScriptedPeer

FAST = Timeouts(discovery_s=3.0, command_ack_s=0.3, command_retries=2, state_confirm_s=1.0,
                heartbeat_lost_s=2.5, mission_rto_max_s=0.3, mission_retries=3)


@pytest.fixture
def station():
    v = Vehicle("udpin:127.0.0.1:0", timeouts=FAST, request_streams=False)
    v.open()
    yield v
    v.close()


def test_discovery_ignores_gcs_and_camera_heartbeats(station):
    port = station.link.port
    with ScriptedPeer(port, system_id=7, component_id=100, mav_type=mavlink.MAV_TYPE_CAMERA), \
            ScriptedPeer(port, system_id=200, component_id=190, mav_type=mavlink.MAV_TYPE_GCS):
        time.sleep(1.2)
        assert not station.state.discovered
        with ScriptedPeer(port, system_id=7, component_id=1):
            state = station.wait_discovered(3)
    assert (state.system_id, state.component_id, state.vehicle_type) == (7, 1, "SUBMARINE")


def test_station_heartbeat_is_gcs_at_1hz(station):
    with ScriptedPeer(station.link.port) as peer:
        station.wait_discovered(3)
        time.sleep(3.2)
        beats = peer.received["HEARTBEAT"]
        times = peer.receive_times["HEARTBEAT"]
    assert all(b.type == mavlink.MAV_TYPE_GCS for b in beats)
    assert 2 <= len(beats) <= 5
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(0.8 < g < 1.3 for g in gaps), gaps


def test_rejected_mode_change_names_result_and_reason(station):
    with ScriptedPeer(station.link.port) as peer:
        def refuse(msg):
            if msg.command == mavlink.MAV_CMD_DO_SET_MODE:
                peer.statustext(mavlink.MAV_SEVERITY_WARNING, "Mode change failed: AUTO requires position")
                peer.ack(msg.command, mavlink.MAV_RESULT_FAILED)
        peer.handlers["COMMAND_LONG"] = refuse
        station.wait_discovered(3)
        with pytest.raises(CommandRejected) as info:
            station.set_mode("AUTO")
    err = info.value
    assert err.result == mavlink.MAV_RESULT_FAILED and err.result_name == "FAILED"
    assert "AUTO requires position" in str(err)
    assert "set mode AUTO" in str(err)


def test_unanswered_command_retries_with_confirmation_then_times_out(station):
    with ScriptedPeer(station.link.port) as peer:
        station.wait_discovered(3)
        t0 = time.monotonic()
        with pytest.raises(CommandTimeout, match="arm: no answer from the vehicle after 3 attempts"):
            station.arm()
        elapsed = time.monotonic() - t0
        time.sleep(0.1)
        sent = [m for m in peer.received["COMMAND_LONG"] if m.command == mavlink.MAV_CMD_COMPONENT_ARM_DISARM]
    assert [m.confirmation for m in sent] == [0, 1, 2]
    assert elapsed < 3 * FAST.command_ack_s + 1.0


def test_in_progress_ack_extends_the_wait(station):
    with ScriptedPeer(station.link.port) as peer:
        def slow(msg):
            if msg.command == mavlink.MAV_CMD_REQUEST_MESSAGE:
                peer.ack(msg.command, mavlink.MAV_RESULT_IN_PROGRESS)
                time.sleep(0.45)  # longer than one ack timeout
                peer.ack(msg.command, mavlink.MAV_RESULT_ACCEPTED)
                peer.send(mavlink.MAVLink_autopilot_version_message(
                    0, (4 << 24) | (1 << 16) | (1 << 8) | 255, 0, 0, 0, [0] * 8, [0] * 8, [0] * 8, 0, 0, 0))
        peer.handlers["COMMAND_LONG"] = slow
        station.wait_discovered(3)
        msg = station.request_message(mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION, retries=0)
    assert msg.get_type() == "AUTOPILOT_VERSION"
    station.wait_for(lambda s: s.firmware.version == "ArduSub V4.1.1", 1.0, "firmware")


def test_mission_refused_by_vehicle_surfaces_mission_result(station):
    with ScriptedPeer(station.link.port) as peer:
        peer.handlers["MISSION_COUNT"] = lambda m: peer.send(mavlink.MAVLink_mission_ack_message(
            255, 190, mavlink.MAV_MISSION_NO_SPACE, 0))
        station.wait_discovered(3)
        with pytest.raises(MissionTransferError) as info:
            station.mission.upload([waypoint(i, 0, 0, 1) for i in range(3)])
    assert info.value.result_name == "NO_SPACE"
    assert "refused the mission: NO_SPACE" in str(info.value)


def test_mission_upload_to_silent_vehicle_gives_up(station):
    with ScriptedPeer(station.link.port) as peer:
        station.wait_discovered(3)
        t0 = time.monotonic()
        with pytest.raises(MissionTransferError, match="no answer to the item count"):
            station.mission.upload([waypoint(i, 0, 0, 1) for i in range(3)])
        assert time.monotonic() - t0 < FAST.mission_stall_s + 3
        assert len(peer.received["MISSION_COUNT"]) >= 1 + FAST.mission_retries


def test_manual_control_deadman_stops_sending_when_input_stops(station):
    events = station.events.listen()
    with ScriptedPeer(station.link.port) as peer:
        station.wait_discovered(3)
        t_end = time.monotonic() + 1.0
        while time.monotonic() < t_end:
            station.manual.set_input(x=300, z=400)
            time.sleep(0.05)
        last_input = time.monotonic()
        time.sleep(1.5)
        times = list(peer.receive_times["MANUAL_CONTROL"])
        frames = list(peer.received["MANUAL_CONTROL"])
    assert frames[0].x == 300 and frames[0].z == 400 and frames[0].target == 1
    during = [t for t in times if t <= last_input]
    rate_hz = (len(during) - 1) / (during[-1] - during[0])
    assert 20 <= rate_hz <= 30, rate_hz
    assert times[-1] - last_input <= station.manual.input_timeout_s + 0.15
    changes = [e for e in events.drain() if isinstance(e, ManualControlChanged)]
    assert [c.active for c in changes] == [True, False]
    assert "stopped" in changes[-1].reason


def test_button_press_makes_one_edge_per_press(station):
    with ScriptedPeer(station.link.port) as peer:
        station.wait_discovered(3)
        station.manual.press(14)
        station.manual.press(14)
        time.sleep(0.6)
        buttons = [m.buttons for m in peer.received["MANUAL_CONTROL"]]
    edges = sum(1 for a, b in zip([0] + buttons, buttons) if not a & (1 << 14) and b & (1 << 14))
    assert edges == 2


def test_garbage_flood_is_counted_and_link_survives(station):
    rng = random.Random(3)
    with ScriptedPeer(station.link.port) as peer:
        peer.handlers["COMMAND_LONG"] = lambda m: peer.ack(m.command, mavlink.MAV_RESULT_ACCEPTED)
        station.wait_discovered(3)
        t0 = time.monotonic()
        for i in range(3000):
            peer.send_raw(os.urandom(rng.randrange(1, 280)))
            if i % 500 == 0:  # truncated real packets too
                peer.send_raw(mavlink.MAVLink_heartbeat_message(12, 3, 0, 0, 0, 3).pack(peer.mav)[:9])
        flood_s = time.monotonic() - t0
        time.sleep(1.5)
        station.set_message_interval(mavlink.MAVLINK_MSG_ID_ATTITUDE, 10)
        state = station.state
    stats = station.link_stats()
    assert state.link_ok
    assert stats.bad_bytes + stats.bad_crc > 1000
    assert flood_s < 10


def test_streams_requested_by_message_interval():
    v = Vehicle("udpin:127.0.0.1:0", timeouts=FAST)
    v.open()
    try:
        with ScriptedPeer(v.link.port) as peer:
            peer.handlers["COMMAND_LONG"] = lambda m: peer.ack(m.command, mavlink.MAV_RESULT_ACCEPTED)
            v.wait_discovered(3)
            time.sleep(1.0)
            intervals = {int(m.param1): m.param2 for m in peer.received["COMMAND_LONG"]
                         if m.command == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL}
    finally:
        v.close()
    assert intervals[mavlink.MAVLINK_MSG_ID_ATTITUDE] == 62500  # 16 Hz
    assert intervals[mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT] == 333333  # 3 Hz
    assert intervals[mavlink.MAVLINK_MSG_ID_SCALED_PRESSURE2] == 500000  # 2 Hz


def test_streams_fall_back_to_request_data_stream():
    v = Vehicle("udpin:127.0.0.1:0", timeouts=FAST)
    v.open()
    try:
        with ScriptedPeer(v.link.port) as peer:
            peer.handlers["COMMAND_LONG"] = lambda m: peer.ack(m.command, mavlink.MAV_RESULT_UNSUPPORTED)
            v.wait_discovered(3)
            time.sleep(1.0)
            streams = {m.req_stream_id: m.req_message_rate for m in peer.received["REQUEST_DATA_STREAM"]}
    finally:
        v.close()
    assert streams[mavlink.MAV_DATA_STREAM_EXTRA1] == 16
    assert streams[mavlink.MAV_DATA_STREAM_POSITION] == 3
