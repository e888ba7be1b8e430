"""Sonar detections live in the fan image; what the map and the pilot need is range and
bearing. A box's echo is its nearest edge (the side facing the sonar) and its centre
bearing; the box's spread gives the extent in range and bearing."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..detections import Detections


@dataclasses.dataclass(frozen=True, eq=False)
class SonarDetectionsPolar:
    range_m: np.ndarray  # of the box centre
    bearing_deg: np.ndarray  # + to starboard
    near_range_m: np.ndarray  # the nearest point of the box: the leading echo
    range_extent_m: np.ndarray
    bearing_extent_deg: np.ndarray


def fan_detections_to_polar(det: Detections, fan) -> SonarDetectionsPolar:
    """Map fan-image boxes (pixels of `fan`, a vision.sonar.FanImage) to range/bearing."""
    if len(det) == 0:
        z = np.zeros(0)
        return SonarDetectionsPolar(z, z, z, z, z)
    x0, y0, x1, y1 = det.xyxy.T.astype(np.float64)
    # sample each box's outline: its nearest and farthest points may lie on any edge
    t = np.linspace(0.0, 1.0, 9)
    xs = np.concatenate([x0[:, None] + (x1 - x0)[:, None] * t, x0[:, None] + (x1 - x0)[:, None] * t,
                         np.repeat(x0[:, None], 9, 1), np.repeat(x1[:, None], 9, 1)], axis=1)
    ys = np.concatenate([np.repeat(y0[:, None], 9, 1), np.repeat(y1[:, None], 9, 1),
                         y0[:, None] + (y1 - y0)[:, None] * t, y0[:, None] + (y1 - y0)[:, None] * t], axis=1)
    r, b = fan.pixel_to_polar(xs, ys)
    rc, bc = fan.pixel_to_polar((x0 + x1) / 2, (y0 + y1) / 2)
    rc, bc = np.atleast_1d(rc), np.atleast_1d(bc)
    # a box that holds the apex reaches range 0 at its nearest
    return SonarDetectionsPolar(rc, bc, r.min(axis=1), r.max(axis=1) - r.min(axis=1), b.max(axis=1) - b.min(axis=1))
