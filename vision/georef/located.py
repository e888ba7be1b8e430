"""What georeferencing says about one detection: where on the hull it is, how far from the
sensor, how sure we are, and how big it looks."""
from __future__ import annotations

import dataclasses

import numpy as np

from hull.queries import SurfaceAddress


@dataclasses.dataclass(frozen=True, eq=False)
class Located:
    """One detection placed on the hull (immutable: it crosses to the map and recorder).

    position_h: (3,) the point on the hull, H frame, m. normal_h: (3,) the hull's outward
    normal there. range_m: sensor to position_h. uncertainty_m: 1-sigma radius of
    position_h's error (m). size_m: (width, height) in m across the sensor's view (camera:
    image x, y; sonar: across the beams, along the range), or None when unknown.
    """

    position_h: np.ndarray
    normal_h: np.ndarray
    range_m: float
    uncertainty_m: float
    address: SurfaceAddress | None  # None only when asked for without one (the point map)
    size_m: tuple[float, float] | None = None

    def __post_init__(self):
        for name in ("position_h", "normal_h"):
            a = np.array(getattr(self, name), dtype=np.float64).reshape(3)
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        object.__setattr__(self, "range_m", float(self.range_m))
        object.__setattr__(self, "uncertainty_m", float(self.uncertainty_m))
        if self.size_m is not None:
            object.__setattr__(self, "size_m", (float(self.size_m[0]), float(self.size_m[1])))


def pose_parts(pose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position_h, forward_h, up_h) from a hull.pose.SensorPose or a 3-tuple; forward is
    normalised and up made orthogonal to it (unit), as the renderers do."""
    if hasattr(pose, "position_h"):
        pos, fwd, up = pose.position_h, pose.forward_h, pose.up_h
    else:
        pos, fwd, up = pose
    pos = np.asarray(pos, dtype=np.float64).reshape(3)
    f = np.asarray(fwd, dtype=np.float64).reshape(3)
    f = f / np.linalg.norm(f)
    u = np.asarray(up, dtype=np.float64).reshape(3)
    u = u - f * float(u @ f)
    return pos, f, u / np.linalg.norm(u)


def recessed_niche(niche_name: str | None, niche_areas):
    """The named niche area when it is a recess behind the plating (a sea chest: not one of
    the centred kinds, whose depth_m is a length, and depth_m > 0), else None. The hull
    model's plating runs across such an opening; what is inside lies up to depth_m (m)
    behind it."""
    for area in niche_areas:
        if area.name == niche_name and not area.centred and area.depth_m > 0:
            return area
    return None
