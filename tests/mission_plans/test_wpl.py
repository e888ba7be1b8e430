"""QGC WPL 110 files: the real Mission Planner files, tolerance, refusals, round trip."""
from __future__ import annotations

import math
import os

import pytest

from mission_plans import mavlink_ids as ids
from mission_plans.mission_items import plan_to_mission_items
from mission_plans.plan_file import PlanFileError
from mission_plans.wpl import load_wpl, parse_wpl, save_wpl, wpl_text

from . import PLANS_DIR, make_plan


def real(name: str):
    path = PLANS_DIR / name
    if not path.is_file():
        pytest.skip(f"real waypoint file {path} is not available")
    return path


def test_mission_planner_file_crlf():
    path = real("MissionPlanner.waypoints.txt")
    assert b"\r\n" in path.read_bytes()
    items = load_wpl(path)
    assert len(items) == 15
    home = items[0]
    assert (home.seq, home.current, home.frame, home.command) == (0, 1, 0, 16)
    assert home.x == 401222690 and home.y == -1051709670 and home.z == pytest.approx(1543.079956)
    takeoff = items[1]
    assert takeoff.command == ids.MAV_CMD_NAV_TAKEOFF and takeoff.param1 == 10.0 and takeoff.z == 30.0
    assert items[2].x == 401229930 and items[2].y == -1051677170 and items[2].z == 100.0
    assert items[7].command == 177 and items[7].param1 == 2.0 and items[7].param2 == -1.0
    assert items[10].command == ids.MAV_CMD_DO_CHANGE_SPEED and items[10].param2 == 15.0
    assert items[14].command == ids.MAV_CMD_NAV_LAND and items[14].z == 0.0
    assert [it.seq for it in items] == list(range(15))


def test_hundred_waypoints_file():
    items = load_wpl(real("100Waypoints.waypoints.txt"))
    assert len(items) == 100
    assert items[3].command == ids.MAV_CMD_DO_SET_CAM_TRIGG_DIST and items[3].param1 == pytest.approx(21.059999)
    assert items[99].x == 346295490 and items[99].y == -1125068890 and items[99].z == 90.0
    assert all(it.autocontinue == 1 for it in items)


@pytest.mark.parametrize("name", ["MissionPlanner.waypoints.txt", "100Waypoints.waypoints.txt"])
def test_real_files_round_trip(tmp_path, name):
    items = load_wpl(real(name))
    out = save_wpl(tmp_path / "out.waypoints", items)
    assert load_wpl(out) == items


def test_plan_round_trip_and_format(tmp_path):
    items = plan_to_mission_items(make_plan())
    path = save_wpl(tmp_path / "hull.waypoints", items)
    data = path.read_bytes()
    assert data.startswith(b"QGC WPL 110\r\n") and data.count(b"\r\n") == len(items) + 1
    assert data.split(b"\r\n")[1].count(b"\t") == 11
    assert load_wpl(path) == items  # exact: shortest-repr floats, degE7 ints


def test_tolerant_reading():
    text = ("\ufeff# exported by hand\n\nQGC WPL 110\r\n"
            "0 1 0 16 0 0 0 0 40.1 -105.2 0 1\n"
            "   # a comment\n"
            "1\t0 \t3\t16\t2.5  0\t0\t0\t40.12345678\t-105.1\t-7.5\t1   \r\n\n")
    items = parse_wpl(text)
    assert len(items) == 2
    assert items[1].x == 401234568 and items[1].z == -7.5 and items[1].param1 == 2.5 and items[1].depth_m == 7.5


@pytest.mark.parametrize("text, message", [
    ("WPL\n0 1 0 16 0 0 0 0 1 2 3 1\n", 'line 1: expected the header "QGC WPL 110"'),
    ("QGC WPL 120\n", "line 1: WPL version 120 is not supported"),
    ("QGC WPL 110\n0 1 0 16 0 0 0 0 1 2 3 1\n1 0 3 16 0 0 0 1 2 3 1\n", "line 3: expected 12 fields, got 11"),
    ("QGC WPL 110\n\n0 1 0 16 0 0 0 zero 1 2 3 1\n", "line 3: field 8 'zero' is not a number"),
    ("QGC WPL 110\n0 1 0 16.5 0 0 0 0 1 2 3 1\n", "line 2: command '16.5' is not an integer"),
    ("QGC WPL 110\n0 1 0 16 0 0 0 0 1 2 3 1\n2 0 3 16 0 0 0 0 1 2 3 1\n", "line 3: index 2, expected 1"),
    ("QGC WPL 110\n0 1 0 16 0 0 0 0 nan 2 3 1\n", "line 2: x nan is not a finite number"),
    ("", "header"),
])
def test_bad_lines_name_the_line(text, message):
    with pytest.raises(PlanFileError) as e:
        parse_wpl(text)
    assert message in str(e.value)


def test_nan_param_written_and_read():
    items = plan_to_mission_items(make_plan(), speed_item=False)[:2]
    import dataclasses
    items[1] = dataclasses.replace(items[1], param4=math.nan)
    again = parse_wpl(wpl_text(items))
    assert math.isnan(again[1].param4)


def test_failed_save_leaves_nothing(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OSError):
        save_wpl(blocker / "m.waypoints", plan_to_mission_items(make_plan()))
    assert os.listdir(tmp_path) == ["afile"]
