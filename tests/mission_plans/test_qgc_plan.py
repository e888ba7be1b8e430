"""QGC .plan export and import, with the real files in ../shared/data/plans (read-only)."""
from __future__ import annotations

import json
import math
import os

import pytest

from mission_plans import mavlink_ids as ids
from mission_plans.mission_items import plan_to_mission_items, validate_for_ardusub
from mission_plans.plan_file import PlanFileError
from mission_plans.qgc_plan import load_qgc_plan, plan_to_qgc, qgc_to_mission, save_qgc_plan

from . import PLANS_DIR, make_plan


def real(name: str):
    path = PLANS_DIR / name
    if not path.is_file():
        pytest.skip(f"real plan file {path} is not available")
    return path


def assert_items_close(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x.seq, x.command, x.frame, x.current, x.autocontinue) == (y.seq, y.command, y.frame, y.current, y.autocontinue)
        assert abs(x.x - y.x) <= 1 and abs(x.y - y.y) <= 1  # 1e-7 deg
        assert x.z == pytest.approx(y.z, abs=1e-3)
        for p in ("param1", "param2", "param3", "param4"):
            u, v = getattr(x, p), getattr(y, p)
            assert (math.isnan(u) and math.isnan(v)) or u == pytest.approx(v, abs=1e-6)


# ---- real files -------------------------------------------------------------------------------
@pytest.mark.parametrize("name, lat1, lon1", [
    ("ArduPilotSITL-ArduSub.plan", -35.3497863, 149.1817532),
    ("TerrainTest-ArduSub.plan", 47.6439858, -122.0663858),
])
def test_ardusub_files(name, lat1, lon1):
    m = load_qgc_plan(real(name))
    assert m.vehicle_type == 12 and m.firmware_type == 3 and m.is_ardusub
    assert len(m.items) == 1 + 7
    assert m.items[0].frame == ids.MAV_FRAME_GLOBAL and m.items[0].seq == 0
    assert [it.seq for it in m.items] == list(range(8))
    first = m.items[1]
    assert first.frame == ids.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
    assert first.x == round(lat1 * 1e7) and first.y == round(lon1 * 1e7)
    assert first.z == -5.0 and first.depth_m == 5.0  # altitude -5 -> depth 5
    assert m.items[3].depth_m == 10.0
    loiter = m.items[5]
    assert loiter.command == ids.MAV_CMD_NAV_LOITER_TIME and loiter.param1 == 20 and loiter.depth_m == 20.0
    speed = m.items[4]
    assert speed.command == ids.MAV_CMD_DO_CHANGE_SPEED and speed.frame == ids.MAV_FRAME_MISSION
    assert (speed.param1, speed.param2, speed.param3) == (1.0, 1.0, -1.0)
    assert math.isnan(first.param4)  # null in the file = NaN (yaw unchanged)
    # the two absolute-altitude (frame 0) items are reported
    assert sum("absolute (AMSL)" in w for w in m.warnings) == 2
    assert validate_for_ardusub(m.items) == []


def test_ardusub_home():
    m = load_qgc_plan(real("ArduPilotSITL-ArduSub.plan"))
    assert m.home == (-35.363261, 149.16523, 584.0)
    assert m.cruise_speed_m_s == 15 and m.hover_speed_m_s == 5


def test_px4_square():
    m = load_qgc_plan(real("simple_square.plan"))
    assert m.firmware_type == 12 and m.vehicle_type == 2 and not m.is_ardusub
    assert any("not ArduSub" in w for w in m.warnings)
    assert [it.command for it in m.items] == [16, 22, 16, 16, 16, 16]
    assert m.items[2].x == 473987420 and m.items[2].y == 85465940 and m.items[2].z == 20.0
    assert m.home == (47.397742, 8.545594, 488.0)


def test_older_schema_section_test():
    m = load_qgc_plan(real("SectionTest.plan"))
    assert [it.command for it in m.items] == [16, 22, 16, 16, 205, 16]
    assert m.items[2].x == round(47.63369112 * 1e7) and m.items[2].y == round(-122.08925023 * 1e7)
    assert m.items[2].z == 20.0
    mount = m.items[4]
    assert mount.frame == ids.MAV_FRAME_MISSION and mount.z == 2.0
    assert m.home[0] == pytest.approx(47.633389756176875)


@pytest.mark.parametrize("name", ["ArduPilotSITL-ArduSub.plan", "TerrainTest-ArduSub.plan",
                                  "simple_square.plan", "SectionTest.plan"])
def test_real_files_reexport_round_trip(tmp_path, name):
    m = load_qgc_plan(real(name))
    out = save_qgc_plan(tmp_path / "out.plan", m.items)
    again = load_qgc_plan(out)
    assert_items_close(again.items, m.items)
    assert again.home == pytest.approx(m.home)


# ---- export -------------------------------------------------------------------------------------
def test_export_schema():
    plan = make_plan()
    doc = plan_to_qgc(plan)
    assert doc["fileType"] == "Plan" and doc["version"] == 1 and doc["groundStation"] == "HullWatch"
    assert doc["geoFence"] == {"circles": [], "polygons": [], "version": 2}
    assert doc["rallyPoints"] == {"points": [], "version": 2}
    mission = doc["mission"]
    assert mission["version"] == 2 and mission["firmwareType"] == 3 and mission["vehicleType"] == 12
    assert mission["cruiseSpeed"] == 0.5 and mission["hoverSpeed"] == 0.5
    p = plan.placement
    assert mission["plannedHomePosition"] == [round(p.origin_lat_deg * 1e7) / 1e7,
                                              round(p.origin_lon_deg * 1e7) / 1e7, 0.0]
    first_wp = mission["items"][1]
    assert first_wp["type"] == "SimpleItem" and first_wp["command"] == 16 and first_wp["frame"] == 3
    assert first_wp["AltitudeMode"] == 1 and first_wp["AMSLAltAboveTerrain"] is None
    assert first_wp["Altitude"] == first_wp["params"][6] < 0
    assert first_wp["params"][0] == 5.0 and first_wp["params"][1] == 0.5
    assert [it["doJumpId"] for it in mission["items"]] == list(range(1, len(mission["items"]) + 1))
    speed = mission["items"][0]
    assert speed["command"] == 178 and speed["frame"] == 2 and "Altitude" not in speed
    json.dumps(doc, allow_nan=False)


def test_plan_export_import_round_trip(tmp_path):
    plan = make_plan()
    items = plan_to_mission_items(plan)
    m = load_qgc_plan(save_qgc_plan(tmp_path / "hull.plan", plan))
    assert m.is_ardusub and m.warnings == []
    assert_items_close(m.items, items)
    for it, w in zip([i for i in m.items if i.command == 16][1:], plan.waypoints()):
        assert it.depth_m == pytest.approx(plan.draft_m - w.z_m, abs=1e-3)


# ---- refusals and complex items -------------------------------------------------------------
def test_refusals(tmp_path):
    bad = tmp_path / "x.plan"
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(PlanFileError, match="not JSON"):
        load_qgc_plan(bad)
    with pytest.raises(PlanFileError, match="fileType"):
        qgc_to_mission({"fileType": "GeoFence", "mission": {}})
    with pytest.raises(PlanFileError, match="mission: missing"):
        qgc_to_mission({"fileType": "Plan"})
    doc = plan_to_qgc(make_plan())
    doc["mission"]["items"][1]["params"][4] = "north"
    with pytest.raises(PlanFileError, match=r"mission\.items\[1\]\.params\[4\]: expected a number"):
        qgc_to_mission(doc)
    doc = plan_to_qgc(make_plan())
    del doc["mission"]["plannedHomePosition"]
    with pytest.raises(PlanFileError, match="plannedHomePosition: missing"):
        qgc_to_mission(doc)


def test_complex_items():
    doc = plan_to_qgc(make_plan())
    simple = doc["mission"]["items"][1]
    doc["mission"]["items"].append({"type": "ComplexItem", "complexItemType": "StructureScan", "version": 3})
    doc["mission"]["items"].append({"type": "ComplexItem", "complexItemType": "survey",
                                    "TransectStyleComplexItem": {"Items": [simple, simple]}})
    m = qgc_to_mission(doc)
    assert any("StructureScan skipped" in w for w in m.warnings)
    assert any("survey expanded into its 2" in w for w in m.warnings)
    assert len(m.items) == 1 + len(doc["mission"]["items"]) - 2 + 2


def test_do_jump_target_maps_to_seq():
    doc = plan_to_qgc(make_plan())
    items = doc["mission"]["items"]
    items.append({"type": "SimpleItem", "autoContinue": True, "command": 177, "doJumpId": 99, "frame": 2,
                  "params": [2, 3, 0, 0, 0, 0, 0]})
    m = qgc_to_mission(doc)
    assert m.items[-1].command == ids.MAV_CMD_DO_JUMP and m.items[-1].param1 == 2.0  # doJumpId 2 is seq 2


def test_failed_save_leaves_nothing(tmp_path):
    target = tmp_path / "dir.plan"
    target.mkdir()
    with pytest.raises(OSError):
        save_qgc_plan(target, make_plan())
    assert os.listdir(tmp_path) == ["dir.plan"] and os.listdir(target) == []
