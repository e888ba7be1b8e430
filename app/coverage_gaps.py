"""The gap re-plan from live coverage: gap regions (vision.hullmap.gaps) turned into the
planner's input (mission_plans UncoveredPatch) and planned with SweepPlanner.fill_in.

Lives in app because it joins vision and mission_plans, which may not import each other.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mission_plans.plan_model import UncoveredPatch

TILE_OF_FOOTPRINT = 0.8  # tile side over the smaller side of the camera's view at the standoff
UNREACHED = "not seen"  # the reason when nothing forbids a pose in front of the patch


def region_patches(regions: Sequence, tile_m: float, limits=None, standoff_m: float = 0.0) -> list[UncoveredPatch]:
    """Each region cut into tiles of about tile_m (m, a cube grid in H), one
    UncoveredPatch per tile: centre at the member sample nearest the tile's mean (on the
    hull), its area, and why it is unseen. fill_in places one station per patch, so a
    region larger than one view must become several. With `limits` (SafetyLimits), a
    tile whose standoff poses mostly break a rule carries that rule's name (fill_in skips
    "quay gap", "too shallow" and "seabed")."""
    out = []
    for region in regions:
        pts, w = np.asarray(region.points_h), np.asarray(region.sample_area_m2)
        cells = np.floor(pts / tile_m).astype(np.int64)
        _, tile = np.unique(cells, axis=0, return_inverse=True)
        tile = tile.reshape(-1)
        for k in range(int(tile.max()) + 1):
            m = tile == k
            tp, tw = pts[m], w[m]
            mean = (tp * tw[:, None]).sum(axis=0) / tw.sum()
            centre = tp[np.argmin(np.linalg.norm(tp - mean, axis=1))]
            out.append(UncoveredPatch(tuple(float(c) for c in centre), float(tw.sum()),
                                      _reason(limits, tp, np.asarray(region.normals_h)[m], standoff_m)))
    out.sort(key=lambda p: -p.area_m2)
    return out


def _reason(limits, points, normals, standoff_m) -> str:
    if limits is None:
        return UNREACHED
    why = limits.reasons(points + normals * standoff_m)
    named = why[why != ""]
    if len(named) > len(why) / 2:
        values, counts = np.unique(named.astype(str), return_counts=True)
        return str(values[np.argmax(counts)])
    return UNREACHED


def fill_in_plan(planner, regions: Sequence, start_h=None):
    """A fill-in plan (mission_plans.planner.PlanResult) for the gap regions: stations
    facing each reachable tile of every region, nearest first from start_h (H, m; None:
    the planner's default start). Tiles are sized to the planner's primary sensor
    footprint at its standoff."""
    from mission_plans.planner import sensor_models

    standoff = planner.settings.standoff_m
    width, height = sensor_models(planner.sensors)[0].footprint_m(standoff)
    patches = region_patches(regions, TILE_OF_FOOTPRINT * min(width, height), planner.limits, standoff)
    return planner.fill_in(patches, start_h=start_h)
