"""mavlink_ids against pymavlink; plan -> mission items; validate_for_ardusub."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mission_plans import mavlink_ids
from mission_plans.mission_items import (MissionItemSpec, MissionItemsError, plan_to_mission_items,
                                         validate_for_ardusub)

from . import make_placement, make_plan


def test_ids_match_pymavlink():
    from pymavlink.dialects.v20 import ardupilotmega as mav
    names = [n for n in vars(mavlink_ids) if n.startswith("MAV_")]
    assert len(names) > 40
    for name in names:
        assert getattr(mavlink_ids, name) == getattr(mav, name), name


def test_spec_fields_match_the_vehicle_layer_shape():
    assert [f.name for f in dataclasses.fields(MissionItemSpec)] == [
        "seq", "command", "frame", "x", "y", "z", "param1", "param2", "param3", "param4", "current", "autocontinue"]


def test_global_items_layout_and_values():
    plan = make_plan()
    items = plan_to_mission_items(plan)
    p = plan.placement
    # item 0: home = H0 at the surface
    home = items[0]
    assert (home.seq, home.command, home.frame) == (0, 16, mavlink_ids.MAV_FRAME_GLOBAL)
    assert home.x == round(p.origin_lat_deg * 1e7) and home.y == round(p.origin_lon_deg * 1e7) and home.z == 0.0
    # item 1: cruise speed
    assert items[1].command == mavlink_ids.MAV_CMD_DO_CHANGE_SPEED and items[1].param2 == 0.5
    assert items[1].frame == mavlink_ids.MAV_FRAME_MISSION
    navs = [it for it in items if it.command == mavlink_ids.MAV_CMD_NAV_WAYPOINT][1:]
    wps = plan.waypoints()
    assert len(navs) == len(wps)
    for it, w in zip(navs, wps):
        assert it.frame == mavlink_ids.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
        lat, lon, depth = p.h_to_wgs84([w.x_m, w.y_m, w.z_m])
        assert it.x == round(lat * 1e7) and it.y == round(lon * 1e7)
        assert it.z == pytest.approx(-depth) and it.depth_m == pytest.approx(p.draft_m - w.z_m)
        assert it.param1 == w.hold_s and it.param2 == 0.5
        assert it.param4 == pytest.approx(p.heading_h_to_ned(w.yaw_deg))
    assert [it.seq for it in items] == list(range(len(items)))
    assert validate_for_ardusub(items) == []


def test_per_waypoint_speed_items():
    items = plan_to_mission_items(make_plan())
    speeds = [(i, it.param2) for i, it in enumerate(items) if it.command == mavlink_ids.MAV_CMD_DO_CHANGE_SPEED]
    # cruise, then 0.2 before the second niche waypoint, then cruise again before the lane
    assert [s for _, s in speeds] == [0.5, 0.2, 0.5]
    assert items[speeds[1][0] + 1].param1 == 5.0  # the slow waypoint follows its speed item
    no_speed = plan_to_mission_items(make_plan(), speed_item=False)
    assert all(it.command == mavlink_ids.MAV_CMD_NAV_WAYPOINT for it in no_speed)
    assert len(no_speed) == 1 + len(make_plan().waypoints())


def test_yaw_is_compass_heading():
    # bow north: facing port (yaw 90 in H) is west
    plan = make_plan(placement=make_placement(heading_deg=0.0))
    items = plan_to_mission_items(plan, speed_item=False)
    assert items[1].param4 == pytest.approx(270.0)


def test_local_frame_items_are_flagged():
    plan = make_plan()
    items = plan_to_mission_items(plan, frame="local", speed_item=False)
    ned = plan.placement.h_to_ned(np.array([w.position_h for w in plan.waypoints()]))
    assert items[1].frame == mavlink_ids.MAV_FRAME_LOCAL_NED
    assert items[1].x == round(ned[0, 0] * 1e4) and items[1].y == round(ned[0, 1] * 1e4)
    assert items[1].z == pytest.approx(ned[0, 2]) and items[1].depth_m == pytest.approx(ned[0, 2])
    problems = validate_for_ardusub(items)
    assert any("LOCAL_NED is not supported for NAV_WAYPOINT" in p for p in problems)


def test_global_needs_a_geo_position():
    plan = make_plan(placement=make_placement(origin_lat_deg=None, origin_lon_deg=None))
    with pytest.raises(MissionItemsError, match="origin_lat_deg"):
        plan_to_mission_items(plan)
    assert plan_to_mission_items(plan, frame="local")[0].frame == mavlink_ids.MAV_FRAME_LOCAL_NED


def test_validate_catches_problems():
    good = plan_to_mission_items(make_plan())
    assert validate_for_ardusub(good) == []
    many = [good[0]] + [dataclasses.replace(good[2], seq=i) for i in range(1, 800)]
    assert any("800 items" in p for p in validate_for_ardusub(many))
    assert validate_for_ardusub(many, max_items=1000) == []

    bad_frame = list(good)
    assert good[4].command == mavlink_ids.MAV_CMD_NAV_WAYPOINT
    bad_frame[4] = dataclasses.replace(good[4], frame=mavlink_ids.MAV_FRAME_BODY_NED)
    assert any(p.startswith("item 4: BODY_NED is not supported") for p in validate_for_ardusub(bad_frame))

    nan = list(good)
    nan[4] = dataclasses.replace(good[4], z=math.nan)
    assert any(p.startswith("item 4: z is nan") for p in validate_for_ardusub(nan))
    yaw_nan = list(good)
    yaw_nan[4] = dataclasses.replace(good[4], param4=math.nan)  # MAVLink: NaN yaw = unchanged
    assert validate_for_ardusub(yaw_nan) == []

    gap = good[:3] + good[4:]
    assert any("seq 4, expected 3" in p for p in validate_for_ardusub(gap))

    not_home = [dataclasses.replace(good[1], seq=0)] + good[1:]
    assert any(p.startswith("item 0 must be home") for p in validate_for_ardusub(not_home))

    takeoff = list(good)
    takeoff[2] = dataclasses.replace(good[2], command=mavlink_ids.MAV_CMD_NAV_TAKEOFF)
    assert any("NAV_TAKEOFF is not implemented by ArduSub" in p for p in validate_for_ardusub(takeoff))

    far = list(good)
    far[2] = dataclasses.replace(good[2], x=950_000_000)
    assert any("latitude 95.0" in p for p in validate_for_ardusub(far))
    assert validate_for_ardusub([]) == ["the mission is empty: item 0 must be home"]


def test_spec_coerces_and_checks_types():
    it = MissionItemSpec(np.int64(1), 16, 6, np.int32(5), 6, np.float32(1.5), 1)
    assert type(it.seq) is int and type(it.z) is float and type(it.param1) is float
    with pytest.raises(ValueError, match="x: expected an integer"):
        MissionItemSpec(1, 16, 6, 1.5, 0)
