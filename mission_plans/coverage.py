"""Predicted coverage: which wetted-surface samples a sensor sees from the planned poses.

The visibility test itself (range, field of view, incidence, occlusion by ray casting on
the real hull) lives in hull.visibility, shared with the live coverage map; this module
adds the planner's shortcut for long plans and re-exports the names its callers use.
"""
from __future__ import annotations

import numpy as np

from hull.surface_samples import SurfaceSamples
from hull.visibility import (OCCLUSION_TOLERANCE_M, SensorModel, SensorPoses, in_view, pairs_in_range,
                             sample_tree, sensor_frames, unoccluded)

__all__ = ["OCCLUSION_TOLERANCE_M", "POSES_PER_CHUNK", "SensorModel", "SensorPoses", "predict_seen"]

POSES_PER_CHUNK = 256


def predict_seen(samples: SurfaceSamples, poses: SensorPoses, sensor: SensorModel, queries) -> np.ndarray:
    """Boolean mask over the samples: seen by `sensor` from at least one pose."""
    seen = np.zeros(len(samples), dtype=bool)
    if len(poses) == 0 or len(samples) == 0:
        return seen
    tree = sample_tree(samples)
    frames = sensor_frames(poses)
    # poses in plan order, a chunk at a time: consecutive poses look at the same hull,
    # so most samples are already seen by the time a later pose is tested
    for start in range(0, len(poses), POSES_PER_CHUNK):
        p, s = pairs_in_range(tree, poses, sensor, start, start + POSES_PER_CHUNK)
        keep = ~seen[s]
        p, s = p[keep], s[keep]
        if not len(s):
            continue
        ok = in_view(samples, poses, frames, sensor, p, s)
        p, s = p[ok], s[ok]
        if not len(s):
            continue
        # one ray per sample is enough to call it seen: the first pose (in plan order) in
        # view; only samples hidden from that pose are tried from their next pose, so a
        # sample behind the rudder from one pose still counts when another sees it
        while len(s):
            s_first, first = np.unique(s, return_index=True)
            seen[s_first[unoccluded(samples, poses, p[first], s_first, queries)]] = True
            left = ~seen[s]
            left[first] = False
            p, s = p[left], s[left]
    return seen
