"""Flying back to a planted container on the embedded world: the guided target stands off
the hull along its normal and faces it; the simulated vehicle gets there in GUIDED."""
from __future__ import annotations

import math

import numpy as np
import pytest

from app.fly_to import FLY_TO_STANDOFF_M, fly_to, target_for


@pytest.fixture(scope="module")
def world():
    from sim.embedded_world import build_world

    return build_world(seed=4)


def _hull_containers(ew):
    return [o for o in ew.scenario.objects if o.class_name == "parasitic_container" and o.attached_to == "hull"]


def test_target_stands_off_the_hull_facing_it(world):
    side = [o for o in _hull_containers(world) if math.hypot(*o.normal_h[:2]) > 0.7]
    assert side, "seed 4 has a container on the ship's side"
    obj = side[0]
    placement = world.scenario.placement
    t = target_for(world.model.queries, placement, obj.center_h)
    # level with the point, standoff_m out along the hull's normal (its horizontal part)
    on_hull = world.model.queries.closest_points(np.array([obj.center_h])).points_h[0]
    off = np.asarray(t.position_h) - on_hull
    assert abs(off[2]) < 1e-6 and abs(np.hypot(off[0], off[1]) - FLY_TO_STANDOFF_M) < 1e-6
    assert float(world.model.queries.distance(np.array([t.position_h]))[0]) > 0.5 * FLY_TO_STANDOFF_M
    # the heading points from the standoff point to the hull: the camera looks at the container
    look = placement.h_to_ned(np.array([obj.center_h]))[0] - np.array([t.north_m, t.east_m, t.down_m])
    bearing = math.degrees(math.atan2(look[1], look[0])) % 360
    assert abs((bearing - t.yaw_deg + 180) % 360 - 180) < 20


@pytest.mark.timeout(300)
def test_fly_to_a_container_near_the_start(world):
    from tests.vehicle.sim_fixtures import sim_and_station
    from vehicle import SubMode

    placement = world.scenario.placement
    # the container nearest the vehicle's start (the EKF origin), so the flight stays short
    objs = _hull_containers(world)
    ned = [placement.h_to_ned(np.array([o.center_h]))[0] for o in objs]
    obj = objs[int(np.argmin([np.hypot(p[0], p[1]) for p in ned]))]
    target = target_for(world.model.queries, placement, obj.center_h)
    with sim_and_station() as (sim, vehicle):
        vehicle.manual.keep_alive(True)
        vehicle.arm()
        left = fly_to(vehicle, target, timeout_s=240)
        assert left < 0.5
        assert vehicle.state.custom_mode == SubMode.GUIDED
