"""Niche areas: the named regions of a hull where smugglers hide things.

Sea chests, thruster tunnels, rudder, propeller and shaft, bilge keels, anodes and
overboard valves. Each `NicheArea` is an oriented box in the hull frame H (metres; x
forward, y to port, z up, origin at the aft perpendicular on the keel and centreline)
that the planner visits first and that a detection can be placed in.

Box convention (see `NicheArea.axes` / `contains`):

* ``normal_h`` is a unit vector. For items on the hull surface (sea chest, bilge keel,
  anode, overboard valve) it is the outward hull normal and ``center_h`` is the centre of
  the item *on the hull surface*; the box reaches ``depth_m`` inward (a sea chest's recess;
  0 for flat items).
* For the *centred* kinds (bow/stern thruster, rudder, propeller) ``center_h`` is the middle
  of the object and the box reaches ``depth_m / 2`` either way along ``normal_h``:
  a thruster tunnel's axis (+y, ``depth_m`` = tunnel length between its openings), the
  rudder's port face normal (+y, ``depth_m`` = rudder thickness), the propeller shaft
  axis pointing aft (-x, ``depth_m`` covers hub and exposed shaft).
* ``size_m = (width, height)``: width along the hull surface, horizontal-ish (the box's
  ``u`` axis), height across it (the ``v`` axis).

Mesh hulls carry their niche areas in a sidecar JSON next to the mesh,
``<mesh file>.niches.json`` (`sidecar_path`), read by `load_niche_file` and written
atomically by `save_niche_file`.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

NICHE_FILE_FORMAT = "hullwatch-niches"
NICHE_FILE_VERSION = 1
SIDES = ("port", "starboard", "bottom", "centreline")


class NicheKind(str, enum.Enum):
    SEA_CHEST = "sea_chest"
    BOW_THRUSTER = "bow_thruster"
    STERN_THRUSTER = "stern_thruster"
    RUDDER = "rudder"
    PROPELLER = "propeller"
    BILGE_KEEL = "bilge_keel"
    ANODE = "anode"
    OVERBOARD_VALVE = "overboard_valve"


# Kinds whose box is centred on center_h along the normal (see the module docstring).
CENTRED_KINDS = frozenset(
    {NicheKind.BOW_THRUSTER, NicheKind.STERN_THRUSTER, NicheKind.RUDDER, NicheKind.PROPELLER}
)

# Where to look first: kind -> rank, lower first. Data for the planner; a user may pass an
# edited copy, and a NicheArea's own `priority` overrides its kind's rank.
DEFAULT_RISK_ORDER: Mapping[NicheKind, int] = {
    NicheKind.SEA_CHEST: 0,
    NicheKind.BOW_THRUSTER: 1,
    NicheKind.STERN_THRUSTER: 1,
    NicheKind.RUDDER: 2,
    NicheKind.PROPELLER: 2,
    NicheKind.BILGE_KEEL: 3,
    NicheKind.ANODE: 4,
    NicheKind.OVERBOARD_VALVE: 4,
}

_FIELDS = ("name", "kind", "center_h", "normal_h", "size_m", "depth_m", "side", "priority")
_UNIT_TOL = 1e-9
CONTAINS_MARGIN_M = 0.5  # how far round its box a point still counts as in the niche area


class NicheFileError(ValueError):
    """A niche sidecar file that cannot be used; the message names the file and the field."""

    def __init__(self, path: str | os.PathLike, field: str, message: str):
        self.path = str(path)
        self.field = field
        super().__init__(f"{self.path}: {field}: {message}")


class _FieldError(ValueError):
    """Internal: a validation error that knows which field it is about."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.detail = message
        super().__init__(f"{field}: {message}")


class NicheAreaError(ValueError):
    """A bad NicheArea value; `field` names the field, the message names area and field."""

    def __init__(self, name: str, field: str, detail: str):
        self.field = field
        self.detail = detail
        super().__init__(f"niche area {name!r}: {field}: {detail}")


def _vector3(value: Any, field: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _FieldError(field, f"must be 3 numbers, got {value!r}") from None
    if arr.shape != (3,):
        raise _FieldError(field, f"must be 3 numbers, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise _FieldError(field, f"must be finite, got {arr.tolist()}")
    return arr


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _FieldError(field, f"must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise _FieldError(field, f"must be finite, got {out}")
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class NicheArea:
    """One named niche area: an oriented box in the hull frame (see the module docstring)."""

    name: str
    kind: NicheKind
    center_h: np.ndarray
    normal_h: np.ndarray
    size_m: tuple[float, float]
    depth_m: float
    side: str
    priority: int | None = None

    def __post_init__(self):
        try:
            self._validate_and_freeze()
        except _FieldError as exc:
            label = self.name if isinstance(self.name, str) else "?"
            raise NicheAreaError(label, exc.field, exc.detail) from None

    def _validate_and_freeze(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise _FieldError("name", f"must be a non-empty string, got {self.name!r}")
        try:
            kind = NicheKind(self.kind)
        except ValueError:
            allowed = ", ".join(k.value for k in NicheKind)
            raise _FieldError("kind", f"unknown kind {self.kind!r} (one of: {allowed})") from None
        center = _vector3(self.center_h, "center_h")
        normal = _vector3(self.normal_h, "normal_h")
        length = float(np.linalg.norm(normal))
        if length < 1e-6:
            raise _FieldError("normal_h", "must be a non-zero vector")
        if abs(length - 1.0) > _UNIT_TOL:
            normal = normal / length
        size = self.size_m
        if isinstance(size, (str, bytes)) or not hasattr(size, "__len__") or len(size) != 2:
            raise _FieldError("size_m", f"must be [width, height] in metres, got {size!r}")
        size_t = (_number(size[0], "size_m[0]"), _number(size[1], "size_m[1]"))
        if min(size_t) <= 0:
            raise _FieldError("size_m", f"must be positive, got {list(size_t)}")
        depth = _number(self.depth_m, "depth_m")
        if depth < 0:
            raise _FieldError("depth_m", f"must be >= 0, got {depth}")
        if self.side not in SIDES:
            raise _FieldError("side", f"must be one of {SIDES}, got {self.side!r}")
        priority = self.priority
        if priority is not None:
            if isinstance(priority, bool) or not isinstance(priority, (int, np.integer)):
                raise _FieldError("priority", f"must be an integer or null, got {priority!r}")
            priority = int(priority)
        center.setflags(write=False)
        normal.setflags(write=False)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "center_h", center)
        object.__setattr__(self, "normal_h", normal)
        object.__setattr__(self, "size_m", size_t)
        object.__setattr__(self, "depth_m", depth)
        object.__setattr__(self, "priority", priority)

    # -- identity -------------------------------------------------------------------------
    def _key(self) -> tuple:
        return (self.name, self.kind, tuple(self.center_h.tolist()), tuple(self.normal_h.tolist()),
                self.size_m, self.depth_m, self.side, self.priority)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NicheArea):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    # -- geometry -------------------------------------------------------------------------
    @property
    def centred(self) -> bool:
        """True when the box is centred on center_h along the normal (tunnels, rudder, propeller)."""
        return self.kind in CENTRED_KINDS

    def rank(self, risk_order: Mapping[NicheKind, int] | None = None) -> int:
        """Planning rank, lower first: `priority` if set, else the kind's rank in risk_order."""
        if self.priority is not None:
            return self.priority
        order = DEFAULT_RISK_ORDER if risk_order is None else risk_order
        return int(order.get(self.kind, max(order.values(), default=0) + 1))

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Right-handed (u, v, n): u horizontal along the surface (width), v across it
        (height; upward for items on the side), n = normal.

        u = normalize(z_up x n), or +x when n is vertical; v = n x u. Computed once (read-only
        arrays): every hull-surface address asks each niche area.
        """
        cached = self.__dict__.get("_axes")
        if cached is not None:
            return cached
        n = self.normal_h
        u = np.cross(np.array([0.0, 0.0, 1.0]), n)
        if np.linalg.norm(u) < 1e-9:
            u = np.array([1.0, 0.0, 0.0])
        u = u / np.linalg.norm(u)
        v = np.cross(n, u)
        axes = (u, v / np.linalg.norm(v), n)
        for a in axes[:2]:
            a.setflags(write=False)
        object.__setattr__(self, "_axes", axes)
        return axes

    def _normal_range(self, margin_m: float) -> tuple[float, float]:
        if self.centred:
            return -0.5 * self.depth_m - margin_m, 0.5 * self.depth_m + margin_m
        return -self.depth_m - margin_m, margin_m

    def contains(self, points_h: np.ndarray, margin_m: float = CONTAINS_MARGIN_M) -> np.ndarray:
        """Boolean mask (N,) of points (N, 3) inside the box grown by margin_m on every side."""
        pts = np.asarray(points_h, dtype=np.float64)
        single = pts.ndim == 1
        pts = pts.reshape(-1, 3)
        u, v, n = self.axes()
        rel = pts - self.center_h
        a, b, c = rel @ u, rel @ v, rel @ n
        lo, hi = self._normal_range(margin_m)
        mask = ((np.abs(a) <= 0.5 * self.size_m[0] + margin_m)
                & (np.abs(b) <= 0.5 * self.size_m[1] + margin_m)
                & (c >= lo) & (c <= hi))
        return mask[0] if single else mask

    def corners_h(self) -> np.ndarray:
        """(8, 3) box corners (no margin): the 4 outer ones (along +normal) first, each quad
        in the order (-u,-v), (+u,-v), (+u,+v), (-u,+v)."""
        u, v, n = self.axes()
        lo, hi = self._normal_range(0.0)
        hw, hh = 0.5 * self.size_m[0], 0.5 * self.size_m[1]
        quad = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
        out = [self.center_h + a * u + b * v + c * n for c in (hi, lo) for a, b in quad]
        return np.array(out)

    def mirrored(self, name: str) -> "NicheArea":
        """The same area mirrored to the other side (y -> -y), under a new name."""
        flip = np.array([1.0, -1.0, 1.0])
        side = {"port": "starboard", "starboard": "port"}.get(self.side, self.side)
        return dataclasses.replace(self, name=name, center_h=self.center_h * flip,
                                   normal_h=self.normal_h * flip, side=side)

    # -- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "center_h": [float(x) for x in self.center_h],
            "normal_h": [float(x) for x in self.normal_h],
            "size_m": [self.size_m[0], self.size_m[1]],
            "depth_m": self.depth_m,
            "side": self.side,
            "priority": self.priority,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NicheArea":
        """Build from `to_dict` output; a ValueError names the bad field."""
        try:
            return cls(**_checked_kwargs(data))
        except _FieldError as exc:
            name = data.get("name", "?") if isinstance(data, Mapping) else "?"
            raise NicheAreaError(str(name), exc.field, exc.detail) from None


def _checked_kwargs(data: Any) -> dict:
    if not isinstance(data, Mapping):
        raise _FieldError("niche area", f"must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise _FieldError(unknown[0], f"unknown field (known: {', '.join(_FIELDS)})")
    missing = [f for f in _FIELDS if f not in data and f != "priority"]
    if missing:
        raise _FieldError(missing[0], "missing")
    return {f: data[f] for f in _FIELDS if f in data}


# -- sidecar files --------------------------------------------------------------------------
def sidecar_path(mesh_path: str | os.PathLike) -> Path:
    """The niche sidecar of a mesh file: ``hull.stl`` -> ``hull.stl.niches.json``."""
    p = Path(mesh_path)
    return p.with_name(p.name + ".niches.json")


def niche_file_dict(areas: Iterable[NicheArea]) -> dict:
    return {"format": NICHE_FILE_FORMAT, "version": NICHE_FILE_VERSION,
            "niche_areas": [a.to_dict() for a in areas]}


def parse_niche_dict(data: Any, path: str | os.PathLike = "<niche data>") -> tuple[NicheArea, ...]:
    """Validate a decoded sidecar document; NicheFileError names the file and the field."""
    if not isinstance(data, dict):
        raise NicheFileError(path, "(document)", "must be a JSON object")
    if data.get("format") != NICHE_FILE_FORMAT:
        raise NicheFileError(path, "format",
                             f"expected {NICHE_FILE_FORMAT!r}, got {data.get('format')!r}")
    version = data.get("version")
    if version != NICHE_FILE_VERSION or isinstance(version, bool):
        raise NicheFileError(path, "version",
                             f"unsupported version {version!r} (this build reads {NICHE_FILE_VERSION})")
    items = data.get("niche_areas")
    if not isinstance(items, list):
        raise NicheFileError(path, "niche_areas", "must be a list")
    areas: list[NicheArea] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        field_prefix = f"niche_areas[{i}]"
        try:
            area = NicheArea(**_checked_kwargs(item))
        except _FieldError as exc:
            raise NicheFileError(path, f"{field_prefix}.{exc.field}", exc.detail) from None
        except NicheAreaError as exc:
            raise NicheFileError(path, f"{field_prefix}.{exc.field}", exc.detail) from None
        if area.name in seen:
            raise NicheFileError(path, f"{field_prefix}.name",
                                 f"duplicate name {area.name!r} (also niche_areas[{seen[area.name]}])")
        seen[area.name] = i
        areas.append(area)
    return tuple(areas)


def _reject_constant(token: str):
    raise ValueError(f"non-finite number {token}")


def load_niche_file(path: str | os.PathLike) -> tuple[NicheArea, ...]:
    """Read a ``*.niches.json`` sidecar. Raises NicheFileError (a ValueError) naming the field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise NicheFileError(path, "(file)", f"cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise NicheFileError(path, "(json)", f"not valid JSON: {exc}") from None
    return parse_niche_dict(data, path)


def save_niche_file(path: str | os.PathLike, areas: Iterable[NicheArea]) -> Path:
    """Write the sidecar atomically (temp file in the same folder, fsync, os.replace)."""
    areas = tuple(areas)
    names = [a.name for a in areas]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise NicheFileError(path, f"niche_areas[{i}].name", f"duplicate name {name!r}")
    text = json.dumps(niche_file_dict(areas), indent=2, allow_nan=False) + "\n"
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target
