"""What the hull-map panel does with the map, off the GUI thread: export it for a 3D
viewer and a report (PLY/OBJ/glb layers, the hull expansion PNG, gaps.json), plan the
gaps (gap regions -> a fill-in plan) and save that plan. No Qt: each function runs in a
task (app.qt_tasks.run_task with report_progress=True passes `task=`) and reports its
progress and honours its cancel between steps.

The map is read whole only on its own thread (HullMapWorker.submit); what comes back is
a copy, so the slow part (files, planning) runs here without holding the map up.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Mapping

import numpy as np

READ_TIMEOUT_S = 30.0  # the map thread turns every 0.25 s; a read waiting longer means it is stuck
EXPANSION_MAX_PX = 4000  # the expansion image's width for a long hull (a 355 m ship: ~11 px/m)
EXPANSION_PX_PER_M = 20.0
GAP_MIN_AREA_M2 = 0.5


class Cancelled(Exception):
    """The user cancelled the action; nothing more was written."""

    def __init__(self, what: str):
        super().__init__(f"{what} cancelled; files already written stay where they are")


class MapBusy(Exception):
    pass


@dataclasses.dataclass(frozen=True, eq=False)
class MapContents:
    """A copy of the map: surface samples, seen masks per sensor, findings, point map (N, 3)."""

    samples: object  # hull.surface_samples.SurfaceSamples
    seen: Mapping[str, np.ndarray]
    findings: tuple
    points_h: np.ndarray

    @property
    def seen_any(self) -> np.ndarray:
        out = np.zeros(len(self.samples), bool)
        for mask in self.seen.values():
            out |= mask
        return out

    def classes(self) -> np.ndarray:
        from vision.hullmap.export import coverage_classes

        n = len(self.samples)
        return coverage_classes(self.seen.get("camera", np.zeros(n, bool)), self.seen.get("sonar", np.zeros(n, bool)))


def _step(task, fraction: float, text: str, what: str) -> None:
    if task is None:
        return
    if task.cancelled.is_set():
        raise Cancelled(what)
    task.report(fraction, text)


def read_map(worker, timeout_s: float = READ_TIMEOUT_S) -> MapContents:
    """The map copied on its own thread (worker.submit); raises MapBusy after timeout_s."""
    import concurrent.futures

    def copy(w) -> MapContents:
        cov = w.coverage
        seen = {name: cov.seen_mask(name) for name in cov.sensors}
        return MapContents(cov.samples, seen, tuple(w.findings.findings), np.array(w.points.points(), float))

    try:
        return worker.submit(copy).result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        raise MapBusy(f"the hull map did not answer within {timeout_s:.0f} s; try again in a moment") from None


def _regions(contents: MapContents, model, draft_m: float, min_area_m2: float):
    from vision.hullmap.gaps import gap_regions

    return gap_regions(contents.samples, contents.seen_any, min_area_m2, queries=model.queries, draft_m=draft_m,
                       niche_areas=model.niche_areas)


def gaps_document(regions) -> dict:
    return {"frame": "hull frame H: x forward from the aft perpendicular, y to port, z up from the keel; metres",
            "uncovered_m2": round(float(sum(r.area_m2 for r in regions)), 2),
            "regions": [{"area_m2": round(float(r.area_m2), 2),
                         "centroid_h_m": [round(float(v), 3) for v in r.centroid_h],
                         "extent_min_h_m": [round(float(v), 3) for v in r.extent_min_h],
                         "extent_max_h_m": [round(float(v), 3) for v in r.extent_max_h],
                         "where": r.address.describe() if r.address is not None else None,
                         "niche": r.niche} for r in regions]}


@dataclasses.dataclass(frozen=True)
class ExportResult:
    folder: pathlib.Path
    files: tuple[pathlib.Path, ...]
    regions: int
    uncovered_m2: float

    def describe(self) -> str:
        names = ", ".join(p.name for p in self.files)
        return f"wrote {len(self.files)} files to {self.folder}: {names}"


def export_all(worker, model, draft_m: float, folder, *, layout=None, task=None) -> ExportResult:
    """The map into `folder`: export_map's layers (hull coloured by coverage, findings,
    point map) as PLY, OBJ and glb plus hullmap.glb and legend.json; expansion.png (the
    hull unrolled; `layout` from expansion_layout reuses the view's); gaps.json."""
    from vision.hullmap.expansion import COVERAGE_LEGEND_BGR, expansion_layout, hull_expansion_image
    from vision.hullmap.export import export_map

    what = "export"
    folder = pathlib.Path(folder)
    _step(task, 0.02, "reading the map", what)
    contents = read_map(worker)
    cls = contents.classes()
    wet = model.wetted(draft_m).mesh
    _step(task, 0.1, "writing the 3D layers (PLY, OBJ, glb)", what)
    written = export_map(folder, wet, (contents.samples.points_h, cls), contents.findings,
                         contents.points_h if len(contents.points_h) else None)
    files = [p for paths in written.values() for p in paths]
    _step(task, 0.6, "drawing the hull expansion", what)
    if layout is None:
        length_m = float(np.ptp(wet.vertices[:, 0])) or 1.0
        layout = expansion_layout(wet, draft_m, min(EXPANSION_PX_PER_M, EXPANSION_MAX_PX / length_m))
    bgr = np.array(list(COVERAGE_LEGEND_BGR.values()), np.uint8)
    png = folder / "expansion.png"
    hull_expansion_image(wet, draft_m, (contents.samples.points_h, bgr[cls]), contents.findings,
                         px_per_m=layout.px_per_m, path=png, layout=layout)
    files.append(png)
    _step(task, 0.85, "finding the gaps", what)
    regions = _regions(contents, model, draft_m, GAP_MIN_AREA_M2)
    doc = gaps_document(regions)
    gaps = folder / "gaps.json"
    gaps.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    files.append(gaps)
    _step(task, 1.0, "done", what)
    return ExportResult(folder, tuple(files), len(regions), doc["uncovered_m2"])


def planner_for(model, placement, plan=None):
    """A SweepPlanner over the hull with the plan's sensors and standoff (the defaults of
    `hullwatch plan` without a plan)."""
    from mission_plans.plan_model import CameraSensor, SensorSetup, SonarSensor
    from mission_plans.planner import SweepPlanner, SweepSettings

    from .cmd_plan import DEFAULT_CAMERA, DEFAULT_SONAR

    if plan is not None:
        sensors = plan.sensors
        settings = SweepSettings(standoff_m=plan.standoff_m, overlap=plan.overlap,
                                 cruise_speed_m_s=plan.cruise_speed_m_s)
    else:
        sensors = SensorSetup(camera=CameraSensor(**DEFAULT_CAMERA), sonar=SonarSensor(**DEFAULT_SONAR))
        settings = SweepSettings()
    return SweepPlanner(model.mesh, placement, sensors, settings, niche_areas=model.niche_areas,
                        queries=model.queries)


@dataclasses.dataclass(frozen=True, eq=False)
class GapPlan:
    regions: tuple  # vision.hullmap.gaps.GapRegion, largest first
    uncovered_m2: float
    result: object  # mission_plans.planner.PlanResult of the fill-in (None: no gaps)

    @property
    def stations(self) -> int:
        return 0 if self.result is None else sum(leg.kind == "fill_in" for leg in self.result.plan.legs)

    def describe(self) -> str:
        if self.result is None:
            return "no gaps: every part of the wetted hull has been seen"
        p = self.result.plan
        return (f"{len(self.regions)} regions, {self.uncovered_m2:.0f} m\u00b2 uncovered \u2192 fill-in plan of "
                f"{len(p.legs)} legs ({self.stations} stations), {p.length_m:.0f} m, {p.duration_s / 60:.1f} min")


def plan_gaps(worker, model, placement, *, plan=None, planner=None, start_h=None,
              min_area_m2: float = GAP_MIN_AREA_M2, task=None) -> GapPlan:
    """The gap regions of the map's coverage and a fill-in plan for them
    (app.coverage_gaps.fill_in_plan), from start_h (H, m; the vehicle) when given."""
    from .coverage_gaps import fill_in_plan

    what = "gap plan"
    _step(task, 0.02, "reading the map", what)
    contents = read_map(worker)
    _step(task, 0.1, "finding the gaps", what)
    regions = tuple(_regions(contents, model, placement.draft_m, min_area_m2))
    uncovered = float(sum(r.area_m2 for r in regions))
    if not regions:
        return GapPlan(regions, 0.0, None)
    _step(task, 0.3, f"{len(regions)} regions: planning the fill-in", what)
    planner = planner or planner_for(model, placement, plan)
    result = fill_in_plan(planner, regions, start_h=start_h)
    _step(task, 1.0, "done", what)
    return GapPlan(regions, uncovered, result)


def save_fill_in(plan, path, task=None) -> pathlib.Path:
    """The plan (mission_plans Plan) as .hullplan.json, or as a QGC .plan when the name
    ends in .plan (needs a placement with a WGS84 position)."""
    from mission_plans.plan_file import save_plan
    from mission_plans.qgc_plan import save_qgc_plan

    path = pathlib.Path(path)
    _step(task, 0.1, f"writing {path.name}", "save")
    if path.name.endswith(".hullplan.json"):
        return save_plan(plan, path)
    if path.suffix == ".plan":
        if not plan.placement.has_geo:
            raise ValueError("a QGC .plan needs the vessel's position (placement latitude/longitude); "
                             "set it in the plan, or save as .hullplan.json")
        return save_qgc_plan(path, plan)
    raise ValueError(f"{path.name}: save as name.hullplan.json or name.plan (QGroundControl)")
