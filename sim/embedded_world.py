"""The world `hullwatch sim` runs: a scenario file, a hull file with a generated scenario,
or a default parametric ship, berthed where the vehicle starts.

Without a scenario file the ship is put where the vehicle, which starts at the EKF origin
heading north, sees it at once: bow east, its starboard side `STANDOFF_M` north of the
vehicle, the vehicle abreast of midships, the port side to the quay.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from hull.placement import Placement

DEFAULT_DIMENSIONS = dict(length_m=120.0, beam_m=20.0, draft_m=7.0, depth_m=11.0, block_coefficient=0.72)
DEFAULT_SEED = 1
STANDOFF_M = 5.0
WATER_UNDER_KEEL_M = 10.0


class WorldSetupError(ValueError):
    """The hull or scenario cannot be used; the message names the cause."""


@dataclasses.dataclass(frozen=True, eq=False)
class EmbeddedWorld:
    model: object  # hull.model.HullModel
    scenario: object  # sim.scenario.Scenario
    world: object  # sim.world.World
    summary: str  # one line for the operator


def berth_beside_start(model, draft_m: float, standoff_m: float = STANDOFF_M,
                       water_depth_m: float | None = None) -> Placement:
    lo, hi = model.mesh.bounds()
    # heading 90: H x -> east, H y (port) -> north; the starboard extreme (y = lo) lies standoff north of 0
    return Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=90.0, draft_m=float(draft_m),
                     berth_side="port", quay_gap_m=3.0,
                     water_depth_m=float(water_depth_m if water_depth_m is not None else draft_m + WATER_UNDER_KEEL_M),
                     origin_ned_m=(standoff_m - float(lo[1]), -0.5 * float(lo[0] + hi[0])))


def load_hull(path, *, scale: float = 1.0):
    from hull.model import HullModel

    p = Path(path)
    if not p.is_file():
        raise WorldSetupError(f"hull file {p} not found")
    try:
        return HullModel.load(p, scale=scale)
    except (OSError, ValueError) as exc:
        raise WorldSetupError(f"hull file {p}: {exc}") from None


def _parametric(dims: dict):
    from hull.model import HullModel
    from hull.parametric import HullDimensions

    try:
        d = HullDimensions(**dims)
        d.validate()
    except (TypeError, ValueError) as exc:
        raise WorldSetupError(f"parametric hull {dims}: {exc}") from None
    return HullModel.parametric_hull(d)


def build_world(hull_path=None, scenario_path=None, draft_m: float | None = None,
                seed: int = DEFAULT_SEED, container_kinds=None, hull_scale: float = 1.0) -> EmbeddedWorld:
    """container_kinds: what a generated scenario's containers are drawn from (default
    sim.scenario.CONTAINER_KINDS; benches pass HELDOUT_CONTAINER_KINDS for unseen shapes).
    hull_scale: model-to-full-scale factor of hull_path (DTC-scaled.stl.gz: 59.407)."""
    from sim.scenario import ScenarioError, generate_scenario, load_scenario
    from sim.world import World

    if scenario_path is not None:
        try:
            scenario = load_scenario(scenario_path)
        except ScenarioError as exc:
            raise WorldSetupError(str(exc)) from None
        ref = scenario.hull
        if hull_path is not None:
            model = load_hull(hull_path)
        elif "parametric" in ref:
            model = _parametric(dict(ref["parametric"]))
        else:  # a mesh path is relative to the scenario file
            hull_file = Path(ref["path"])
            if not hull_file.is_absolute():
                hull_file = Path(scenario_path).parent / hull_file
            model = load_hull(hull_file, scale=float(ref.get("scale", 1.0)))
        where = f"scenario {Path(scenario_path).name} (seed {scenario.seed}, {len(scenario.objects)} objects)"
    else:
        if hull_path is not None:
            model = load_hull(hull_path, scale=hull_scale)
            draft = draft_m if draft_m is not None else 0.4 * model.depth_m
            ref = {"path": str(Path(hull_path).resolve()), "scale": float(hull_scale)}
        else:
            model = _parametric(DEFAULT_DIMENSIONS)
            draft = draft_m if draft_m is not None else DEFAULT_DIMENSIONS["draft_m"]
            ref = {"parametric": dict(model.parametric or {})}
        if not 0 < draft < model.depth_m:
            raise WorldSetupError(f"draft {draft:g} m must lie between the keel and the deck "
                                  f"({model.depth_m:.2f} m keel to deck)")
        placement = berth_beside_start(model, draft)
        try:
            scenario = generate_scenario(model, placement, seed=seed, hull_ref=ref, vessel_name=model.name,
                                         container_kinds=container_kinds)
        except ScenarioError as exc:
            raise WorldSetupError(str(exc)) from None
        where = (f"generated scenario (seed {seed}, {len(scenario.objects)} objects); bow east, starboard side "
                 f"{STANDOFF_M:g} m ahead (north) of the vehicle")
    world = World.from_scenario(scenario, model)
    p = scenario.placement
    summary = (f"hull {model.name}: {model.length_m:.1f} m at draft {p.draft_m:.1f} m in {p.water_depth_m:.1f} m "
               f"of water; {where}")
    return EmbeddedWorld(model, scenario, world, summary)
