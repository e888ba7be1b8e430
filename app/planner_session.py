"""What the mission planner panel does, without Qt: load or build the hull, plan the sweep,
turn the plan into mission items, export it, upload it. Every function here blocks (disk,
ray casting, the MAVLink link), so the panel runs them through app.qt_tasks.run_task; the
optional `task` argument is that Task (progress reports, cancel flag).

Everything returned is immutable (frozen dataclasses, tuples), so it can cross back to the
GUI thread as it is.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from .errors import UserError

EXPORT_KINDS = ("hullplan", "qgc", "wpl")
SENSORS = ("camera", "sonar", "both")
ARDUSUB_MAX_ITEMS = 700  # mirrors cmd_plan: what ArduSub's mission storage holds


class Cancelled(Exception):
    """The user cancelled; the result (if any) is thrown away."""


def _report(task, fraction: float, text: str) -> None:
    if task is not None:
        if task.cancelled.is_set():
            raise Cancelled(text)
        task.report(fraction, text)


# ---- hull --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class LoadedHull:
    """A hull ready to plan on: the model and what to tell the user about it."""

    model: object  # hull.model.HullModel
    lines: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def report_lines(report) -> tuple[str, ...]:
    """What `hullwatch hull` prints about a loaded mesh (hull.loader.LoadReport)."""
    r = report
    lines = [f"{Path(r.source_path).name}: {r.file_format}, sha256 {r.sha256[:16]}…",
             f"triangles: {r.original_triangles} read, {r.triangles} after repair"]
    lines += [f"repair: {x}" for x in r.repairs]
    lines += [f"note: {x}" for x in r.notes]
    lines += [f"WARNING: {x}" for x in r.warnings]
    lines += [f"size: length {r.length_m:.2f} m, beam {r.beam_m:.2f} m, depth {r.depth_m:.2f} m "
              f"(units {r.units}, scale {r.scale:g})",
              f"area {r.area_m2:.1f} m2, volume {r.volume_m3:.1f} m3" + ("" if r.watertight else " (approximate)"),
              "watertight: " + ("yes" if r.watertight else f"no, {r.open_edges} open edges") + f"; {r.shells} shell(s)"]
    return tuple(lines)


def load_mesh(path, units: str | None = None, scale: float = 1.0, *, task=None) -> LoadedHull:
    """Read, repair and measure a hull mesh file, with niche areas from its sidecar."""
    from hull.model import HullModel
    from hull.niche import sidecar_path

    path = Path(path)
    if not path.is_file():
        raise UserError(f"hull file {path} not found: choose an STL, OBJ or PLY file")
    _report(task, 0.05, f"reading and repairing {path.name}")
    try:
        model = HullModel.load(path, units=units or None, scale=scale)
    except (OSError, ValueError) as exc:  # HullLoadError, NicheFileError are ValueErrors
        raise UserError(f"cannot load {path.name}: {exc}") from None
    _report(task, 0.95, "measured")
    lines = list(report_lines(model.report))
    side = sidecar_path(path)
    lines.append(f"niche areas: {len(model.niche_areas)} from {side.name}" if model.niche_areas
                 else f"niche areas: none ({side.name} not found; add them in the editor)")
    return LoadedHull(model, tuple(lines), tuple(model.report.warnings))


def parametric_dims(length_m: float, beam_m: float, draft_m: float, depth_m: float | None = None,
                    block_coefficient: float | None = None):
    """HullDimensions with the CLI's defaults (depth 1.6 x draft, CB 0.7), validated."""
    from hull.parametric import HullDimensionError, HullDimensions

    depth = depth_m if depth_m else round(draft_m * 1.6, 2)
    dims = HullDimensions(length_m=float(length_m), beam_m=float(beam_m), draft_m=float(draft_m),
                          depth_m=float(depth), block_coefficient=float(block_coefficient or 0.7))
    try:
        dims.validate()
    except HullDimensionError as exc:
        raise UserError(f"parametric hull: {exc}") from None
    return dims


def build_parametric(dims, *, task=None) -> LoadedHull:
    from hull.model import HullModel

    _report(task, 0.1, "building the parametric hull")
    model = HullModel.parametric_hull(dims)
    lines = (f"parametric hull: L {dims.length_m:g} m, B {dims.beam_m:g} m, T {dims.draft_m:g} m, "
             f"D {dims.depth_m:g} m, CB {dims.block_coefficient:g}",
             f"size: length {model.length_m:.2f} m, beam {model.beam_m:.2f} m, depth {model.depth_m:.2f} m",
             f"niche areas: {len(model.niche_areas)} (the parametric hull's defaults)")
    return LoadedHull(model, lines)


def save_niches(path, areas) -> Path:
    """Write the niche areas as the mesh's sidecar (atomically)."""
    from hull.niche import save_niche_file, sidecar_path

    return save_niche_file(sidecar_path(path), areas)


# ---- plan --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class PlanRequest:
    """Everything the panel's form says about one plan."""

    model: object  # hull.model.HullModel
    niche_areas: tuple
    vessel_name: str
    imo: str | None
    draft_m: float
    berth_side: str = "port"
    quay_gap_m: float = 3.0
    water_depth_m: float | None = None  # None: draft + 5 m, as the CLI
    heading_deg: float = 0.0
    origin_lat_deg: float | None = None
    origin_lon_deg: float | None = None
    origin_ned_m: tuple[float, float] = (0.0, 0.0)
    standoff_m: float = 2.0
    overlap: float = 0.3
    sensor: str = "camera"
    niche_first: bool = True
    min_depth_m: float = 1.0
    keel_clearance_m: float = 1.0
    cruise_speed_m_s: float = 0.5
    pattern: str = "horizontal"

    def placement(self):
        from hull.placement import Placement, PlacementError

        if self.draft_m >= self.model.depth_m:
            raise UserError(f"draft {self.draft_m:g} m is deeper than the hull ({self.model.depth_m:.2f} m keel "
                            "to deck): lower the draft")
        water = self.water_depth_m if self.water_depth_m else self.draft_m + 5.0
        try:
            return Placement(origin_lat_deg=self.origin_lat_deg, origin_lon_deg=self.origin_lon_deg,
                             heading_deg=self.heading_deg % 360.0, draft_m=self.draft_m, berth_side=self.berth_side,
                             quay_gap_m=self.quay_gap_m, water_depth_m=water, origin_ned_m=self.origin_ned_m)
        except PlacementError as exc:
            raise UserError(f"vessel placement: {exc}") from None


def parse_origin(text: str) -> tuple[float | None, float | None]:
    """'LAT,LON' in decimal degrees, or empty for unknown."""
    if not text.strip():
        return None, None
    try:
        lat, lon = (float(x) for x in text.replace(";", ",").split(","))
    except ValueError:
        raise UserError(f"ship position {text!r}: expected LAT,LON in decimal degrees (e.g. 53.54,9.97)") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise UserError(f"ship position {text!r}: not a number")
    return lat, lon


def _sensors(kind: str):
    from mission_plans.plan_model import CameraSensor, SensorSetup, SonarSensor

    from .cmd_plan import DEFAULT_CAMERA, DEFAULT_SONAR

    if kind not in SENSORS:
        raise UserError(f"sensor {kind!r}: choose camera, sonar or both")
    return SensorSetup(camera=CameraSensor(**DEFAULT_CAMERA) if kind in ("camera", "both") else None,
                       sonar=SonarSensor(**DEFAULT_SONAR) if kind in ("sonar", "both") else None)


def make_plan(req: PlanRequest, *, task=None):
    """Run the SweepPlanner; returns (PlanResult, warnings). The planner cannot be stopped
    mid-way: a cancel is noticed before and after it and the result is thrown away."""
    from mission_plans.plan_model import HullRef, VesselInfo
    from mission_plans.planner import SweepPlanner, SweepSettings

    placement = req.placement()
    try:
        settings = SweepSettings(standoff_m=req.standoff_m, overlap=req.overlap, min_depth_m=req.min_depth_m,
                                 keel_clearance_m=req.keel_clearance_m, cruise_speed_m_s=req.cruise_speed_m_s,
                                 pattern=req.pattern)
        vessel = VesselInfo(req.vessel_name.strip() or "unnamed vessel", (req.imo or "").strip() or None)
    except ValueError as exc:
        raise UserError(f"sweep settings: {exc}") from None
    m = req.model
    hull_ref = HullRef(path=m.source_path, sha256=m.sha256) if m.sha256 else HullRef(parametric=m.parametric)
    warnings = []
    room = settings.standoff_m + settings.vehicle_width_m / 2 + settings.quay_margin_m
    if req.quay_gap_m < room:
        warnings.append(f"the quay gap {req.quay_gap_m:g} m is narrower than the standoff plus half the vehicle "
                        f"and a margin ({room:.1f} m): the {req.berth_side} side cannot be swept")
    _report(task, 0.05, "planning the sweep (ray casting the coverage)")
    niches = tuple(req.niche_areas) if req.niche_first else ()
    planner = SweepPlanner(m.mesh, placement, _sensors(req.sensor), settings, niche_areas=niches, vessel=vessel,
                           hull_ref=hull_ref, queries=m.queries)
    result = planner.plan()
    _report(task, 0.95, "coverage predicted")
    if not req.niche_first and req.niche_areas:
        result = _with_niche_coverage(result, req.niche_areas)
    for mask in (result.seen, result.reachable):  # the result crosses to the GUI thread and the views
        mask.setflags(write=False)
    return result, tuple(warnings) + tuple(result.warnings)


def _with_niche_coverage(result, areas):
    """Per-niche coverage for a plan made without niche passes (lanes only)."""
    from hull.surface_samples import in_niche

    a, seen = result.samples.area_m2, result.seen
    per = []
    for area in areas:
        inside = in_niche(result.samples, area)
        total = a[inside].sum()
        per.append((area.name, 100.0 * float(a[inside & seen].sum() / total) if total else 0.0))
    pred = dataclasses.replace(result.plan.prediction, per_niche_pct=tuple(per))
    return dataclasses.replace(result, plan=dataclasses.replace(result.plan, prediction=pred))


@dataclasses.dataclass(frozen=True)
class LegRow:
    order: int
    kind: str
    where: str  # the niche area, or the side of the hull
    length_m: float
    duration_s: float


def leg_rows(plan) -> tuple[LegRow, ...]:
    """One row per leg: length along its waypoints, time at cruise speed plus holds."""
    rows = []
    for i, leg in enumerate(plan.legs, 1):
        pts = [w.position_h for w in leg.waypoints]
        length = sum(math.dist(a, b) for a, b in zip(pts, pts[1:]))
        speed = plan.cruise_speed_m_s
        duration = sum(math.dist(a, b) / (w.speed_m_s or speed)
                       for a, b, w in zip(pts, pts[1:], leg.waypoints[1:])) + sum(w.hold_s for w in leg.waypoints)
        rows.append(LegRow(i, leg.kind, leg.niche or _side(leg), length, duration))
    return tuple(rows)


def _side(leg) -> str:
    if leg.kind == "lane_bottom":
        return "bottom"
    if leg.kind == "transit":
        return "transit"
    y = sum(w.y_m for w in leg.waypoints) / len(leg.waypoints)
    return "port" if y > 0.5 else "starboard" if y < -0.5 else "centreline"


# ---- mission items, export, upload ---------------------------------------------------------
def plan_with_origin(plan, ekf_origin=None):
    """The plan with the ship's WGS84 position: its own, or from the vehicle's EKF origin
    (H0 lies at placement.origin_ned_m from it)."""
    p = plan.placement
    if p.has_geo:
        return plan
    if ekf_origin is None:
        raise UserError("the ship's position is unknown: enter the aft end on the keel as LAT,LON, "
                        "or connect a vehicle whose EKF origin is set")
    at_ekf = dataclasses.replace(p, origin_lat_deg=ekf_origin.lat_deg, origin_lon_deg=ekf_origin.lon_deg,
                                 origin_ned_m=(0.0, 0.0))
    lat, lon, _ = at_ekf.ned_to_wgs84([p.origin_ned_m[0], p.origin_ned_m[1], 0.0])
    placed = dataclasses.replace(p, origin_lat_deg=float(lat), origin_lon_deg=float(lon))
    return dataclasses.replace(plan, placement=placed)


def mission_parts(plan, ekf_origin=None) -> list[list]:
    """Mission items as `hullwatch plan --export` makes them, split to what ArduSub holds."""
    from mission_plans.mission_items import MissionItemsError, plan_to_mission_items, validate_for_ardusub
    from mission_plans.mission_split import split_mission

    plan = plan_with_origin(plan, ekf_origin)
    try:
        items = plan_to_mission_items(plan, frame="global")
    except MissionItemsError as exc:
        raise UserError(f"cannot make mission items: {exc}") from None
    parts = split_mission(items, ARDUSUB_MAX_ITEMS)
    for part in parts:
        problems = validate_for_ardusub(part, max_items=ARDUSUB_MAX_ITEMS)
        if problems:
            raise UserError("ArduSub would refuse this mission: " + "; ".join(problems[:3]))
    return parts


def export_plan(plan, kind: str, path, ekf_origin=None, *, task=None) -> tuple[Path, ...]:
    """Write the plan (atomically, as the CLI): .hullplan.json, QGC .plan or WPL 110; a
    mission too long for ArduSub is split into -partN files. Returns the files written."""
    from mission_plans.plan_file import save_plan
    from mission_plans.qgc_plan import save_qgc_plan
    from mission_plans.wpl import save_wpl

    path = Path(path)
    if kind not in EXPORT_KINDS:
        raise UserError(f"export {kind!r}: choose one of {', '.join(EXPORT_KINDS)}")
    if not path.parent.is_dir():
        raise UserError(f"cannot write {path}: folder {path.parent} does not exist")
    _report(task, 0.1, f"writing {path.name}")
    try:
        if kind == "hullplan":
            return (save_plan(plan, path),)
        parts = mission_parts(plan, ekf_origin)
        width = len(str(len(parts)))
        out = []
        for n, part in enumerate(parts, 1):
            target = path if len(parts) == 1 else path.with_name(f"{path.stem}-part{n:0{width}d}{path.suffix}")
            if kind == "qgc":
                out.append(save_qgc_plan(target, part, plan_with_origin(plan, ekf_origin).placement,
                                         cruise_speed_m_s=plan.cruise_speed_m_s))
            else:
                out.append(save_wpl(target, part))
            _report(task, n / len(parts), f"wrote {target.name}")
        return tuple(out)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


@dataclasses.dataclass(frozen=True)
class UploadResult:
    items: int  # confirmed by the vehicle's MISSION_ACK
    retransmissions: int


def upload_plan(vehicle, plan, *, task=None) -> UploadResult:
    """Replace the vehicle's mission with the plan's items (run on the vehicle's executor)."""
    from vehicle.events import TransferProgress
    from vehicle.mission import MissionItem

    parts = mission_parts(plan, vehicle.state.ekf_origin)
    if len(parts) > 1:
        raise UserError(f"the sweep needs {sum(len(p) for p in parts)} mission items, more than ArduSub holds "
                        f"({ARDUSUB_MAX_ITEMS}): export it (it is split into parts) or plan a smaller area")
    items = [MissionItem(it.seq, it.command, it.frame, it.x, it.y, it.z, it.param1, it.param2, it.param3,
                         it.param4, it.current, it.autocontinue) for it in parts[0]]

    def progress(event):
        if isinstance(event, TransferProgress) and event.operation == "mission upload" and event.total:
            task.report(event.done / event.total, f"uploaded {event.done} of {event.total} items")

    _report(task, 0.0, f"uploading {len(items)} items")
    unsubscribe = vehicle.events.subscribe(progress) if task is not None else (lambda: None)
    try:
        vehicle.mission.upload(items)
    finally:
        unsubscribe()
    return UploadResult(len(items), vehicle.mission.retransmissions)
