"""The embedded vehicle's distance sensor measuring to the real hull (and seabed).

The rangefinder looks where RNGFND1_ORIENT says (ArduPilot's MAV_SENSOR_ORIENTATION):
0 forward (along the vehicle's heading, level: the standoff to a hull side), 24 up (the
hull bottom above a vehicle under the keel), 25 down (the seabed, or the hull when the
vehicle is above part of it). The nearer of hull and seabed wins.
"""
from __future__ import annotations

import math

import numpy as np

from hull.mesh import TriangleMesh
from hull.placement import Placement
from hull.queries import HullQueries

ORIENT_FORWARD, ORIENT_UP, ORIENT_DOWN = 0, 24, 25


def hull_range_function(mesh: TriangleMesh, placement: Placement, orientation=lambda: ORIENT_DOWN,
                        queries: HullQueries | None = None):
    """A SimVehicle range function: fn(position_ned_m, heading_rad) -> range_m | None.
    `orientation` is read on every call, so a parameter change takes effect at once."""
    q = queries or HullQueries(mesh)
    seabed_down_m = placement.water_depth_m

    def measure(position_ned_m: np.ndarray, heading_rad: float) -> float | None:
        orient = int(orientation())
        if orient == ORIENT_FORWARD:
            direction_ned = np.array([math.cos(heading_rad), math.sin(heading_rad), 0.0])
        elif orient == ORIENT_UP:
            direction_ned = np.array([0.0, 0.0, -1.0])
        else:
            direction_ned = np.array([0.0, 0.0, 1.0])
        origin_h = placement.ned_to_h(np.asarray(position_ned_m, dtype=float))
        # a direction transforms by the rotation alone: difference of two transformed points
        tip_h = placement.ned_to_h(np.asarray(position_ned_m, dtype=float) + direction_ned)
        hits = q.cast_rays(origin_h[None, :], (tip_h - origin_h)[None, :])
        ranges = [float(hits.t_m[0])] if hits.hit[0] else []
        if direction_ned[2] > 0:  # looking down: the seabed is there too
            ranges.append(max(0.0, seabed_down_m - float(position_ned_m[2])))
        return min(ranges) if ranges else None

    return measure
