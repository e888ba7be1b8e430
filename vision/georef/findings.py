"""Findings: what a mission found, one per object on the hull, however often and by
however many tracks it was seen.

A track's located observations fuse into one position: a weighted mean (confidence over
the observation's own variance, so a sure, close look counts more than a far glimpse),
outliers beyond 3 robust (MAD-based) sigmas dropped first (a box that slid onto a
neighbour, a wrong sonar elevation). Its uncertainty shrinks as observations add, down to
a floor for what averaging cannot remove (the vehicle's navigation error, the hull
model's own error).

Tracks break (glare, a turn, the object leaving the view) and the camera and the sonar
track separately; a new track whose finding lands on an existing one of a compatible class
joins it, so the bag seen 40 times by three tracks is one finding.
"""
from __future__ import annotations

import collections
import dataclasses
import itertools
import math

import numpy as np

from hull.queries import SurfaceAddress

from ..classes import ALARM_CLASSES
from .located import Located

MERGE_MAX_M = 0.5  # two findings farther apart than this are two objects, whatever the uncertainty
MERGE_SIGMAS = 3.0  # ... and closer than 3 combined sigmas are one
# ... unless their outlines overlap: two things cannot lie on one patch of plating. A 1.8 m
# torpedo seen end-on in one pass and side-on in the next lands as two findings 0.8 m apart,
# and a loose 1.3 m box around a 0.9 m bag 0.7 m off its centre; closer than half the sum
# of their measured long sides they are one (capped: a wrong size must not swallow the
# neighbours)
MERGE_EXTENT_MAX_M = 1.0
OUTLIER_SIGMAS = 3.0  # robust sigmas (MAD x 1.4826), about 4.4 MADs
MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution is 0.6745 sigma
DEFAULT_FLOOR_M = 0.05  # errors shared by every observation: the pose's, the hull model's
MIN_OBSERVATION_UNCERTAINTY_M = 0.01  # keeps one perfect-looking observation from taking all the weight
MAX_OBSERVATIONS_PER_TRACK = 500  # a track parked on one object for minutes keeps its newest looks


@dataclasses.dataclass(frozen=True, eq=False)
class Finding:
    """One object on the hull. position_h (3,) H frame, m; uncertainty_m: 1-sigma error
    radius, m; size_m: median (width, height) of the observations that had one, m;
    tracks: the (source, track id) pairs that saw it; t in s (the frames' clock). size_m
    comes from the camera's looks when there are any (the sonar's echo extent otherwise)."""

    finding_id: int
    class_name: str
    position_h: np.ndarray
    uncertainty_m: float
    address: SurfaceAddress
    tracks: tuple[tuple[str, int], ...]
    sources: tuple[str, ...]
    observations: int
    first_t_s: float
    last_t_s: float
    best_confidence: float
    size_m: tuple[float, float] | None

    @property
    def track_ids(self) -> tuple[int, ...]:
        """The tracker ids that saw it (camera and sonar ids are separate counters)."""
        return tuple(tid for _, tid in self.tracks)


@dataclasses.dataclass
class _Track:
    observations: collections.deque  # of _Observation, newest MAX_OBSERVATIONS_PER_TRACK
    count: int = 0
    first_t_s: float = math.inf
    last_t_s: float = -math.inf


@dataclasses.dataclass(frozen=True)
class _Observation:
    source: str
    t_s: float
    class_name: str
    confidence: float
    position_h: np.ndarray
    uncertainty_m: float
    size_m: tuple[float, float] | None


def fuse_positions(positions_h: np.ndarray, confidences: np.ndarray, uncertainties_m: np.ndarray,
                   floor_m: float = DEFAULT_FLOOR_M) -> tuple[np.ndarray, float, np.ndarray]:
    """(fused position (3,) m, uncertainty (m, 1 sigma), kept mask (N,)) of N observations.

    Outliers: farther from the median than OUTLIER_SIGMAS robust sigmas along any axis of
    H (the limit never below the observations' median uncertainty, so a tight cluster, or
    one flat along the plating, does not reject its own members). Weights: confidence /
    uncertainty^2. Uncertainty: sqrt((weighted variance + mean uncertainty^2) / effective
    count + floor^2), with Kish's effective count (sum w)^2 / sum w^2.
    """
    p = np.asarray(positions_h, float).reshape(-1, 3)
    c = np.clip(np.asarray(confidences, float).reshape(-1), 1e-3, None)
    u = np.maximum(np.asarray(uncertainties_m, float).reshape(-1), MIN_OBSERVATION_UNCERTAINTY_M)
    keep = np.ones(len(p), bool)
    if len(p) >= 3:
        dev = np.abs(p - np.median(p, axis=0))  # per axis: distances from a 3-D median are too skewed for a MAD
        limit = np.maximum(OUTLIER_SIGMAS * MAD_TO_SIGMA * np.median(dev, axis=0), float(np.median(u)))
        keep = (dev <= limit).all(axis=1)
    p, c, u = p[keep], c[keep], u[keep]
    w = c / (u * u)
    mean = (w[:, None] * p).sum(axis=0) / w.sum()
    var = float((w * np.sum((p - mean) ** 2, axis=1)).sum() / w.sum())
    u_mean = float((w * u).sum() / w.sum())
    n_eff = float(w.sum() ** 2 / (w * w).sum())
    return mean, math.sqrt((var + u_mean * u_mean) / n_eff + floor_m * floor_m), keep


def classes_compatible(a: str, b: str, alarm_classes=ALARM_CLASSES) -> bool:
    """One object may be called both: the same class, or two alarm classes (a bag in a
    thruster tunnel is a container and a niche anomaly)."""
    return a == b or (a in alarm_classes and b in alarm_classes)


class FindingBook:
    """Observations in, findings out. Owned by one thread (the detector's); the Finding
    objects it hands out are immutable snapshots."""

    def __init__(self, hull_queries, draft_m: float, niche_areas=(), *, alarm_classes=ALARM_CLASSES,
                 floor_m: float = DEFAULT_FLOOR_M, merge_max_m: float = MERGE_MAX_M):
        self._queries = hull_queries
        self._draft_m = float(draft_m)
        self._niches = tuple(niche_areas)
        self._alarm_classes = frozenset(alarm_classes)
        self._floor_m = float(floor_m)
        self._merge_max_m = float(merge_max_m)
        self._tracks: dict[tuple[str, int], _Track] = {}
        self._group_of: dict[tuple[str, int], int] = {}
        self._members: dict[int, list[tuple[str, int]]] = {}
        self._findings: dict[int, Finding] = {}
        self._ids = itertools.count(1)

    @property
    def findings(self) -> list[Finding]:
        """Every finding so far, oldest first."""
        return [self._findings[g] for g in sorted(self._findings)]

    def finding_of(self, source: str, track_id: int) -> Finding | None:
        """The finding a track's observations went into, if any."""
        g = self._group_of.get((source, int(track_id)))
        return None if g is None else self._findings[g]

    def add(self, track_id: int, source: str, class_name: str, confidence: float, t_s: float,
            located: Located | None) -> Finding | None:
        """Feed one observation (a tracked detection placed on the hull at frame time t_s,
        s); returns the finding it is now part of. A detection that could not be placed
        (located None) is not an observation of a place: it is ignored (None)."""
        if located is None:
            return None
        key = (str(source), int(track_id))
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track(collections.deque(maxlen=MAX_OBSERVATIONS_PER_TRACK))
            g = next(self._ids)
            self._group_of[key] = g
            self._members[g] = [key]
        track.observations.append(_Observation(key[0], float(t_s), str(class_name), float(confidence),
                                               np.asarray(located.position_h, float), float(located.uncertainty_m),
                                               located.size_m))
        track.count += 1
        track.first_t_s = min(track.first_t_s, float(t_s))
        track.last_t_s = max(track.last_t_s, float(t_s))
        g = self._group_of[key]
        self._findings[g] = self._fuse(g)
        return self._findings[self._merge(g)]

    # ---- internals ----------------------------------------------------------------------
    def _fuse(self, g: int) -> Finding:
        keys = self._members[g]
        obs = [o for k in keys for o in self._tracks[k].observations]
        pos, unc, _ = fuse_positions(np.array([o.position_h for o in obs]), np.array([o.confidence for o in obs]),
                                     np.array([o.uncertainty_m for o in obs]), self._floor_m)
        best = max(obs, key=lambda o: o.confidence)
        # a camera's size is the object's outline; a sonar's is its echo's, smeared by the beams
        sized = [o for o in obs if o.size_m is not None]
        sizes = np.array([o.size_m for o in sized if o.source == "camera"] or [o.size_m for o in sized])
        size = (float(np.median(sizes[:, 0])), float(np.median(sizes[:, 1]))) if len(sizes) else None
        pos.setflags(write=False)
        tracks = [self._tracks[k] for k in keys]
        return Finding(g, best.class_name, pos, unc, self._queries.surface_address(pos, self._draft_m, self._niches),
                       tuple(keys), tuple(sorted({s for s, _ in keys})), sum(t.count for t in tracks),
                       min(t.first_t_s for t in tracks), max(t.last_t_s for t in tracks), best.confidence, size)

    def _merge(self, g: int) -> int:
        """Join g with every finding it now lies on; returns the surviving group id (the
        older one keeps its id, so a finding's id never changes under a reader)."""
        while True:
            f = self._findings[g]
            other = None
            for h, o in self._findings.items():
                if h == g or not classes_compatible(f.class_name, o.class_name, self._alarm_classes):
                    continue
                limit = min(self._merge_max_m, MERGE_SIGMAS * math.hypot(f.uncertainty_m, o.uncertainty_m))
                limit = max(limit, min(MERGE_EXTENT_MAX_M, 0.5 * (_long_side(f) + _long_side(o))))
                if float(np.linalg.norm(f.position_h - o.position_h)) <= limit:
                    other = h
                    break
            if other is None:
                return g
            keep, gone = min(g, other), max(g, other)
            for key in self._members.pop(gone):
                self._group_of[key] = keep
                self._members[keep].append(key)
            del self._findings[gone]
            self._findings[keep] = self._fuse(keep)
            g = keep


def _long_side(f: Finding) -> float:
    return max(f.size_m) if f.size_m is not None else 0.0
