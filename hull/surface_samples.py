"""Area-weighted sample points on the wetted surface: the unit in which coverage is
counted, so the answer does not depend on how the mesh happens to be tessellated."""
from __future__ import annotations

import dataclasses

import numpy as np

from .mesh import TriangleMesh

DEFAULT_SAMPLE_AREA_M2 = 0.25  # one sample per half-metre square
# a niche box is grown by this much when counting its samples, so a surface sample lying
# just outside a thin box (an anode, a flat grating) still counts for it
NICHE_SAMPLE_MARGIN_M = 0.25


@dataclasses.dataclass(frozen=True, eq=False)
class SurfaceSamples:
    points_h: np.ndarray  # (S, 3)
    normals_h: np.ndarray  # (S, 3) outward
    area_m2: np.ndarray  # (S,) area each sample stands for
    face_ids: np.ndarray  # (S,) face of the wetted mesh it lies on

    @property
    def total_area_m2(self) -> float:
        return float(self.area_m2.sum())

    def __len__(self) -> int:
        return len(self.points_h)


def sample_surface(mesh: TriangleMesh, sample_area_m2: float = DEFAULT_SAMPLE_AREA_M2,
                   seed: int = 0) -> SurfaceSamples:
    """Stratified: each face gets round(area / sample_area) samples (at least one), so
    small faces (bow, niche details) are never skipped and every face's area is shared
    exactly among its samples. Deterministic for a seed."""
    areas = mesh.face_areas()
    keep = areas > 0
    face_idx = np.nonzero(keep)[0]
    counts = np.maximum(1, np.round(areas[keep] / sample_area_m2)).astype(np.int64)
    faces = np.repeat(face_idx, counts)
    rng = np.random.default_rng(seed)
    r1, r2 = rng.random(len(faces)), rng.random(len(faces))
    flip = r1 + r2 > 1.0  # fold the unit square onto the triangle
    r1, r2 = np.where(flip, 1 - r1, r1), np.where(flip, 1 - r2, r2)
    t = mesh.triangles()[faces]
    pts = t[:, 0] + r1[:, None] * (t[:, 1] - t[:, 0]) + r2[:, None] * (t[:, 2] - t[:, 0])
    normals = mesh.face_normals()[faces]
    share = np.repeat(areas[keep] / counts, counts)
    return SurfaceSamples(pts, normals, share, faces)


def in_niche(samples: SurfaceSamples, area, margin_m: float = NICHE_SAMPLE_MARGIN_M) -> np.ndarray:
    """Boolean mask (S,): the samples counted for one niche area (a hull.niche.NicheArea),
    i.e. inside its box grown by margin_m (metres). Planner and live coverage both count
    niche coverage over exactly these samples."""
    return area.contains(samples.points_h, margin_m=margin_m)
