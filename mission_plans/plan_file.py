"""`.hullplan.json`: the plan file (DESIGN.md "Files").

    {"format": "hullplan", "version": 1, "vessel": {...}, "hull": {...}, "draft_m": ...,
     "placement": {...}, "sensors": {...}, "standoff_m": ..., "overlap": ...,
     "legs": [{"kind", "name", "niche", "waypoints": [{"x_m", "y_m", "z_m", "yaw_deg",
               "hold_s", "speed_m_s"}, ...]}, ...],
     "prediction": {"overall_pct", "per_niche_pct": {name: pct}, "uncovered": [...]} | null,
     "length_m", "duration_s", "cruise_speed_m_s", "created_utc", "software"}

Saving is atomic (temp file in the same folder, fsync, os.replace): a crash leaves the old
file or the new one, never half of one, and no temp file is left behind on an error.
Loading refuses other formats, newer versions and every bad value with a PlanFileError
whose message starts with the JSON path of the field ("legs[3].waypoints[0].z_m: ...").
Floats are written with repr (json's default), so `load_plan(save_plan(p)) == p` exactly.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable

from hull.placement import Placement, PlacementError

from .plan_model import (CameraSensor, CoveragePrediction, HullRef, Leg, Plan, SensorSetup,
                         SonarSensor, UncoveredPatch, VesselInfo, Waypoint, thaw_json)

__all__ = ["FORMAT", "VERSION", "PlanFileError", "atomic_write_bytes", "load_plan", "plan_from_dict",
           "plan_to_dict", "save_plan"]

FORMAT = "hullplan"
VERSION = 1


class PlanFileError(ValueError):
    """A plan or mission file that cannot be read: wrong format, newer version, bad value."""


# ---- atomic writes (shared with qgc_plan and wpl) ----------------------------------------
def atomic_write_bytes(path, data: bytes) -> None:
    """Write `data` to `path` atomically: a temp file in the same folder, fsync, rename.
    On any error the temp file is removed and the error (OSError) propagates."""
    path = Path(path)
    parent = path.parent
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (POSIX); harmless where unsupported
        dfd = os.open(parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# ---- encoding ------------------------------------------------------------------------------
def plan_to_dict(plan: Plan) -> dict:
    """The JSON document of a plan (plain dicts, lists, floats)."""
    s = plan.sensors
    p = plan.prediction
    return {
        "format": FORMAT,
        "version": VERSION,
        "vessel": {"name": plan.vessel.name, "imo": plan.vessel.imo, "mmsi": plan.vessel.mmsi},
        "hull": {"path": plan.hull.path, "sha256": plan.hull.sha256,
                 "parametric": None if plan.hull.parametric is None else thaw_json(plan.hull.parametric)},
        "draft_m": plan.draft_m,
        "placement": plan.placement.to_dict(),
        "sensors": {
            "camera": None if s.camera is None else {
                "hfov_deg": s.camera.hfov_deg, "vfov_deg": s.camera.vfov_deg, "width_px": s.camera.width_px,
                "height_px": s.camera.height_px, "useful_range_m": s.camera.useful_range_m},
            "sonar": None if s.sonar is None else {
                "swath_deg": s.sonar.swath_deg, "vertical_aperture_deg": s.sonar.vertical_aperture_deg,
                "min_range_m": s.sonar.min_range_m, "max_range_m": s.sonar.max_range_m,
                "max_grazing_deg": s.sonar.max_grazing_deg},
        },
        "standoff_m": plan.standoff_m,
        "overlap": plan.overlap,
        "legs": [{"kind": leg.kind, "name": leg.name, "niche": leg.niche,
                  "waypoints": [{"x_m": w.x_m, "y_m": w.y_m, "z_m": w.z_m, "yaw_deg": w.yaw_deg,
                                 "hold_s": w.hold_s, "speed_m_s": w.speed_m_s} for w in leg.waypoints]}
                 for leg in plan.legs],
        "prediction": None if p is None else {
            "overall_pct": p.overall_pct,
            "per_niche_pct": {name: pct for name, pct in p.per_niche_pct},
            "uncovered": [{"center_h": list(u.center_h), "area_m2": u.area_m2, "reason": u.reason}
                          for u in p.uncovered],
        },
        "length_m": plan.length_m,
        "duration_s": plan.duration_s,
        "cruise_speed_m_s": plan.cruise_speed_m_s,
        "created_utc": plan.created_utc,
        "software": plan.software,
    }


def save_plan(plan: Plan, path) -> Path:
    """Write the plan atomically; returns the path."""
    if not isinstance(plan, Plan):
        raise TypeError(f"expected a Plan, got {type(plan).__name__}")
    text = json.dumps(plan_to_dict(plan), indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return Path(path)


# ---- decoding -------------------------------------------------------------------------------
_FIELD_PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z0-9_]+)*): ")


def _join(path: str, key: str) -> str:
    if not path:
        return key
    return f"{path}{key}" if key.startswith("[") else f"{path}.{key}"


class _Node:
    """A JSON object with its path, for error messages that name the field."""

    def __init__(self, value: Any, path: str):
        if not isinstance(value, dict):
            raise PlanFileError(f"{path or 'document'}: expected an object, got {_kind(value)}")
        self.d, self.path = value, path

    def raw(self, key: str, *, optional: bool = False):
        if key not in self.d:
            if optional:
                return None
            raise PlanFileError(f"{_join(self.path, key)}: missing")
        return self.d[key]

    def num(self, key: str, *, optional: bool = False):
        v = self.raw(key, optional=optional)
        if v is None and optional:
            return None
        return _check_num(v, _join(self.path, key))

    def int(self, key: str) -> int:
        v = self.raw(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise PlanFileError(f"{_join(self.path, key)}: expected an integer, got {_show(v)}")
        return v

    def text(self, key: str, *, optional: bool = False):
        v = self.raw(key, optional=optional)
        if v is None and optional:
            return None
        if not isinstance(v, str):
            raise PlanFileError(f"{_join(self.path, key)}: expected a string, got {_show(v)}")
        return v

    def obj(self, key: str, *, optional: bool = False):
        v = self.raw(key, optional=optional)
        if v is None and optional:
            return None
        return _Node(v, _join(self.path, key))

    def items(self, key: str) -> list[tuple[Any, str]]:
        v = self.raw(key)
        if not isinstance(v, list):
            raise PlanFileError(f"{_join(self.path, key)}: expected an array, got {_kind(v)}")
        base = _join(self.path, key)
        return [(x, f"{base}[{i}]") for i, x in enumerate(v)]


def _kind(v) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(v), "a number")


def _show(v) -> str:
    s = json.dumps(v) if not isinstance(v, float) else repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _check_num(v, path: str):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise PlanFileError(f"{path}: expected a number, got {_show(v)}")
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        raise PlanFileError(f"{path}: expected a finite number, got {v!r}")
    return v


def _build(path: str, factory: Callable, *args, **kwargs):
    """Call a model constructor; re-raise its ValueError with the JSON path in front."""
    try:
        return factory(*args, **kwargs)
    except PlanFileError:
        raise
    except ValueError as e:
        msg = str(e)
        m = _FIELD_PREFIX.match(msg)
        if m and path:
            raise PlanFileError(f"{path}.{msg}") from None
        if m or not path:
            raise PlanFileError(msg) from None
        raise PlanFileError(f"{path}: {msg}") from None


def _waypoint(v, path: str) -> Waypoint:
    n = _Node(v, path)
    return _build(path, Waypoint, n.num("x_m"), n.num("y_m"), n.num("z_m"), n.num("yaw_deg"),
                  hold_s=n.num("hold_s"), speed_m_s=n.num("speed_m_s", optional=True))


def _leg(v, path: str) -> Leg:
    n = _Node(v, path)
    wps = tuple(_waypoint(x, p) for x, p in n.items("waypoints"))
    return _build(path, Leg, n.text("kind"), n.text("name"), n.text("niche", optional=True), wps)


def _placement(v, path: str) -> Placement:
    if not isinstance(v, dict):
        raise PlanFileError(f"{path}: expected an object, got {_kind(v)}")
    try:
        return Placement.from_dict(v)
    except PlacementError as e:
        raise PlanFileError(f"{path}.{e}") from None
    except (TypeError, ValueError) as e:
        raise PlanFileError(f"{path}: {e}") from None


def _prediction(n: _Node | None) -> CoveragePrediction | None:
    if n is None:
        return None
    per = n.obj("per_niche_pct")
    pairs = tuple((k, _check_num(val, _join(per.path, k))) for k, val in per.d.items())
    patches = []
    for v, p in n.items("uncovered"):
        u = _Node(v, p)
        c = u.raw("center_h")
        if not isinstance(c, list) or len(c) != 3:
            raise PlanFileError(f"{p}.center_h: expected [x, y, z], got {_show(c)}")
        center = tuple(_check_num(x, f"{p}.center_h[{i}]") for i, x in enumerate(c))
        patches.append(_build(p, UncoveredPatch, center, u.num("area_m2"), u.text("reason")))
    return _build(n.path, CoveragePrediction, n.num("overall_pct"), pairs, tuple(patches))


def plan_from_dict(doc: Any) -> Plan:
    """Validate and build a Plan from a parsed `.hullplan.json` document."""
    root = _Node(doc, "")
    fmt = root.raw("format")
    if fmt != FORMAT:
        raise PlanFileError(f"format: not a HullWatch plan (expected \"{FORMAT}\", got {_show(fmt)})")
    version = root.raw("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PlanFileError(f"version: expected a positive integer, got {_show(version)}")
    if version > VERSION:
        raise PlanFileError(f"version: hullplan version {version} is newer than this HullWatch "
                            f"understands ({VERSION}); update HullWatch to open it")
    v = root.obj("vessel")
    vessel = _build("vessel", VesselInfo, v.text("name"), v.text("imo", optional=True),
                    v.text("mmsi", optional=True))
    h = root.obj("hull")
    param = h.raw("parametric", optional=True)
    if param is not None and not isinstance(param, dict):
        raise PlanFileError(f"hull.parametric: expected an object or null, got {_kind(param)}")
    hull = _build("hull", HullRef, h.text("path", optional=True), h.text("sha256", optional=True), param)
    placement = _placement(root.raw("placement"), "placement")
    s = root.obj("sensors")
    c = s.obj("camera", optional=True)
    camera = None if c is None else _build(c.path, CameraSensor, c.num("hfov_deg"), c.num("vfov_deg"),
                                           c.int("width_px"), c.int("height_px"), c.num("useful_range_m"))
    so = s.obj("sonar", optional=True)
    sonar = None if so is None else _build(so.path, SonarSensor, so.num("swath_deg"),
                                           so.num("vertical_aperture_deg"), so.num("min_range_m"),
                                           so.num("max_range_m"), so.num("max_grazing_deg"))
    sensors = _build("sensors", SensorSetup, camera, sonar)
    legs = tuple(_leg(x, p) for x, p in root.items("legs"))
    prediction = _prediction(root.obj("prediction", optional=True))
    return _build("", Plan, vessel, hull, root.num("draft_m"), placement, sensors, root.num("standoff_m"),
                  root.num("overlap"), legs, prediction, root.num("length_m"), root.num("duration_s"),
                  root.num("cruise_speed_m_s"), root.text("created_utc"), root.text("software"))


def read_json_document(path) -> Any:
    """The JSON in a file (a UTF-8 byte-order mark is allowed); PlanFileError naming the
    file and what is wrong with it, OSError when it cannot be read."""
    data = Path(path).read_bytes()
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise PlanFileError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise PlanFileError(f"{path}: not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None


def load_plan(path) -> Plan:
    """Read a `.hullplan.json`. Raises PlanFileError (naming the field) or OSError."""
    return plan_from_dict(read_json_document(path))
