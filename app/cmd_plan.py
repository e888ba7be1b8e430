"""`hullwatch plan`: a hull sweep plan with its predicted coverage, saved or exported."""
from __future__ import annotations

import math
import sys
from pathlib import Path

from .errors import UserError

DEFAULT_CAMERA = dict(hfov_deg=80.0, vfov_deg=60.0, width_px=1920, height_px=1080, useful_range_m=4.0)
DEFAULT_SONAR = dict(swath_deg=130.0, vertical_aperture_deg=20.0, min_range_m=0.5, max_range_m=10.0,
                     max_grazing_deg=80.0)
ARDUSUB_MAX_ITEMS = 700


def parse_parametric(text: str):
    from hull.parametric import HullDimensions

    parts = [p.strip() for p in text.split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise UserError(f"--parametric {text!r}: expected numbers L,B,T[,D,CB] in metres (CB 0.35..0.9)") from None
    if not 3 <= len(numbers) <= 5:
        raise UserError(f"--parametric {text!r}: expected 3 to 5 numbers L,B,T[,D,CB]")
    length, beam, draft = numbers[:3]
    depth = numbers[3] if len(numbers) > 3 else round(draft * 1.6, 2)
    cb = numbers[4] if len(numbers) > 4 else 0.7
    return HullDimensions(length_m=length, beam_m=beam, draft_m=draft, depth_m=depth, block_coefficient=cb)


def _origin(text: str | None) -> tuple[float | None, float | None]:
    if text is None:
        return None, None
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise UserError(f"--origin {text!r}: expected LAT,LON in decimal degrees") from None
    return lat, lon


def build_plan(args):
    from hull.model import HullModel
    from hull.placement import Placement
    from mission_plans.plan_model import CameraSensor, HullRef, SensorSetup, SonarSensor, VesselInfo
    from mission_plans.planner import SweepPlanner, SweepSettings

    if args.hull:
        model = HullModel.load(args.hull, units=args.units, scale=args.scale)
        hull_ref = HullRef(path=str(Path(args.hull)), sha256=model.sha256)
    else:
        dims = parse_parametric(args.parametric)
        model = HullModel.parametric_hull(dims)
        hull_ref = HullRef(parametric=model.parametric)
    depth = model.depth_m
    if args.draft >= depth:
        raise UserError(f"--draft {args.draft:g} m is deeper than the hull ({depth:.2f} m keel to deck)")
    water_depth = args.water_depth if args.water_depth is not None else args.draft + 5.0
    lat, lon = _origin(args.origin)
    placement = Placement(origin_lat_deg=lat, origin_lon_deg=lon, heading_deg=args.heading % 360.0,
                          draft_m=args.draft, berth_side=args.berth, quay_gap_m=args.quay_gap,
                          water_depth_m=water_depth)
    camera = CameraSensor(**DEFAULT_CAMERA) if args.sensor in ("camera", "both") else None
    sonar = SonarSensor(**DEFAULT_SONAR) if args.sensor in ("sonar", "both") else None
    settings = SweepSettings(standoff_m=args.standoff, overlap=args.overlap, min_depth_m=args.min_depth,
                             cruise_speed_m_s=args.speed, pattern=getattr(args, "pattern", "horizontal"))
    room = settings.standoff_m + settings.vehicle_width_m / 2 + settings.quay_margin_m
    warnings = []
    if args.quay_gap < room:
        warnings.append(f"--quay-gap {args.quay_gap:g} m is narrower than --standoff {args.standoff:g} m plus half "
                        f"the vehicle and a {settings.quay_margin_m:g} m margin ({room:.1f} m): the {args.berth} "
                        f"side facing the quay cannot be swept and is reported as uncovered")
    planner = SweepPlanner(model.mesh, placement, SensorSetup(camera=camera, sonar=sonar), settings,
                           niche_areas=model.niche_areas, vessel=VesselInfo(args.vessel), hull_ref=hull_ref,
                           queries=model.queries)
    result = planner.plan()
    return result, warnings + list(result.warnings)


def summary_text(result) -> str:
    plan = result.plan
    pred = plan.prediction
    kinds: dict[str, list] = {}
    for leg in plan.legs:
        kinds.setdefault(leg.kind, []).append(leg)
    n_wp = sum(len(leg.waypoints) for leg in plan.legs)
    hours, rest = divmod(plan.duration_s, 3600)
    energy_wh = plan.duration_s / 3600 * 250.0
    lines = [f"plan for {plan.vessel.name}: draft {plan.draft_m:g} m, standoff {plan.standoff_m:g} m, "
             f"overlap {plan.overlap:.0%}",
             f"  legs        {len(plan.legs)} ({', '.join(f'{len(v)} {k}' for k, v in kinds.items())}), {n_wp} waypoints",
             f"  length      {plan.length_m / 1000:.2f} km",
             f"  duration    {int(hours)} h {rest / 60:.0f} min at {plan.cruise_speed_m_s:g} m/s "
             f"(battery ~{energy_wh:.0f} Wh at 250 W)",
             f"  coverage    {pred.overall_pct:.1f}% of the wetted surface, {result.reachable_coverage_pct:.1f}% "
             f"of what the vehicle can reach"]
    for name, pct in pred.per_niche_pct:
        lines.append(f"  niche       {name:<28} {pct:5.1f}%")
    if pred.uncovered:
        by_reason: dict[str, float] = {}
        for u in pred.uncovered:
            by_reason[u.reason] = by_reason.get(u.reason, 0.0) + u.area_m2
        lines.append("  uncovered   " + ", ".join(f"{a:.0f} m2 {r}" for r, a in sorted(by_reason.items())))
        for u in pred.uncovered[:8]:
            x, y, z = u.center_h
            side = "port" if y > 0.5 else "starboard" if y < -0.5 else "centreline"
            lines.append(f"    {u.area_m2:8.1f} m2  {u.reason:<12} x {x:6.1f} m, {side}, "
                         f"{plan.draft_m - z:.1f} m deep")
    return "\n".join(lines)


def run_plan_command(args) -> int:
    if bool(args.hull) == bool(args.parametric):
        raise UserError("give either --hull FILE or --parametric L,B,T[,D,CB]")
    if not 0.0 <= args.overlap < 0.9:
        raise UserError(f"--overlap {args.overlap:g}: must be a fraction 0..0.9 (e.g. 0.3)")
    print("planning ...", file=sys.stderr, flush=True)
    result, warnings = build_plan(args)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(summary_text(result))
    if args.export:
        _export(result.plan, args.export, Path(args.output))
    else:
        from mission_plans.plan_file import save_plan

        save_plan(result.plan, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _export(plan, kind: str, path: Path) -> None:
    from mission_plans.mission_items import MissionItemsError, plan_to_mission_items, validate_for_ardusub
    from mission_plans.mission_split import split_mission
    from mission_plans.qgc_plan import save_qgc_plan
    from mission_plans.wpl import save_wpl

    try:
        items = plan_to_mission_items(plan, frame="global")
    except MissionItemsError as exc:
        raise UserError(f"cannot export: {exc} (pass --origin LAT,LON for the ship's aft end on the keel)") from None
    parts = split_mission(items, ARDUSUB_MAX_ITEMS)
    width = len(str(len(parts)))
    for n, part in enumerate(parts, 1):
        problems = validate_for_ardusub(part, max_items=ARDUSUB_MAX_ITEMS)
        if problems:
            raise UserError("ArduSub would refuse this mission: " + "; ".join(problems[:3]))
        out = path if len(parts) == 1 else path.with_name(f"{path.stem}-part{n:0{width}d}{path.suffix}")
        if kind == "qgc":
            save_qgc_plan(out, part, plan.placement, cruise_speed_m_s=plan.cruise_speed_m_s)
        else:
            save_wpl(out, part)
        print(f"wrote {out} ({len(part)} items)", file=sys.stderr)
    if len(parts) > 1:
        print(f"the sweep needs {len(items)} mission items, more than ArduSub holds ({ARDUSUB_MAX_ITEMS}): "
              f"split into {len(parts)} missions to fly in order", file=sys.stderr)
