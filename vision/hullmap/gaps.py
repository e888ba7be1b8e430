"""Gaps: the unseen wetted surface grouped into connected regions a dive team can go back
to, each with its area, where it is (H and the hull-surface address) and its niche area."""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from hull.surface_samples import SurfaceSamples, in_niche

LINK_SPACINGS = 1.5  # unseen samples closer than this many sample spacings are one region


def _frozen(a) -> np.ndarray:
    out = np.array(a)
    out.setflags(write=False)
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class GapRegion:
    """One connected unseen region. Lengths in m, areas in m2, points in H.

    centroid_h is the member sample nearest the area-weighted mean, so it lies on the
    hull and inside the region even when the region curves round the bilge.
    """

    area_m2: float
    centroid_h: np.ndarray  # (3,)
    extent_min_h: np.ndarray  # (3,) axis-aligned bounds of the members
    extent_max_h: np.ndarray  # (3,)
    address: object | None  # hull.queries.SurfaceAddress of the centroid (None without queries)
    niche: str | None  # the niche area holding over half the region's area, if any
    sample_ids: np.ndarray  # (M,) indices into the samples
    points_h: np.ndarray  # (M, 3) the members, so a consumer needs no sample set
    normals_h: np.ndarray  # (M, 3)
    sample_area_m2: np.ndarray  # (M,)


def default_link_m(samples: SurfaceSamples) -> float:
    """1.5 x the sample spacing (m) where the samples are sparsest: the side of the square
    a 90th-percentile sample stands for. Sampling gives every face at least one sample, so
    on a finely meshed hull most samples are far denser than the flat plating's; a link
    sized from the median would cut the plating's regions into crumbs."""
    return LINK_SPACINGS * float(np.sqrt(np.quantile(samples.area_m2, 0.9))) if len(samples) else 0.0


def gap_regions(samples: SurfaceSamples, seen_mask: np.ndarray, min_area_m2: float = 0.5,
                link_m: float | None = None, *, queries=None, draft_m: float | None = None,
                niche_areas: Sequence = ()) -> list[GapRegion]:
    """Connected regions of unseen samples, largest first; regions under min_area_m2 are
    sampling noise and dropped. Two unseen samples are linked when closer than link_m (m,
    straight line: samples on opposite faces of a plate thinner than link_m would join,
    which hull plating at these spacings is not). With `queries` (HullQueries) and
    draft_m each region gets its hull-surface address."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    unseen = np.nonzero(~np.asarray(seen_mask, dtype=bool))[0]
    if not len(unseen):
        return []
    link = default_link_m(samples) if link_m is None else float(link_m)
    pts = samples.points_h[unseen]
    pairs = cKDTree(pts).query_pairs(link, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(unseen), len(unseen)))
    n, labels = connected_components(graph, directed=False)
    areas = np.bincount(labels, weights=samples.area_m2[unseen], minlength=n)
    niche_masks = [(a, in_niche(samples, a)) for a in niche_areas]
    out = []
    for k in np.nonzero(areas >= min_area_m2)[0]:
        ids = unseen[labels == k]
        out.append(_region(samples, ids, float(areas[k]), niche_masks, queries, draft_m, niche_areas))
    out.sort(key=lambda r: -r.area_m2)
    return out


def _region(samples, ids, area, niche_masks, queries, draft_m, niche_areas) -> GapRegion:
    pts, w = samples.points_h[ids], samples.area_m2[ids]
    mean = (pts * w[:, None]).sum(axis=0) / w.sum()
    centroid = pts[np.argmin(np.linalg.norm(pts - mean, axis=1))]
    niche = None
    for a, inside in niche_masks:
        # most of the region, not a corner of a large one that happens to touch the box
        if float(w[inside[ids]].sum()) > 0.5 * area:
            niche = a.name
            break
    address = None
    if queries is not None and draft_m is not None:
        address = queries.surface_address(centroid, draft_m, niche_areas)
    return GapRegion(area, _frozen(centroid), _frozen(pts.min(axis=0)), _frozen(pts.max(axis=0)), address, niche,
                     _frozen(ids), _frozen(pts), _frozen(samples.normals_h[ids]), _frozen(w))
