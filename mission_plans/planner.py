"""SweepPlanner: a hull sweep plan with niche areas first and coverage predicted by ray
casting from every planned pose onto the wetted surface."""
from __future__ import annotations

import dataclasses
import datetime
import functools
import math
from typing import Mapping, Sequence

import numpy as np

from hull.mesh import TriangleMesh
from hull.placement import Placement
from hull.queries import HullQueries
from hull.surface_samples import in_niche, sample_surface
from hull.wetted import wetted_surface

from .coverage import SensorModel, SensorPoses, predict_seen
from .patterns import (PoseTrack, _runs, _runs_by_hops, bottom_lanes, contour_lane, settle_at_standoff,
                       vertical_lanes)
from .plan_model import (CoveragePrediction, HullRef, Leg, Plan, SensorSetup, UncoveredPatch,
                         VesselInfo, Waypoint)
from .safety import SafetyLimits
from .transit import TransitRouter

SOFTWARE = "HullWatch 0.1.0"
PATCH_LINK_M = 1.0  # unseen samples closer than this form one patch
MIN_PATCH_M2 = 0.5  # smaller gaps are noise of the sampling, not worth a dive
SIMPLIFY_TURN_DEG = 8.0  # a waypoint is kept where the lane turns more than this
MAX_WAYPOINT_SPACING_M = 15.0
HOP_CHECK_M = 0.25
HOP_CLEARANCE = 0.5  # a straight hop may come no closer to the hull than half the standoff
STATION_KINDS = frozenset({"niche_pass", "fill_in"})  # poses held in place, not flown as lanes


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    standoff_m: float = 2.0
    overlap: float = 0.3
    min_depth_m: float = 1.0
    keel_clearance_m: float = 1.0
    vehicle_width_m: float = 0.6
    quay_margin_m: float = 0.5
    pose_step_m: float = 1.0
    cruise_speed_m_s: float = 0.5
    niche_hold_s: float = 5.0
    average_power_w: float = 250.0
    sample_area_m2: float = 0.25
    risk_order: Mapping[str, int] | None = None
    pattern: str = "horizontal"  # side lanes at constant depth (depth-hold friendly) or "vertical"

    def __post_init__(self):
        for name in ("standoff_m", "min_depth_m", "vehicle_width_m", "pose_step_m", "cruise_speed_m_s",
                     "sample_area_m2"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be a positive number, got {value!r}")
        if not 0.0 <= self.overlap < 0.9:
            raise ValueError(f"overlap: must be in 0..0.9, got {self.overlap!r}")
        if self.pattern not in ("horizontal", "vertical"):
            raise ValueError(f"pattern: 'horizontal' or 'vertical', got {self.pattern!r}")


@dataclasses.dataclass(frozen=True, eq=False)
class PlanResult:
    plan: Plan
    tracks: tuple[PoseTrack, ...]
    seen: np.ndarray  # per surface sample
    reachable: np.ndarray  # per surface sample
    samples: object
    warnings: tuple[str, ...]

    @property
    def reachable_coverage_pct(self) -> float:
        a = self.samples.area_m2
        total = a[self.reachable].sum()
        return 100.0 * float(a[self.seen & self.reachable].sum() / total) if total else 0.0


def sensor_models(sensors: SensorSetup) -> list[SensorModel]:
    out = []
    if sensors.camera is not None:
        c = sensors.camera
        out.append(SensorModel.camera(c.hfov_deg, c.vfov_deg, c.useful_range_m))
    if sensors.sonar is not None:
        s = sensors.sonar
        out.append(SensorModel("sonar", s.swath_deg, s.vertical_aperture_deg, s.min_range_m, s.max_range_m,
                               90.0 - min(89.0, max(1.0, 90.0 - s.max_grazing_deg))))
    return out


class SweepPlanner:
    def __init__(self, mesh: TriangleMesh, placement: Placement, sensors: SensorSetup,
                 settings: SweepSettings | None = None, niche_areas: Sequence = (),
                 vessel: VesselInfo | None = None, hull_ref: HullRef | None = None,
                 queries: HullQueries | None = None):
        self.mesh = mesh
        self.placement = placement
        self.sensors = sensors
        self.settings = settings or SweepSettings()
        self.niche_areas = tuple(niche_areas)
        self.vessel = vessel or VesselInfo("unnamed vessel")
        self.hull_ref = hull_ref or HullRef(parametric={"unknown": True})
        self.queries = queries or HullQueries(mesh)
        self._lanes: list[PoseTrack] | None = None
        lo, hi = mesh.bounds()
        self.x_range = (float(lo[0]), float(hi[0]))
        self.half_beam_m = float(max(hi[1], -lo[1]))
        s = self.settings
        if s.standoff_m >= placement.water_depth_m - placement.draft_m - s.keel_clearance_m and \
                placement.water_depth_m - placement.draft_m < s.standoff_m:
            pass  # under-keel lanes are simply dropped; the prediction says "seabed"
        quay_y = None
        if placement.quay_gap_m is not None:
            side = 1.0 if placement.berth_side == "port" else -1.0
            quay_y = side * (self.half_beam_m + placement.quay_gap_m)
        self.limits = SafetyLimits(placement.draft_m, placement.seabed_z_h, s.min_depth_m, s.keel_clearance_m,
                                   quay_y, s.vehicle_width_m / 2, s.quay_margin_m)

    # -- poses ----------------------------------------------------------------
    def _primary(self) -> SensorModel:
        return sensor_models(self.sensors)[0]

    def lane_tracks(self) -> list[PoseTrack]:
        """The safe lanes (computed once: fill-in plans route their transits through them)."""
        if self._lanes is None:
            self._lanes = self._make_lanes()
        return list(self._lanes)

    @functools.cached_property
    def _samples(self):
        """The wetted surface as area-weighted samples: the unit coverage is counted in."""
        wetted = wetted_surface(self.mesh, self.placement.draft_m, self.placement.trim_deg)
        return sample_surface(wetted.mesh, self.settings.sample_area_m2)

    def _make_lanes(self) -> list[PoseTrack]:
        s, p = self.settings, self.placement
        width, height = self._primary().footprint_m(s.standoff_m)
        spacing_v = max(0.2, height * (1.0 - s.overlap))
        tracks = []
        if s.pattern == "vertical":
            tracks += vertical_lanes(self.queries, s.standoff_m, s.pose_step_m, max(0.2, width * (1.0 - s.overlap)),
                                     self.x_range, self.half_beam_m, p.draft_m - s.min_depth_m, 0.0)
        else:
            depths = list(np.arange(s.min_depth_m, p.draft_m, spacing_v))
            for k, depth in enumerate(depths):
                tracks += contour_lane(self.queries, p.draft_m - depth, s.standoff_m, s.pose_step_m, self.x_range,
                                       self.half_beam_m, f"lane {k + 1} at {depth:.1f} m")
        tracks += bottom_lanes(self.queries, s.standoff_m, s.pose_step_m, max(0.2, width * (1.0 - s.overlap)),
                               self.x_range, self.half_beam_m, p.seabed_z_h, s.keel_clearance_m)
        return self._safe(tracks)

    def niche_tracks(self) -> list[PoseTrack]:
        s = self.settings
        if not self.niche_areas:
            return []
        order = dict(self.settings.risk_order or {})
        if not order:
            from hull.niche import DEFAULT_RISK_ORDER

            order = {str(getattr(k, "value", k)): v for k, v in DEFAULT_RISK_ORDER.items()}
        areas = sorted(self.niche_areas, key=lambda a: (order.get(str(getattr(a.kind, "value", a.kind)), 99), a.name))
        tracks = []
        for area in areas:
            center = np.asarray(area.center_h, dtype=float)
            normal = np.asarray(area.normal_h, dtype=float)
            normal = normal / np.linalg.norm(normal)
            up_hint = np.array([0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
            u = np.cross(up_hint, normal)
            u /= np.linalg.norm(u)
            v = np.cross(normal, u)
            w, h = (float(x) for x in area.size_m)
            offsets = [(0, 0), (-w / 3, 0), (w / 3, 0), (0, -h / 3), (0, h / 3)]
            pts = np.array([center + a * u + b * v + normal * s.standoff_m for a, b in offsets])
            pts = settle_at_standoff(self.queries, pts, np.tile(normal, (len(pts), 1)), s.standoff_m)
            fwd = np.tile(-normal, (len(pts), 1))
            up = np.tile(v, (len(pts), 1))
            kind = str(getattr(area.kind, "value", area.kind))
            tracks.append(PoseTrack("niche_pass", f"{area.name} ({kind})", pts, fwd, up, niche=area.name))
        return self._safe(tracks)

    def _safe(self, tracks: list[PoseTrack]) -> list[PoseTrack]:
        """Lanes are cut where a pose breaks a rule or the hop to the next pose would pass
        too close to the hull (across a rudder gap, round a cusp); station tracks (niche
        passes, fill-in) keep only their allowed poses."""
        out = []
        for t in tracks:
            ok = self.limits.allowed(t.positions_h)
            ok &= np.abs(self.queries.signed_distance(t.positions_h) - self.settings.standoff_m) <= 0.2
            if t.kind in STATION_KINDS:
                if ok.any():
                    out.append(dataclasses.replace(t, positions_h=t.positions_h[ok], forward_h=t.forward_h[ok],
                                                   up_h=t.up_h[ok]))
                continue
            for run in _runs(t, ok):
                out += _runs_by_hops(run, self._hops_safe(run.positions_h))
        return out

    def _hops_safe(self, pts: np.ndarray) -> np.ndarray:
        """Per consecutive pair: is the straight hop clear (checked every 0.25 m)?"""
        if len(pts) < 2:
            return np.zeros(0, dtype=bool)
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        n = np.maximum(2, np.ceil(seg / HOP_CHECK_M).astype(int) + 1)
        idx = np.repeat(np.arange(len(seg)), n)
        frac = np.concatenate([np.linspace(0.0, 1.0, k) for k in n])
        samples = pts[idx] + frac[:, None] * (pts[idx + 1] - pts[idx])
        clear = self.queries.signed_distance(samples) >= HOP_CLEARANCE * self.settings.standoff_m
        return np.logical_and.reduceat(clear, np.concatenate([[0], np.cumsum(n)[:-1]]))

    # -- plan -----------------------------------------------------------------
    def plan(self) -> PlanResult:
        warnings: list[str] = []
        niche = self.niche_tracks()
        lanes = self.lane_tracks()
        if self.niche_areas and len({t.niche for t in niche}) < len(self.niche_areas):
            missed = sorted({a.name for a in self.niche_areas} - {t.niche for t in niche})
            warnings.append("no safe pass for niche area(s): " + ", ".join(missed))
        tracks = niche + self._order_lanes(lanes, start=niche[-1].positions_h[-1] if niche else None)
        tracks = self._with_transits(tracks, warnings, extra_nodes=lanes)
        return self._result(tracks, warnings)

    def _with_transits(self, tracks: list[PoseTrack], warnings: list[str], extra_nodes=()) -> list[PoseTrack]:
        """Insert a transit leg wherever the straight hop between two legs is unsafe."""
        if len(tracks) < 2:
            return tracks
        nodes = np.concatenate([t.positions_h for t in list(tracks) + list(extra_nodes)])
        router = TransitRouter(self.queries, self.limits, self.settings.standoff_m, nodes)
        out = [tracks[0]]
        for nxt in tracks[1:]:
            a, b = out[-1].positions_h[-1], nxt.positions_h[0]
            via = router.route(a, b)
            if via is None:
                warnings.append(f"no safe transit found from {out[-1].name} to {nxt.name}; check it before flying")
            elif len(via):
                fwd = np.tile(out[-1].forward_h[-1], (len(via), 1))
                up = np.tile(out[-1].up_h[-1], (len(via), 1))
                out.append(PoseTrack("transit", f"transit to {nxt.name}", via, fwd, up))
            out.append(nxt)
        return out

    def _result(self, tracks: list[PoseTrack], warnings: list[str]) -> PlanResult:
        s, p = self.settings, self.placement
        samples = self._samples
        looking = [t for t in tracks if t.kind != "transit"]  # nobody aims the camera in transit
        poses = SensorPoses(np.concatenate([t.positions_h for t in looking]),
                            np.concatenate([t.forward_h for t in looking]),
                            np.concatenate([t.up_h for t in looking])) if looking else None
        seen = np.zeros(len(samples), dtype=bool)
        if poses is not None:
            for model in sensor_models(self.sensors):
                seen |= predict_seen(samples, poses, model, self.queries)
        reasons = self._unreachable_reasons(samples)
        reachable = reasons == ""
        prediction = self._prediction(samples, seen, reasons)
        legs = tuple(self._leg(t) for t in tracks)
        length = sum(t.length_m() for t in tracks) + sum(
            float(np.linalg.norm(b.positions_h[0] - a.positions_h[-1])) for a, b in zip(tracks, tracks[1:]))
        holds = sum(wp.hold_s for leg in legs for wp in leg.waypoints)
        duration = length / s.cruise_speed_m_s + holds
        plan = Plan(vessel=self.vessel, hull=self.hull_ref, draft_m=p.draft_m, placement=p, sensors=self.sensors,
                    standoff_m=s.standoff_m, overlap=s.overlap, legs=legs, prediction=prediction,
                    length_m=length, duration_s=duration, cruise_speed_m_s=s.cruise_speed_m_s,
                    created_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    software=SOFTWARE)
        return PlanResult(plan, tuple(tracks), seen, reachable, samples, tuple(warnings))

    # -- gap re-plan -----------------------------------------------------------
    def fill_in(self, patches: Sequence[UncoveredPatch], start_h=None) -> PlanResult:
        """A plan that visits the given uncovered patches (predicted now, observed later by
        the map): a station facing each reachable patch at the standoff, nearest first.
        Patches whose reason is a hard limit (quay gap, too shallow, seabed) are skipped
        and reported, since no pose can reach them."""
        s = self.settings
        warnings = []
        targets = []
        for patch in patches:
            if patch.reason in ("quay gap", "too shallow", "seabed"):
                warnings.append(f"patch of {patch.area_m2:.1f} m2 at x={patch.center_h[0]:.1f} m skipped: "
                                f"{patch.reason}")
                continue
            targets.append(patch)
        tracks = []
        if targets:
            centers = np.array([t.center_h for t in targets])
            cp = self.queries.closest_points(centers)
            normals = cp.normals_h
            side = np.cross(np.tile([0.0, 0.0, 1.0], (len(targets), 1)), normals)
            flat = np.linalg.norm(side, axis=1) < 1e-6
            side[flat] = [1.0, 0.0, 0.0]
            up = np.cross(normals, side)
            pts = settle_at_standoff(self.queries, cp.points_h + normals * s.standoff_m, normals, s.standoff_m)
            for i, patch in enumerate(targets):
                tracks.append(PoseTrack("fill_in", f"fill-in {i + 1}: {patch.area_m2:.1f} m2 at x={patch.center_h[0]:.0f} m",
                                        pts[i:i + 1], -normals[i:i + 1], up[i:i + 1]))
            kept = self._safe(tracks)
            if len(kept) < len(tracks):
                warnings.append(f"{len(tracks) - len(kept)} patch(es) have no safe pose at the standoff")
            tracks = self._order_lanes(kept, start=start_h) if kept else []
            tracks = self._with_transits(tracks, warnings, extra_nodes=self.lane_tracks())
        return self._result(tracks, warnings)

    def _order_lanes(self, lanes: list[PoseTrack], start) -> list[PoseTrack]:
        """Greedy: next the lane whose nearer end is closest, flown from that end, so the
        vehicle transits little. The first lane is the one nearest the start (the quay
        side when there is no niche pass before it)."""
        if not lanes:
            return []
        if start is None:
            quay = self.limits.quay_y_h or 0.0
            start = np.array([self.x_range[0], quay, self.placement.draft_m])
        left = list(lanes)
        out = []
        here = np.asarray(start, dtype=float)
        while left:
            best, best_d, flip = 0, np.inf, False
            for i, t in enumerate(left):
                d0 = np.linalg.norm(t.positions_h[0] - here)
                d1 = np.linalg.norm(t.positions_h[-1] - here)
                if min(d0, d1) < best_d:
                    best, best_d, flip = i, min(d0, d1), d1 < d0
            t = left.pop(best)
            if flip:
                t = dataclasses.replace(t, positions_h=t.positions_h[::-1], forward_h=t.forward_h[::-1],
                                        up_h=t.up_h[::-1])
            out.append(t)
            here = t.positions_h[-1]
        return out

    def _leg(self, t: PoseTrack) -> Leg:
        if t.kind in STATION_KINDS:
            keep = list(range(len(t)))
        else:
            keep = _simplify(t.positions_h)
            # where a simplified hop would cut a corner too close, keep the dense poses
            safe = self._hops_safe(t.positions_h[keep])
            dense = []
            for k, (i, j) in enumerate(zip(keep, keep[1:])):
                dense += [i] if safe[k] else list(range(i, j))
            keep = dense + [keep[-1]]
        yaw = np.degrees(np.arctan2(t.forward_h[:, 1], t.forward_h[:, 0])) % 360.0
        hold = self.settings.niche_hold_s if t.kind in STATION_KINDS else 0.0
        wps = tuple(Waypoint(float(t.positions_h[i, 0]), float(t.positions_h[i, 1]), float(t.positions_h[i, 2]),
                             float(yaw[i]), hold) for i in keep)
        return Leg(t.kind, t.name, t.niche, wps)

    def _unreachable_reasons(self, samples) -> np.ndarray:
        """Why a surface sample cannot be seen from the standoff: the pose that would face
        it breaks a safety rule."""
        stand = samples.points_h + samples.normals_h * self.settings.standoff_m
        return self.limits.reasons(stand)

    def _prediction(self, samples, seen: np.ndarray, reasons: np.ndarray) -> CoveragePrediction:
        a = samples.area_m2
        overall = 100.0 * float(a[seen].sum() / a.sum()) if len(a) else 0.0
        per_niche = []
        for area in self.niche_areas:
            inside = in_niche(samples, area)
            total = a[inside].sum()
            per_niche.append((area.name, 100.0 * float(a[inside & seen].sum() / total) if total else 0.0))
        return CoveragePrediction(overall, tuple(per_niche), tuple(self._patches(samples, seen, reasons)))

    @staticmethod
    def _patches(samples, seen, reasons) -> list[UncoveredPatch]:
        from scipy.sparse.csgraph import connected_components
        from scipy.spatial import cKDTree

        idx = np.nonzero(~seen)[0]
        if not len(idx):
            return []
        pts = samples.points_h[idx]
        pairs = cKDTree(pts).query_pairs(PATCH_LINK_M, output_type="ndarray")
        from scipy.sparse import coo_matrix

        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(idx), len(idx)))
        n, labels = connected_components(graph, directed=False)
        out = []
        for k in range(n):
            members = idx[labels == k]
            area = float(samples.area_m2[members].sum())
            if area < MIN_PATCH_M2:
                continue
            why = reasons[members]
            named = why[why != ""]
            reason = max(set(named), key=list(named).count) if len(named) > len(members) / 2 else "occluded"
            center = samples.points_h[members].mean(axis=0)
            out.append(UncoveredPatch(tuple(float(c) for c in center), area, reason))
        out.sort(key=lambda p: -p.area_m2)
        return out


def _simplify(points: np.ndarray) -> list[int]:
    """Indices of the waypoints worth sending: ends, turns, and at most every 15 m."""
    if len(points) <= 2:
        return list(range(len(points)))
    keep = [0]
    last_dir = None
    travelled = 0.0
    for i in range(1, len(points) - 1):
        step = points[i] - points[i - 1]
        travelled += float(np.linalg.norm(step))
        d = points[i + 1] - points[i]
        d = d / (np.linalg.norm(d) or 1.0)
        if last_dir is None:
            last_dir = d
        turn = math.degrees(math.acos(float(np.clip(np.dot(d, last_dir), -1.0, 1.0))))
        if turn > SIMPLIFY_TURN_DEG or travelled >= MAX_WAYPOINT_SPACING_M:
            keep.append(i)
            last_dir = d
            travelled = 0.0
    keep.append(len(points) - 1)
    return keep
