"""Scenarios for the embedded world: a vessel at the quay with planted objects, exactly
reproducible from a seed, with the ground truth written beside them.

A scenario file (`*.scenario.json`, versioned) holds the vessel, its hull (parametric
dimensions or a mesh path), placement, water quality, and every planted object and
distractor with its pose. `generate_scenario` draws one from a seed; `ground_truth`
gives each object's class, pose, size and hull-surface address.

Container kinds come in two disjoint sets: CONTAINER_KINDS, which every default draw uses
(training data, `hullwatch sim`), and HELDOUT_CONTAINER_KINDS, shapes drawn only when a
caller asks (`container_kinds=`), for evaluation sets that training never saw.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from hull.niche import CONTAINS_MARGIN_M
from hull.placement import Placement

from .world_geometry import recess_depth_m

FORMAT, VERSION = "hullwatch-scenario", 1
WATER = {"clear": 0.10, "moderate": 0.35, "turbid": 0.9}  # beam attenuation c (1/m) at 532 nm

# kind -> (class name, size range (length, width, height) in metres)
OBJECT_KINDS: dict[str, tuple[str | None, tuple[tuple[float, float], ...]]] = {
    "duffel_bag": ("parasitic_container", ((0.4, 1.0), (0.25, 0.45), (0.2, 0.4))),
    "magnetic_box": ("parasitic_container", ((0.3, 0.6), (0.2, 0.4), (0.1, 0.25))),
    "torpedo": ("parasitic_container", ((1.0, 3.0), (0.2, 0.35), (0.2, 0.35))),
    "sea_chest_package": ("parasitic_container", ((0.3, 0.7), (0.2, 0.5), (0.2, 0.4))),
    "grating_missing": ("niche_anomaly", ((0.8, 1.5), (0.6, 1.2), (0.01, 0.02))),
    "bolts_removed": ("niche_anomaly", ((0.3, 0.6), (0.3, 0.6), (0.01, 0.02))),
    "tunnel_foreign_object": ("niche_anomaly", ((0.3, 0.8), (0.3, 0.6), (0.2, 0.5))),
    "fresh_weld": ("niche_anomaly", ((0.5, 1.5), (0.1, 0.3), (0.01, 0.03))),
    "fish": (None, ((0.2, 0.6), (0.05, 0.15), (0.1, 0.2))),
    "rope": (None, ((1.0, 4.0), (0.02, 0.05), (0.02, 0.05))),
    "fender": (None, ((0.6, 1.5), (0.3, 0.6), (0.3, 0.6))),
    "debris": (None, ((0.1, 0.5), (0.1, 0.4), (0.05, 0.3))),
    "fouling_clump": (None, ((0.2, 0.8), (0.2, 0.6), (0.05, 0.2))),
    # held out: container shapes that training data never shows (generate_scenario draws them
    # only when asked, for evaluation sets; meshes in sim.object_meshes)
    "holdall": ("parasitic_container", ((0.5, 1.1), (0.3, 0.5), (0.25, 0.45))),
    "drum": ("parasitic_container", ((0.55, 0.9), (0.35, 0.6), (0.35, 0.6))),
    "hex_case": ("parasitic_container", ((0.4, 1.0), (0.25, 0.45), (0.2, 0.4))),
    "wedge_case": ("parasitic_container", ((0.5, 1.2), (0.3, 0.6), (0.15, 0.35))),
    "net_bag": ("parasitic_container", ((0.5, 1.0), (0.35, 0.7), (0.2, 0.45))),
    # training only: families whose every object draws its own shape (sim.object_meshes.VARIED_SHAPES)
    "tapered_case": ("parasitic_container", ((0.4, 1.0), (0.25, 0.5), (0.15, 0.4))),
    "rounded_case": ("parasitic_container", ((0.4, 1.0), (0.25, 0.5), (0.2, 0.45))),
    "prism_case": ("parasitic_container", ((0.4, 1.1), (0.25, 0.5), (0.2, 0.45))),
    "tube_bundle": ("parasitic_container", ((0.6, 1.6), (0.25, 0.6), (0.12, 0.3))),
    "canister": ("parasitic_container", ((0.35, 0.8), (0.25, 0.5), (0.25, 0.5))),
}
CONTAINER_KINDS = ("duffel_bag", "magnetic_box", "torpedo", "sea_chest_package")
HELDOUT_CONTAINER_KINDS = ("holdall", "drum", "hex_case", "wedge_case", "net_bag")
# what training data sets draw (generator v5 on): the world's kinds and shape families that
# vary per object; the world itself (`hullwatch sim`, the benches) keeps CONTAINER_KINDS
VARIED_CONTAINER_KINDS = ("tapered_case", "rounded_case", "prism_case", "tube_bundle", "canister")
TRAINING_CONTAINER_KINDS = CONTAINER_KINDS + VARIED_CONTAINER_KINDS
RECESS_KINDS = ("sea_chest_package", "net_bag")  # hidden on the floor of a sea chest, behind its grating
ANOMALY_KINDS = ("grating_missing", "bolts_removed", "tunnel_foreign_object", "fresh_weld")
DISTRACTOR_KINDS = ("fish", "rope", "fender", "debris", "fouling_clump")
GRATED_NICHE_KINDS = ("sea_chest", "bow_thruster", "stern_thruster")  # where a grating can go missing
# markings on a niche itself (a grating's frame, a weld seam): an object may lie over them
FLAT_KINDS = ("grating_missing", "bolts_removed", "fresh_weld")
CLEARANCE_M = 0.05  # between the footprints of two objects placed side by side
PLACEMENT_TRIES = 64


# fouling runs from olive weed to brown mussel and tube-worm crusts (RGB reflectance)
FOULING_OLIVE, FOULING_BROWN = np.array([0.22, 0.27, 0.10]), np.array([0.40, 0.32, 0.18])
FENDER_RUBBER_GREY = (0.05, 0.14)  # black rubber (pneumatic and cylindrical fenders)
FENDER_FOAM_SHARE = 0.35  # the rest: foam-filled, in orange or yellow
FENDER_FOAM = np.array([0.85, 0.45, 0.08]), np.array([0.90, 0.78, 0.12])


def distractor_paint(kind: str, u: np.ndarray) -> np.ndarray:
    """The colour of a fouling clump or fender from the three uniform draws in 0.1..0.9 that
    any other kind takes as its colour as they are (no draws of its own: the rest of the
    scenario stays as it was). Containers come in any colour; these things do not."""
    t = (np.asarray(u, float) - 0.1) / 0.8  # 0..1
    if kind == "fouling_clump":
        return (FOULING_OLIVE + (FOULING_BROWN - FOULING_OLIVE) * t[0]) * (0.7 + 0.6 * t[1])
    if kind == "fender":
        if t[0] < FENDER_FOAM_SHARE:
            return FENDER_FOAM[0] + (FENDER_FOAM[1] - FENDER_FOAM[0]) * t[1]
        lo, hi = FENDER_RUBBER_GREY
        return np.full(3, lo + (hi - lo) * t[1])
    return np.asarray(u, float)


class ScenarioError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class PlantedObject:
    name: str
    kind: str
    center_h: tuple[float, float, float]
    normal_h: tuple[float, float, float]  # the hull surface normal it sits on (outward)
    axis_h: tuple[float, float, float]  # its long axis, along the surface
    size_m: tuple[float, float, float]  # length (along axis), width, height (off the surface)
    attached_to: str  # a niche area name, "hull", or "free" (distractors in the water)
    color_rgb: tuple[float, float, float]
    reflectivity: float  # acoustic, 0..1

    @property
    def class_name(self) -> str | None:
        return OBJECT_KINDS[self.kind][0]

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict, where: str) -> "PlantedObject":
        try:
            obj = cls(str(d["name"]), str(d["kind"]), _vec(d["center_h"], f"{where}.center_h"),
                      _vec(d["normal_h"], f"{where}.normal_h"), _vec(d["axis_h"], f"{where}.axis_h"),
                      _vec(d["size_m"], f"{where}.size_m"), str(d["attached_to"]),
                      _vec(d["color_rgb"], f"{where}.color_rgb"), float(d["reflectivity"]))
        except KeyError as exc:
            raise ScenarioError(f"{where}: missing field {exc.args[0]!r}") from None
        if obj.kind not in OBJECT_KINDS:
            raise ScenarioError(f"{where}.kind: unknown kind {obj.kind!r}; known: {', '.join(OBJECT_KINDS)}")
        if min(obj.size_m) <= 0:
            raise ScenarioError(f"{where}.size_m: sizes must be positive")
        return obj


def _vec(v: Any, where: str) -> tuple[float, float, float]:
    if not isinstance(v, (list, tuple)) or len(v) != 3:
        raise ScenarioError(f"{where}: expected three numbers")
    out = tuple(float(x) for x in v)
    if not all(math.isfinite(x) for x in out):
        raise ScenarioError(f"{where}: numbers must be finite")
    return out  # type: ignore[return-value]


@dataclasses.dataclass(frozen=True)
class Scenario:
    seed: int
    vessel_name: str
    hull: dict  # {"parametric": {...}} or {"path": "...", "scale": 1.0}
    placement: Placement
    water: str  # "clear" | "moderate" | "turbid"
    objects: tuple[PlantedObject, ...]

    @property
    def attenuation_per_m(self) -> float:
        return WATER[self.water]

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "seed": self.seed, "vessel": {"name": self.vessel_name},
                "hull": self.hull, "placement": self.placement.to_dict(), "water": self.water,
                "objects": [o.to_dict() for o in self.objects]}

    @classmethod
    def from_dict(cls, d: dict) -> "Scenario":
        if d.get("format") != FORMAT:
            raise ScenarioError(f"format: expected {FORMAT!r}, got {d.get('format')!r}")
        if d.get("version") != VERSION:
            raise ScenarioError(f"version: this HullWatch reads scenario version {VERSION}, got {d.get('version')!r}")
        if d.get("water") not in WATER:
            raise ScenarioError(f"water: one of {', '.join(WATER)}, got {d.get('water')!r}")
        hull = d.get("hull")
        if not isinstance(hull, dict) or not ("parametric" in hull or "path" in hull):
            raise ScenarioError("hull: give {\"parametric\": {...}} or {\"path\": ..., \"scale\": ...}")
        objects = tuple(PlantedObject.from_dict(o, f"objects[{i}]") for i, o in enumerate(d.get("objects", [])))
        names = [o.name for o in objects]
        if len(set(names)) != len(names):
            raise ScenarioError("objects: names must be unique")
        try:
            placement = Placement.from_dict(d["placement"])
        except (KeyError, ValueError) as exc:
            raise ScenarioError(f"placement: {exc}") from None
        return cls(int(d.get("seed", 0)), str(d.get("vessel", {}).get("name", "vessel")), hull, placement,
                   d["water"], objects)


def save_scenario(scenario: Scenario, path) -> None:
    _atomic_json(Path(path), scenario.to_dict())


def load_scenario(path) -> Scenario:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not a JSON scenario ({exc})") from None
    try:
        return Scenario.from_dict(doc)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


def _atomic_json(path: Path, doc: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- generation -----------------------------------------------------------------------
def generate_scenario(model, placement: Placement, *, seed: int, water: str = "moderate", containers: int = 3,
                      anomalies: int = 1, distractors: int = 4, vessel_name: str = "vessel",
                      hull_ref: dict | None = None, container_kinds=None) -> Scenario:
    """Objects placed on the real wetted hull and in its niche areas, drawn from `seed`
    alone: the same seed gives the same scenario, bit for bit.

    container_kinds: the kinds containers are drawn from; default CONTAINER_KINDS (what
    training data shows). Evaluation sets pass HELDOUT_CONTAINER_KINDS. The default draws
    exactly what this function drew before held-out kinds existed."""
    from hull.wetted import wetted_surface

    kinds = CONTAINER_KINDS if container_kinds is None else tuple(container_kinds)
    if not kinds:
        raise ScenarioError("container_kinds: give at least one kind")
    for k in kinds:
        if OBJECT_KINDS.get(k, (None,))[0] != "parasitic_container":
            raise ScenarioError(f"container_kinds: {k!r} is not a container kind; containers are "
                                f"{', '.join(TRAINING_CONTAINER_KINDS + HELDOUT_CONTAINER_KINDS)}")
    rng = np.random.default_rng(seed)
    wet = wetted_surface(model.mesh, placement.draft_m).mesh
    areas = wet.face_areas()
    centers, normals = wet.face_centers(), wet.face_normals()
    prob = areas / areas.sum()
    niches = list(model.niche_areas)
    objects: list[PlantedObject] = []
    # a second stream moves an object that would sit inside another, so that every scenario
    # without such a clash draws exactly what it drew before objects made room for each other
    spare = np.random.default_rng([seed, 1])

    def surface_point(stream=rng):
        i = stream.choice(len(areas), p=prob)
        return centers[i], normals[i]

    def _make_room(kind, center, normal, size, attached, placed):
        """Beside the objects already there: slid across the same niche area (two bags in one
        sea chest lie side by side, not inside each other), or when it is full, elsewhere on the
        hull; a free-floating distractor drifts to another spot."""
        niche = next((n for n in niches if n.name == attached), None)
        if niche is not None:
            u, v, _ = niche.axes()
            if kind in RECESS_KINDS:  # on the recess floor, inside its walls
                half = np.maximum(0.5 * np.asarray(niche.size_m) - 0.5 * min(size[:2]), 0.0)
            else:
                half = 0.5 * np.asarray(niche.size_m) + CONTAINS_MARGIN_M
            for _ in range(PLACEMENT_TRIES):
                c = center + u * spare.uniform(-half[0], half[0]) + v * spare.uniform(-half[1], half[1])
                if niche.contains(c) and not _crowded(c, size, placed):
                    return c, normal, attached
        for _ in range(PLACEMENT_TRIES):
            c, nrm = surface_point(spare)
            c = c + nrm * (size[2] / 2 + (spare.uniform(0.5, 3.0) if attached == "free" else 0.0))
            if not _crowded(c, size, placed):
                return c, nrm, ("free" if attached == "free" else "hull")
        raise ScenarioError(f"no room on the hull for {len(placed) + 1} objects: ask for fewer")

    def make(kind: str, name: str, center, normal, attached: str, axis=None):
        lo_hi = OBJECT_KINDS[kind][1]
        size = tuple(float(rng.uniform(a, b)) for a, b in lo_hi)
        normal = np.asarray(normal, float) / np.linalg.norm(normal)
        # the object sits on the surface: its centre half its height out along the normal
        center = np.asarray(center, float) + normal * size[2] / 2
        moved = kind not in FLAT_KINDS and _crowded(center, size, objects)
        if moved:
            center, normal, attached = _make_room(kind, center, normal, size, attached, objects)
        if axis is None:
            t = np.cross(normal, [0.0, 0.0, 1.0]) if abs(normal[2]) < 0.9 else np.cross(normal, [0.0, 1.0, 0.0])
            t /= np.linalg.norm(t)
            angle = rng.uniform(0, math.pi)
            axis = t * math.cos(angle) + np.cross(normal, t) * math.sin(angle)
        elif moved:  # a torpedo moved off its keel still lies along the surface
            axis = np.asarray(axis, float) - (np.asarray(axis, float) @ normal) * normal
        axis = np.asarray(axis, float) / np.linalg.norm(axis)
        paint = rng.uniform(0.1, 0.9, 3) if kind != "torpedo" else np.array([0.45, 0.12, 0.1])  # hull red
        paint = distractor_paint(kind, paint)
        reflect = {"torpedo": 0.9, "magnetic_box": 0.8, "fish": 0.2, "rope": 0.3, "drum": 0.85, "hex_case": 0.7,
                   "wedge_case": 0.75}.get(kind, 0.5)
        objects.append(PlantedObject(name, kind, tuple(map(float, center)), tuple(map(float, normal)),
                                     tuple(map(float, axis)), size, attached, tuple(map(float, paint)),
                                     float(reflect * rng.uniform(0.8, 1.0))))

    for k in range(containers):
        kind = kinds[int(rng.integers(len(kinds)))]
        name = f"container {k + 1} ({kind.replace('_', ' ')})"
        chest = [n for n in niches if str(getattr(n.kind, "value", n.kind)) == "sea_chest"]
        keels = [n for n in niches if str(getattr(n.kind, "value", n.kind)) == "bilge_keel"]
        if kind in RECESS_KINDS and chest:
            # on the floor of the recess, behind the grating (the world cuts the recess)
            n = chest[int(rng.integers(len(chest)))]
            make(kind, name, np.asarray(n.center_h) - np.asarray(n.normal_h) * recess_depth_m(n), n.normal_h, n.name)
        elif kind == "torpedo":
            base = keels[int(rng.integers(len(keels)))] if keels else None
            if base is not None:
                make(kind, name, base.center_h, base.normal_h, base.name, axis=(1.0, 0.0, 0.0))
            else:
                c, nrm = surface_point()
                make(kind, name, c, nrm, "hull", axis=(1.0, 0.0, 0.0))
        elif niches and rng.random() < 0.6:
            n = niches[int(rng.integers(len(niches)))]
            make(kind, name, n.center_h, n.normal_h, n.name)
        else:
            c, nrm = surface_point()
            make(kind, name, c, nrm, "hull")
    for k in range(anomalies):
        kind = ANOMALY_KINDS[int(rng.integers(len(ANOMALY_KINDS)))]
        grated = [n for n in niches if str(getattr(n.kind, "value", n.kind)) in GRATED_NICHE_KINDS]
        pool = (grated or niches) if kind == "grating_missing" else niches
        if pool:
            n = pool[int(rng.integers(len(pool)))]
            make(kind, f"anomaly {k + 1} ({kind.replace('_', ' ')})", n.center_h, n.normal_h, n.name)
    for k in range(distractors):
        kind = DISTRACTOR_KINDS[int(rng.integers(len(DISTRACTOR_KINDS)))]
        c, nrm = surface_point()
        free = kind in ("fish", "rope", "debris")
        offset = rng.uniform(0.5, 3.0) if free else 0.0
        make(kind, f"distractor {k + 1} ({kind.replace('_', ' ')})", c + nrm * offset, nrm,
             "free" if free else "hull")
    return Scenario(int(seed), vessel_name, hull_ref or {"parametric": dict(model.parametric or {})}, placement,
                    water, tuple(objects))


def _crowded(center, size, placed) -> bool:
    """True when an object at `center` would overlap one already placed: footprints as circles
    of half the longest side (objects lie at any angle on the surface)."""
    r = 0.5 * max(size)
    return any(o.kind not in FLAT_KINDS
               and np.linalg.norm(np.subtract(center, o.center_h)) < r + 0.5 * max(o.size_m) + CLEARANCE_M
               for o in placed)


def ground_truth(scenario: Scenario, model) -> list[dict]:
    """Per object: class, kind, pose, size and hull-surface address (for the truth file)."""
    out = []
    for o in scenario.objects:
        addr = model.queries.surface_address(np.asarray(o.center_h), scenario.placement.draft_m, model.niche_areas)
        out.append({"name": o.name, "class": o.class_name, "kind": o.kind, "center_h": list(o.center_h),
                    "normal_h": list(o.normal_h), "axis_h": list(o.axis_h), "size_m": list(o.size_m),
                    "attached_to": o.attached_to,
                    "address": {"side": addr.side, "x_from_stern_m": round(addr.x_from_stern_m, 3),
                                "depth_below_waterline_m": round(addr.depth_below_waterline_m, 3),
                                "niche": addr.niche, "distance_to_hull_m": round(addr.distance_to_hull_m, 3)}})
    return out


def write_ground_truth(scenario: Scenario, model, scenario_path) -> Path:
    """`<name>.truth.json` beside the scenario file, atomically."""
    p = Path(scenario_path)
    truth = p.with_name(p.name.replace(".scenario.json", "") + ".truth.json")
    _atomic_json(truth, {"format": "hullwatch-truth", "version": 1, "seed": scenario.seed,
                         "objects": ground_truth(scenario, model)})
    return truth
