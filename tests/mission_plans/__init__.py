"""Tests of mission_plans. make_plan() builds a small, valid plan for the tests to share."""
from __future__ import annotations

from pathlib import Path

from hull.placement import Placement
from mission_plans.plan_model import (CameraSensor, CoveragePrediction, HullRef, Leg, Plan, SensorSetup,
                                      SonarSensor, UncoveredPatch, VesselInfo, Waypoint)

# the real QGC / Mission Planner files (read-only, outside the repo)
PLANS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "plans"


def make_placement(**kw) -> Placement:
    base = dict(origin_lat_deg=53.5461234, origin_lon_deg=9.9665678, heading_deg=62.5, draft_m=9.2,
                berth_side="starboard", quay_gap_m=2.0, water_depth_m=15.5, origin_ned_m=(12.5, -40.25))
    base.update(kw)
    return Placement(**base)


def make_plan(**kw) -> Plan:
    placement = kw.pop("placement", None) or make_placement()
    legs = (
        Leg("niche_pass", "sea chest port", "sea_chest_port",
            (Waypoint(20.0, 14.0, 2.5, 90.0, hold_s=5.0), Waypoint(24.5, 14.0, 2.5, 90.0, hold_s=5.0, speed_m_s=0.2))),
        Leg("lane_horizontal", "port lane 1", None,
            tuple(Waypoint(float(x), 16.2, 6.1, 90.0) for x in range(0, 120, 20))),
        Leg("transit", "to bottom", None, (Waypoint(119.0, 0.0, -2.0, 180.0),)),
        Leg("lane_bottom", "bottom 1", None, (Waypoint(110.0, 3.3, -1.5, 180.0), Waypoint(5.0, 3.3, -1.5, 180.0))),
    )
    base = dict(
        vessel=VesselInfo("MV Example Trader", imo="9074729", mmsi="211234560"),
        hull=HullRef(parametric={"length_m": 120.0, "beam_m": 32.2, "depth_m": 12, "block": 0.78,
                                 "stations": [0.0, 0.25, 0.5]}),
        draft_m=placement.draft_m,
        placement=placement,
        sensors=SensorSetup(CameraSensor(80.0, 64.0, 1920, 1080, 2.5),
                            SonarSensor(130.0, 20.0, 0.2, 20.0, 70.0)),
        standoff_m=1.5,
        overlap=0.2,
        legs=legs,
        prediction=CoveragePrediction(87.25, {"sea_chest_port": 99.5, "rudder": 61.0},
                                      (UncoveredPatch((60.0, -16.0, 1.0), 12.5, "occluded by the quay"),)),
        length_m=512.3,
        duration_s=1710.0,
        cruise_speed_m_s=0.5,
        created_utc="2026-11-23T18:00:00+00:00",
        software="HullWatch 0.1.0",
    )
    base.update(kw)
    return Plan(**base)
