"""The sweep plan: immutable, validated, JSON-exact (see plan_file.py for the file).

Every type here is a frozen dataclass whose fields are JSON-representable after a fixed,
lossless mapping: tuples <-> JSON arrays, read-only mappings <-> JSON objects, floats as
floats (numeric fields are coerced to float on construction, so 5 and 5.0 are the same).
That is what makes `load_plan(save_plan(p)) == p` hold exactly.

Waypoint positions are in the hull frame H (x forward, y port, z up; metres). Waypoint yaw
is the direction the vehicle faces, also in H: 0 = facing +x (the bow), 90 = facing +y
(port), i.e. counter-clockwise seen from above. Placement.heading_h_to_ned turns it into a
compass heading.
"""
from __future__ import annotations

import dataclasses
import datetime
import math
import types
from typing import Any, Mapping

from hull.placement import Placement

__all__ = ["CameraSensor", "CoveragePrediction", "HullRef", "LEG_KINDS", "Leg", "Plan",
           "SensorSetup", "SonarSensor", "UncoveredPatch", "VesselInfo", "Waypoint", "freeze_json"]

LEG_KINDS = frozenset({"niche_pass", "lane_horizontal", "lane_vertical", "lane_bottom", "transit", "fill_in"})


def _set(obj, name, value):
    object.__setattr__(obj, name, value)


def _num(obj, name: str, *, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False, optional: bool = False) -> None:
    """Coerce obj.name to a finite float within bounds, or raise ValueError naming it."""
    v = getattr(obj, name)
    if v is None and optional:
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{name}: expected a number, got {v!r}")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{name}: must be a finite number, got {v!r}")
    if lo is not None and (f < lo or (lo_open and f == lo)):
        raise ValueError(f"{name}: must be {'>' if lo_open else '>='} {lo}, got {f}")
    if hi is not None and (f > hi or (hi_open and f == hi)):
        raise ValueError(f"{name}: must be {'<' if hi_open else '<='} {hi}, got {f}")
    _set(obj, name, f)


def _text(obj, name: str, *, optional: bool = False, nonempty: bool = True) -> None:
    v = getattr(obj, name)
    if v is None and optional:
        return
    if not isinstance(v, str):
        raise ValueError(f"{name}: expected a string, got {v!r}")
    if nonempty and not v.strip():
        raise ValueError(f"{name}: must not be empty")


def freeze_json(value: Any, path: str = "value") -> Any:
    """A JSON-like value made immutable: dict -> read-only mapping, list/tuple -> tuple.
    Only str, int, finite float, bool and None are allowed as leaves."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{path}: keys must be strings, got {k!r}")
            out[k] = freeze_json(v, f"{path}.{k}")
        return types.MappingProxyType(out)
    if isinstance(value, (list, tuple)):
        return tuple(freeze_json(v, f"{path}[{i}]") for i, v in enumerate(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path}: must be a finite number, got {value!r}")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(f"{path}: not a JSON value: {value!r}")


def thaw_json(value: Any) -> Any:
    """Inverse of freeze_json: plain dicts and lists, ready for json.dumps."""
    if isinstance(value, Mapping):
        return {k: thaw_json(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw_json(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class VesselInfo:
    name: str
    imo: str | None = None
    mmsi: str | None = None

    def __post_init__(self):
        _text(self, "name")
        _text(self, "imo", optional=True)
        _text(self, "mmsi", optional=True)


@dataclasses.dataclass(frozen=True)
class HullRef:
    """Either a mesh file (path + SHA-256 of its bytes) or a parametric hull (dimensions)."""

    path: str | None = None
    sha256: str | None = None
    parametric: Mapping[str, Any] | None = None

    def __post_init__(self):
        has_mesh = self.path is not None or self.sha256 is not None
        if has_mesh == (self.parametric is not None):
            raise ValueError("a hull reference needs either a mesh (path and sha256) or parametric dimensions, not both or neither")
        if has_mesh:
            _text(self, "path")
            _text(self, "sha256")
            sha = self.sha256.lower()
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise ValueError(f"sha256: expected 64 hex digits, got {self.sha256!r}")
            _set(self, "sha256", sha)
        else:
            if not isinstance(self.parametric, Mapping) or not self.parametric:
                raise ValueError(f"parametric: expected a non-empty object, got {self.parametric!r}")
            _set(self, "parametric", freeze_json(self.parametric, "parametric"))


@dataclasses.dataclass(frozen=True)
class CameraSensor:
    hfov_deg: float
    vfov_deg: float
    width_px: int
    height_px: int
    useful_range_m: float

    def __post_init__(self):
        _num(self, "hfov_deg", lo=0.0, hi=180.0, lo_open=True, hi_open=True)
        _num(self, "vfov_deg", lo=0.0, hi=180.0, lo_open=True, hi_open=True)
        for name in ("width_px", "height_px"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        _num(self, "useful_range_m", lo=0.0, lo_open=True)


@dataclasses.dataclass(frozen=True)
class SonarSensor:
    swath_deg: float
    vertical_aperture_deg: float
    min_range_m: float
    max_range_m: float
    max_grazing_deg: float

    def __post_init__(self):
        _num(self, "swath_deg", lo=0.0, hi=360.0, lo_open=True)
        _num(self, "vertical_aperture_deg", lo=0.0, hi=180.0, lo_open=True)
        _num(self, "min_range_m", lo=0.0)
        _num(self, "max_range_m", lo=0.0, lo_open=True)
        if self.max_range_m <= self.min_range_m:
            raise ValueError(f"max_range_m: must be > min_range_m ({self.min_range_m}), got {self.max_range_m}")
        _num(self, "max_grazing_deg", lo=0.0, hi=90.0, lo_open=True)


@dataclasses.dataclass(frozen=True)
class SensorSetup:
    camera: CameraSensor | None = None
    sonar: SonarSensor | None = None

    def __post_init__(self):
        if self.camera is None and self.sonar is None:
            raise ValueError("at least a camera or a sonar is needed")
        if self.camera is not None and not isinstance(self.camera, CameraSensor):
            raise ValueError(f"camera: expected a CameraSensor, got {type(self.camera).__name__}")
        if self.sonar is not None and not isinstance(self.sonar, SonarSensor):
            raise ValueError(f"sonar: expected a SonarSensor, got {type(self.sonar).__name__}")


@dataclasses.dataclass(frozen=True)
class Waypoint:
    """A point in H where the vehicle goes, facing yaw_deg (H: 0 = +x, 90 = +y/port),
    holding hold_s seconds; speed_m_s None = the plan's cruise speed."""

    x_m: float
    y_m: float
    z_m: float
    yaw_deg: float
    hold_s: float = 0.0
    speed_m_s: float | None = None

    def __post_init__(self):
        for name in ("x_m", "y_m", "z_m"):
            _num(self, name)
        _num(self, "yaw_deg", lo=-360.0, hi=360.0)
        _num(self, "hold_s", lo=0.0)
        _num(self, "speed_m_s", lo=0.0, lo_open=True, optional=True)

    @property
    def position_h(self) -> tuple[float, float, float]:
        return (self.x_m, self.y_m, self.z_m)


@dataclasses.dataclass(frozen=True)
class Leg:
    kind: str
    name: str
    niche: str | None
    waypoints: tuple[Waypoint, ...]

    def __post_init__(self):
        if self.kind not in LEG_KINDS:
            raise ValueError(f"kind: expected one of {sorted(LEG_KINDS)}, got {self.kind!r}")
        _text(self, "name")
        _text(self, "niche", optional=True)
        wps = tuple(self.waypoints)
        if not wps:
            raise ValueError(f"waypoints: leg {self.name!r} has no waypoints")
        for i, w in enumerate(wps):
            if not isinstance(w, Waypoint):
                raise ValueError(f"waypoints[{i}]: expected a Waypoint, got {type(w).__name__}")
        _set(self, "waypoints", wps)


@dataclasses.dataclass(frozen=True)
class UncoveredPatch:
    """A part of the hull the plan is predicted to miss: centre in H, area, why."""

    center_h: tuple[float, float, float]
    area_m2: float
    reason: str

    def __post_init__(self):
        c = self.center_h
        if isinstance(c, (str, bytes)) or not hasattr(c, "__len__") or len(c) != 3:
            raise ValueError(f"center_h: expected (x, y, z), got {c!r}")
        out = []
        for i, v in enumerate(c):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"center_h[{i}]: expected a finite number, got {v!r}")
            out.append(float(v))
        _set(self, "center_h", tuple(out))
        _num(self, "area_m2", lo=0.0)
        _text(self, "reason")


@dataclasses.dataclass(frozen=True)
class CoveragePrediction:
    """Predicted coverage in percent. per_niche_pct is stored as a tuple of (name, pct)
    pairs, in order (a dict is accepted and converted); `niche_pct()` looks one up."""

    overall_pct: float
    per_niche_pct: tuple[tuple[str, float], ...] = ()
    uncovered: tuple[UncoveredPatch, ...] = ()

    def __post_init__(self):
        _num(self, "overall_pct", lo=0.0, hi=100.0)
        pairs = self.per_niche_pct
        if isinstance(pairs, Mapping):
            pairs = tuple(pairs.items())
        out, seen = [], set()
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not isinstance(pair[0], str):
                raise ValueError(f"per_niche_pct[{i}]: expected (name, pct), got {pair!r}")
            name, pct = pair
            if name in seen:
                raise ValueError(f"per_niche_pct.{name}: listed twice")
            seen.add(name)
            if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0.0 <= pct <= 100.0:
                raise ValueError(f"per_niche_pct.{name}: expected a percentage in [0, 100], got {pct!r}")
            out.append((name, float(pct)))
        _set(self, "per_niche_pct", tuple(out))
        unc = tuple(self.uncovered)
        for i, u in enumerate(unc):
            if not isinstance(u, UncoveredPatch):
                raise ValueError(f"uncovered[{i}]: expected an UncoveredPatch, got {type(u).__name__}")
        _set(self, "uncovered", unc)

    def niche_pct(self, name: str) -> float | None:
        return dict(self.per_niche_pct).get(name)


@dataclasses.dataclass(frozen=True)
class Plan:
    vessel: VesselInfo
    hull: HullRef
    draft_m: float
    placement: Placement
    sensors: SensorSetup
    standoff_m: float
    overlap: float
    legs: tuple[Leg, ...]
    prediction: CoveragePrediction | None
    length_m: float
    duration_s: float
    cruise_speed_m_s: float
    created_utc: str
    software: str

    def __post_init__(self):
        for name, cls in (("vessel", VesselInfo), ("hull", HullRef), ("placement", Placement),
                          ("sensors", SensorSetup)):
            if not isinstance(getattr(self, name), cls):
                raise ValueError(f"{name}: expected a {cls.__name__}, got {type(getattr(self, name)).__name__}")
        _num(self, "draft_m", lo=0.0, lo_open=True)
        if self.draft_m != self.placement.draft_m:
            raise ValueError(f"draft_m: {self.draft_m} differs from placement.draft_m {self.placement.draft_m}")
        _num(self, "standoff_m", lo=0.0, lo_open=True)
        _num(self, "overlap", lo=0.0, hi=1.0, hi_open=True)
        legs = tuple(self.legs)
        for i, leg in enumerate(legs):
            if not isinstance(leg, Leg):
                raise ValueError(f"legs[{i}]: expected a Leg, got {type(leg).__name__}")
        _set(self, "legs", legs)
        if self.prediction is not None and not isinstance(self.prediction, CoveragePrediction):
            raise ValueError(f"prediction: expected a CoveragePrediction, got {type(self.prediction).__name__}")
        _num(self, "length_m", lo=0.0)
        _num(self, "duration_s", lo=0.0)
        _num(self, "cruise_speed_m_s", lo=0.0, lo_open=True)
        _text(self, "created_utc")
        try:
            datetime.datetime.fromisoformat(self.created_utc)
        except ValueError:
            raise ValueError(f"created_utc: expected an ISO 8601 time, got {self.created_utc!r}") from None
        _text(self, "software")

    def waypoints(self) -> tuple[Waypoint, ...]:
        """Every waypoint of every leg, in order."""
        return tuple(w for leg in self.legs for w in leg.waypoints)

    def summary(self) -> dict:
        """A small, JSON-ready overview for lists and reports."""
        kinds: dict[str, int] = {}
        for leg in self.legs:
            kinds[leg.kind] = kinds.get(leg.kind, 0) + 1
        return {
            "vessel": self.vessel.name,
            "imo": self.vessel.imo,
            "draft_m": self.draft_m,
            "legs": len(self.legs),
            "legs_by_kind": kinds,
            "niches": [leg.niche for leg in self.legs if leg.niche is not None],
            "waypoints": len(self.waypoints()),
            "length_m": self.length_m,
            "duration_s": self.duration_s,
            "cruise_speed_m_s": self.cruise_speed_m_s,
            "standoff_m": self.standoff_m,
            "overlap": self.overlap,
            "coverage_pct": None if self.prediction is None else self.prediction.overall_pct,
            "created_utc": self.created_utc,
        }
