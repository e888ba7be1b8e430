"""Fly back to a place on the hull (a finding the diver must recover, a gap to look at
again): a guided target standing off the hull along its outward normal, facing it.

No Qt: the GUI runs fly_to() in a task with the vehicle's executor.
"""
from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

FLY_TO_STANDOFF_M = 1.5  # inside the camera's useful range, clear of the plating
ARRIVED_M = 0.5
FACING_SIDE_MIN = 0.3  # horizontal part of the normal below which the point is on the bottom
MIN_DEPTH_M = 0.5  # a target above this would break the surface: held just below it


@dataclasses.dataclass(frozen=True)
class GuidedTarget:
    north_m: float
    east_m: float
    down_m: float
    yaw_deg: float  # heading that faces the hull point
    position_h: tuple[float, float, float]  # the standoff point, hull frame


def target_for(hull_queries, placement, point_h, standoff_m: float = FLY_TO_STANDOFF_M) -> GuidedTarget:
    """The guided target for looking at point_h (H, m) from standoff_m off the hull."""
    p = np.asarray(point_h, float).reshape(1, 3)
    closest = hull_queries.closest_points(p)
    on_hull = np.asarray(closest.points_h[0], float)
    normal = np.asarray(closest.normals_h[0], float)
    normal = normal / max(np.linalg.norm(normal), 1e-9)
    outward = math.hypot(normal[0], normal[1])
    if outward < FACING_SIDE_MIN:
        # under the bottom: straight below it, the camera looks up by its tilt; heading along the keel
        stand = on_hull + standoff_m * normal
        yaw = float(placement.heading_h_to_ned(0.0)) % 360.0
    else:
        # on the side or the bilge: level with it, out along the normal's horizontal part, so the
        # camera (which tilts only +-45 deg) looks at it straight ahead
        level = np.array([normal[0], normal[1], 0.0]) / outward
        stand = on_hull + standoff_m * level
        yaw = float(placement.heading_h_to_ned(math.degrees(math.atan2(-level[1], -level[0])))) % 360.0
    stand_ned = placement.h_to_ned(stand.reshape(1, 3))[0]
    down = max(float(stand_ned[2]), MIN_DEPTH_M)
    return GuidedTarget(float(stand_ned[0]), float(stand_ned[1]), down, yaw, tuple(float(v) for v in stand))


def fly_to(vehicle, target: GuidedTarget, timeout_s: float = 120.0, resend_s: float = 1.0) -> float:
    """Switch to GUIDED and hold the target until the vehicle is within ARRIVED_M of it;
    returns the distance left (m). Raises TimeoutError naming how far it still is."""
    from vehicle import SubMode

    if not vehicle.state.has_position:
        raise RuntimeError("the vehicle has no position estimate (GUIDED needs one): fly there by hand, "
                           "or give it a position source (DVL, USBL) first")
    if vehicle.state.custom_mode != SubMode.GUIDED:
        vehicle.set_mode(SubMode.GUIDED)
    deadline = time.monotonic() + timeout_s
    goal = np.array([target.north_m, target.east_m, target.down_m])
    left = math.inf
    while time.monotonic() < deadline:
        vehicle.goto_local_ned(target.north_m, target.east_m, target.down_m, target.yaw_deg)
        end = time.monotonic() + resend_s
        while time.monotonic() < end:
            lp = vehicle.state.local_position
            if lp is not None:
                left = float(np.linalg.norm(np.array([lp.north_m, lp.east_m, lp.down_m]) - goal))
                if left < ARRIVED_M:
                    return left
            time.sleep(0.1)
    raise TimeoutError(f"the vehicle is still {left:.1f} m from the target after {timeout_s:.0f} s")
