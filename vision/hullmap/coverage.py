"""Live coverage: which wetted-surface samples the frames and pings actually received
have seen, counted with the same visibility test the planner predicts with
(hull.visibility), so "coverage reached the prediction" compares like with like.

Thread model: one worker (the hull-map worker, ~1 Hz) owns a LiveCoverage and calls
observe() with the sensor poses received since its last turn; summary() returns an
immutable CoverageSummary that may be handed to any thread. LiveCoverage itself is not
locked: do not share it.
"""
from __future__ import annotations

import dataclasses
import types
from typing import Mapping, Sequence

import numpy as np

from hull.surface_samples import SurfaceSamples, in_niche
from hull.visibility import SensorModel, SensorPoses, sample_tree, visible_pairs


@dataclasses.dataclass(frozen=True)
class CoverageSummary:
    """Coverage at t_s (s, the time of the newest observation; None before any).
    Percentages are of wetted area (m2), 0..100."""

    t_s: float | None
    wetted_area_m2: float
    seen_area_m2: float
    overall_pct: float
    per_sensor_pct: Mapping[str, float]
    per_niche_pct: Mapping[str, float]
    observations: Mapping[str, int]  # sensor poses taken in, per sensor


class LiveCoverage:
    """Per sample and per sensor: seen flag, first-seen time (s, NaN until seen) and the
    number of poses that saw it.

    samples: the wetted surface as hull.surface_samples.SurfaceSamples (use the
    planner's, PlanResult.samples, to compare with its prediction); niche_areas:
    hull.niche.NicheArea boxes; sensors: name -> SensorModel; queries: HullQueries of the
    full hull mesh, for the occlusion rays.
    """

    def __init__(self, samples: SurfaceSamples, niche_areas: Sequence, sensors: Mapping[str, SensorModel],
                 queries):
        if not sensors:
            raise ValueError("sensors: at least one SensorModel is needed")
        self.samples = samples
        self.sensors = dict(sensors)
        self.queries = queries
        self._tree = sample_tree(samples)
        n = len(samples)
        self._seen = {name: np.zeros(n, dtype=bool) for name in self.sensors}
        self._first_s = {name: np.full(n, np.nan) for name in self.sensors}
        self._count = {name: np.zeros(n, dtype=np.int32) for name in self.sensors}
        self._observations = {name: 0 for name in self.sensors}
        self._niches = tuple((a.name, in_niche(samples, a)) for a in niche_areas)
        self._t_s: float | None = None

    def observe(self, sensor_name: str, sensor_poses, t_s) -> int:
        """Mark what `sensor_name` saw from sensor_poses (one hull.pose.SensorPose, a list
        of them, or a SensorPoses; H, m) at t_s (s: one time, or one per pose). Returns
        how many samples were seen for the first time by this sensor."""
        sensor = self.sensors[sensor_name]
        poses = SensorPoses.of(sensor_poses)
        if not len(poses):
            return 0
        times = np.broadcast_to(np.asarray(t_s, dtype=np.float64), (len(poses),))
        p, s = visible_pairs(self.samples, self._tree, poses, sensor, self.queries)
        seen, first, count = self._seen[sensor_name], self._first_s[sensor_name], self._count[sensor_name]
        np.add.at(count, s, 1)
        new = ~seen[s]
        # earliest pose in this batch per newly seen sample: a batch need not arrive in time order
        t_new = times[p[new]]
        order = np.lexsort((t_new, s[new]))
        fresh, idx = np.unique(s[new][order], return_index=True)
        first[fresh] = t_new[order][idx]
        seen[fresh] = True
        self._observations[sensor_name] += len(poses)
        t_max = float(times.max())
        self._t_s = t_max if self._t_s is None else max(self._t_s, t_max)
        return len(fresh)

    def seen_mask(self, sensor_name: str | None = None) -> np.ndarray:
        """A copy of the per-sample seen flags, by one sensor or (None) by any."""
        if sensor_name is not None:
            return self._seen[sensor_name].copy()
        return np.logical_or.reduce(list(self._seen.values()))

    def first_seen_s(self, sensor_name: str) -> np.ndarray:
        """A copy of the per-sample first-seen times (s; NaN where not seen yet)."""
        return self._first_s[sensor_name].copy()

    def seen_count(self, sensor_name: str) -> np.ndarray:
        """A copy of the per-sample number of poses that saw it."""
        return self._count[sensor_name].copy()

    def summary(self) -> CoverageSummary:
        a = self.samples.area_m2
        total = float(a.sum())
        any_seen = self.seen_mask()

        def pct(mask, within=None):
            base = a if within is None else a[within]
            denom = float(base.sum())
            num = float((a[mask] if within is None else a[within & mask]).sum())
            return 100.0 * num / denom if denom else 0.0

        ro = types.MappingProxyType
        return CoverageSummary(
            t_s=self._t_s,
            wetted_area_m2=total,
            seen_area_m2=float(a[any_seen].sum()),
            overall_pct=pct(any_seen),
            per_sensor_pct=ro({name: pct(m) for name, m in self._seen.items()}),
            per_niche_pct=ro({name: pct(any_seen, inside) for name, inside in self._niches}),
            observations=ro(dict(self._observations)),
        )
