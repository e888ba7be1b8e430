import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from tests.sim.gcs_helper import PilotLoop

M = mavlink


def _item(gcs, seq, lat_e7=0, lon_e7=0, z=-2.0, command=M.MAV_CMD_NAV_WAYPOINT,
          frame=M.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, p1=0.0):
    return gcs.mav.mission_item_int_encode(1, 1, seq, frame, command, 0, 1, p1, 0, 0, 0,
                                           lat_e7, lon_e7, z, M.MAV_MISSION_TYPE_MISSION)


def upload(gcs, items):
    since = time.monotonic()
    gcs.send(gcs.mav.mission_count_encode(1, 1, len(items), M.MAV_MISSION_TYPE_MISSION))
    for seq, item in enumerate(items):
        req = gcs.wait_for("MISSION_REQUEST", lambda m, s=seq: m.seq == s, since=since)
        assert req is not None, seq
        gcs.send(item)
    return gcs.wait_for("MISSION_ACK", since=since)


def test_upload_uses_mission_request_and_download_round_trips(sim_and_gcs):
    sim, gcs = sim_and_gcs
    items = [_item(gcs, 0), _item(gcs, 1, 10, 20, -3.0), _item(gcs, 2, 30, 40, -4.5)]
    ack = upload(gcs, items)
    assert ack.type == M.MAV_MISSION_ACCEPTED
    assert gcs.count("MISSION_REQUEST_INT") == 0
    assert len(sim.truth().mission_items) == 3
    assert sim.param("MIS_TOTAL") == 3
    since = time.monotonic()
    gcs.send(gcs.mav.mission_request_list_encode(1, 1, M.MAV_MISSION_TYPE_MISSION))
    assert gcs.wait_for("MISSION_COUNT", since=since).count == 3
    gcs.send(gcs.mav.mission_request_int_encode(1, 1, 2, M.MAV_MISSION_TYPE_MISSION))
    item = gcs.wait_for("MISSION_ITEM_INT", since=since)
    assert (item.seq, item.x, item.y, item.z) == (2, 30, 40, -4.5)


def test_duplicate_item_gets_invalid_sequence_and_upload_survives(sim_and_gcs):
    sim, gcs = sim_and_gcs
    since = time.monotonic()
    gcs.send(gcs.mav.mission_count_encode(1, 1, 3, M.MAV_MISSION_TYPE_MISSION))
    assert gcs.wait_for("MISSION_REQUEST", lambda m: m.seq == 0, since=since)
    gcs.send(_item(gcs, 0))
    assert gcs.wait_for("MISSION_REQUEST", lambda m: m.seq == 1, since=since)
    gcs.send(_item(gcs, 0))   # duplicate of the previous one
    ack = gcs.wait_for("MISSION_ACK", since=since)
    assert ack.type == M.MAV_MISSION_INVALID_SEQUENCE
    gcs.send(_item(gcs, 1, 5, 5))
    assert gcs.wait_for("MISSION_REQUEST", lambda m: m.seq == 2, since=since)
    gcs.send(_item(gcs, 2, 6, 6))
    assert gcs.wait_for("MISSION_ACK", lambda m: m.type == M.MAV_MISSION_ACCEPTED, since=since)


@pytest.mark.timeout(60)
def test_stalled_upload_is_re_requested_then_cancelled_after_8_s(sim_and_gcs):
    sim, gcs = sim_and_gcs
    since = time.monotonic()
    gcs.send(gcs.mav.mission_count_encode(1, 1, 2, M.MAV_MISSION_TYPE_MISSION))
    ack = gcs.wait_for("MISSION_ACK", timeout_s=11.0, since=since)
    assert ack.type == M.MAV_MISSION_OPERATION_CANCELLED
    elapsed = time.monotonic() - since
    assert 7.5 < elapsed < 10.0
    assert len([m for m in gcs.all("MISSION_REQUEST", since) if m.seq == 0]) >= 5


def test_rejections_end_the_upload(sim_and_gcs):
    sim, gcs = sim_and_gcs
    since = time.monotonic()
    gcs.send(gcs.mav.mission_count_encode(1, 1, 701, M.MAV_MISSION_TYPE_MISSION))
    assert gcs.wait_for("MISSION_ACK", since=since).type == M.MAV_MISSION_NO_SPACE
    ack = upload(gcs, [_item(gcs, 0), _item(gcs, 1, frame=M.MAV_FRAME_LOCAL_NED)])
    assert ack.type == M.MAV_MISSION_UNSUPPORTED_FRAME
    ack = upload(gcs, [_item(gcs, 0), _item(gcs, 1, command=M.MAV_CMD_NAV_TAKEOFF)])
    assert ack.type == M.MAV_MISSION_UNSUPPORTED
    since = time.monotonic()
    gcs.send(gcs.mav.mission_count_encode(1, 1, 2, M.MAV_MISSION_TYPE_FENCE))
    assert gcs.wait_for("MISSION_ACK", since=since).type == M.MAV_MISSION_UNSUPPORTED
    assert len(sim.truth().mission_items) == 1


def test_legacy_mission_item_accepted_with_a_warning(sim_and_gcs):
    sim, gcs = sim_and_gcs
    item = lambda seq: gcs.mav.mission_item_encode(  # noqa: E731
        1, 1, seq, M.MAV_FRAME_GLOBAL_RELATIVE_ALT, M.MAV_CMD_NAV_WAYPOINT, 0, 1, 0, 0, 0, 0,
        53.5, 9.9, -2.0, M.MAV_MISSION_TYPE_MISSION)
    since = time.monotonic()
    assert upload(gcs, [item(0), item(1)]).type == M.MAV_MISSION_ACCEPTED
    assert gcs.text_seen("got MISSION_ITEM; GCS should send MISSION_ITEM_INT", since)
    assert sim.truth().mission_items[1].x == 535000000


def test_clear_all_and_set_current(sim_and_gcs):
    sim, gcs = sim_and_gcs
    upload(gcs, [_item(gcs, 0), _item(gcs, 1), _item(gcs, 2)])
    since = time.monotonic()
    gcs.send(gcs.mav.mission_set_current_encode(1, 1, 2))
    assert gcs.wait_for("MISSION_CURRENT", since=since).seq == 2
    gcs.send(gcs.mav.mission_clear_all_encode(1, 1, M.MAV_MISSION_TYPE_MISSION))
    assert gcs.wait_for("MISSION_ACK", since=since).type == M.MAV_MISSION_ACCEPTED
    assert len(sim.truth().mission_items) == 1


@pytest.mark.timeout(60)
def test_auto_flies_the_mission_and_reports_progress(make_sim, make_gcs):
    lat0, lon0 = 53.5, 9.9
    sim = make_sim(origin_lat_deg=lat0, origin_lon_deg=lon0,
                   params_overrides={"WPNAV_SPEED": 150})
    gcs = make_gcs(sim)
    north_3m = int(round((lat0 + 3.0 / 111319.49) * 1e7))
    ack = upload(gcs, [
        _item(gcs, 0, int(lat0 * 1e7), int(lon0 * 1e7), 0.0),
        _item(gcs, 1, int(lat0 * 1e7), int(lon0 * 1e7), -2.0),
        gcs.mav.mission_item_int_encode(1, 1, 2, M.MAV_FRAME_MISSION, M.MAV_CMD_DO_CHANGE_SPEED, 0, 1,
                                        0, 1.0, -1, 0, 0, 0, 0, M.MAV_MISSION_TYPE_MISSION),
        _item(gcs, 3, north_3m, int(lon0 * 1e7), -3.0),
    ])
    assert ack.type == M.MAV_MISSION_ACCEPTED
    with PilotLoop(gcs):
        since = time.monotonic()
        assert gcs.arm() == M.MAV_RESULT_ACCEPTED
        assert gcs.command(M.MAV_CMD_MISSION_START, 0, 0) == M.MAV_RESULT_ACCEPTED
        assert sim.truth().mode == "AUTO"
        assert gcs.wait_for("MISSION_ITEM_REACHED", lambda m: m.seq == 3, timeout_s=30, since=since)
        reached = [m.seq for m in gcs.all("MISSION_ITEM_REACHED", since)]
        assert reached == [1, 3]
        assert gcs.text_seen("Reached command #1", since)
        assert gcs.wait_for("STATUSTEXT", lambda m: m.text == "Mission complete", since=since)
        assert {m.seq for m in gcs.all("MISSION_CURRENT", since)} >= {1, 2, 3}
        t = sim.truth()
        assert t.estimated_position_ned_m[0] == pytest.approx(3.0, abs=1.1)
        assert t.depth_m == pytest.approx(3.0, abs=0.35)


def test_mission_start_refused_when_disarmed(sim_and_gcs):
    sim, gcs = sim_and_gcs
    upload(gcs, [_item(gcs, 0), _item(gcs, 1)])
    assert gcs.command(M.MAV_CMD_MISSION_START, 0, 0) == M.MAV_RESULT_FAILED
