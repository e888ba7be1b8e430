"""Moving a repaired hull mesh into the hull frame H (DESIGN.md "Frames and units").

H: origin at the aft end on the keel (baseline) and the centreline; x forward, y to port,
z up; metres. `normalize_to_hull_frame` finds the units (or takes them), applies the model
scale, finds which file axis is the length, which is vertical and which way is forward (or
takes overrides), and moves the origin. Every guess is said in a note or a warning, with the
option that overrides it.

The origin is placed at the aft end of the mesh (min x), not at the aft perpendicular, which
a mesh alone does not define; a rudder or transom overhang moves it aft of the AP.
"""
from __future__ import annotations

import numpy as np

from .mesh import TriangleMesh
from .mesh_io import HullLoadError

UNITS_TO_M = {"m": 1.0, "cm": 0.01, "mm": 0.001}
MAX_PLAUSIBLE_LENGTH_M = 1000.0        # longer than this in file units: millimetres
SANE_LENGTH_M = (5.0, 500.0)
SANE_BEAM_TO_LENGTH = (0.05, 0.5)
SANE_DEPTH_TO_LENGTH = (0.02, 0.3)
SYMMETRY_SAMPLES = 20000
LOW_BAND_FRACTION = 0.2                # the lowest share of the depth, used to find the stern overhang
UP_BAND_FRACTION = 0.1                 # keel and deck bands compared to find which way is up
UP_AREA_RATIO = 1.03                   # the deck band's plan extent is this much larger than the keel band's
OVERHANG_RATIO = 2.0                   # one end overhangs this much more than the other: the stern
OVERHANG_MIN_FRACTION = 0.01           # ... and by at least this share of the length

_AXES = {"x": 0, "y": 1, "z": 2}


def parse_axis(text: str | None, what: str) -> tuple[int, float] | None:
    """'x', '+y', '-z' -> (axis index, sign); None stays None."""
    if text is None:
        return None
    t = str(text).strip().lower()
    sign = -1.0 if t.startswith("-") else 1.0
    t = t.lstrip("+-")
    if t not in _AXES:
        raise HullLoadError(f"{what} {text!r} is not an axis: use x, y, z, -x, -y or -z")
    return _AXES[t], sign


def normalize_to_hull_frame(mesh: TriangleMesh, *, units: str | None = None, scale: float = 1.0,
                            up_axis: str | None = None, forward_axis: str | None = None):
    """Return (mesh in H, 4x4 transform file -> H, notes, warnings)."""
    notes: list[str] = []
    warnings: list[str] = []
    v = np.asarray(mesh.vertices, dtype=np.float64)
    extent = np.ptp(v, axis=0)
    longest = float(extent.max())
    if longest <= 0:
        raise HullLoadError("the mesh has no extent (all vertices at one point)")

    # ---- units and scale
    if units is None:
        if longest > MAX_PLAUSIBLE_LENGTH_M:
            units_used = "mm"
            warnings.append(f"looks like millimetres (length {longest:.6g}): scaled by 0.001; "
                            "pass --units m if wrong")
        else:
            units_used = "m"
    else:
        units_used = str(units).lower()
        if units_used not in UNITS_TO_M:
            raise HullLoadError(f"--units {units!r} is not known: use m, cm or mm")
    if not np.isfinite(scale) or scale <= 0:
        raise HullLoadError(f"--scale {scale!r} must be a positive number (model-to-full-scale factor)")
    factor = UNITS_TO_M[units_used] * float(scale)
    if units_used != "m":
        notes.append(f"units: {units_used} (x{UNITS_TO_M[units_used]:g} to metres)")
    if scale != 1.0:
        notes.append(f"model scale 1:{scale:g} applied: lengths x{scale:g}")

    # ---- axes
    fwd = parse_axis(forward_axis, "--forward")
    up = parse_axis(up_axis, "--up")
    if fwd is not None and up is not None and fwd[0] == up[0]:
        raise HullLoadError(f"--forward {forward_axis} and --up {up_axis} name the same axis")
    if fwd is None:
        if up is not None:
            others = [a for a in range(3) if a != up[0]]
            length_axis = others[int(np.argmax(extent[others]))]
        else:
            length_axis = int(np.argmax(extent))
    else:
        length_axis = fwd[0]
    if up is None:
        others = [a for a in range(3) if a != length_axis]
        scores = [_asymmetry(v, mesh.faces, a) for a in others]
        vertical = others[int(np.argmax(scores))]
        transverse = others[int(np.argmin(scores))]
        up_sign, up_why = _up_sign(v, vertical, length_axis, transverse)
        up = (vertical, up_sign)
        lo, hi = sorted(scores)
        if hi < 1.5 * lo + 1e-3:
            warnings.append(f"could not tell the vertical axis clearly (asymmetry {scores[0]:.3g} about "
                            f"{'xyz'[others[0]]}, {scores[1]:.3g} about {'xyz'[others[1]]}): took "
                            f"+{'xyz'[vertical]} as up; pass --up if wrong")
        else:
            sgn = "+" if up_sign > 0 else "-"
            notes.append(f"vertical axis: file {sgn}{'xyz'[vertical]} is up (the hull is mirror-symmetric "
                         f"about {'xyz'[transverse]}, not about {'xyz'[vertical]}; {up_why}); pass --up "
                         f"{'-' if up_sign > 0 else '+'}{'xyz'[vertical]} if it is upside down")
            if up_sign < 0 and vertical == 2:
                notes.append("hull was upside down in the file: turned over")
        if vertical != 2:
            notes.append(f"hull was lying on its side (up is the file's {'xyz'[vertical]} axis): rotated to z up")
    if length_axis != 0 and fwd is None:
        notes.append(f"length runs along the file's {'xyz'[length_axis]} axis: rotated to x")

    ez = np.zeros(3)
    ez[up[0]] = up[1]
    if fwd is not None:
        ex = np.zeros(3)
        ex[fwd[0]] = fwd[1]
        notes.append(f"forward: file {'-' if fwd[1] < 0 else '+'}{'xyz'[fwd[0]]} (given)")
    else:
        ex = np.zeros(3)
        ex[length_axis] = 1.0
        sign, why = _bow_direction(v, mesh.faces, length_axis, up[0], up[1])
        ex *= sign
        if sign > 0:
            notes.append(f"forward: file +{'xyz'[length_axis]} ({why}); pass --forward "
                         f"-{'xyz'[length_axis]} if the bow is at the other end")
        else:
            notes.append(f"forward: file -{'xyz'[length_axis]} ({why}): turned end for end; pass --forward "
                         f"{'xyz'[length_axis]} if wrong")
    ey = np.cross(ez, ex)
    rot = np.vstack([ex, ey, ez])            # rows: H axes in file coordinates

    # ---- origin
    p = (v @ rot.T) * factor
    lo, hi = p.min(axis=0), p.max(axis=0)
    shift = np.array([-lo[0], -0.5 * (lo[1] + hi[1]), -lo[2]])
    transform = np.eye(4)
    transform[:3, :3] = rot * factor
    transform[:3, 3] = shift
    out = mesh.transformed(transform)
    if abs(lo[2]) > 1e-9 * max(1.0, hi[2] - lo[2]):
        notes.append(f"keel was at z={lo[2]:.4g} m: moved to z=0")
    if abs(lo[0]) > 1e-9 * max(1.0, hi[0] - lo[0]):
        notes.append(f"aft end was at x={lo[0]:.4g} m: moved to x=0")
    if abs(shift[1]) > 1e-9 * max(1.0, hi[1] - lo[1]):
        notes.append(f"centreline was at y={-shift[1]:.4g} m: moved to y=0")

    # ---- sanity
    length, beam, depth = (hi - lo)
    if not SANE_LENGTH_M[0] <= length <= SANE_LENGTH_M[1]:
        hint = "model scale? pass --scale" if length < SANE_LENGTH_M[0] else "wrong units? pass --units"
        warnings.append(f"a {length:.3g} m hull: {hint}")
    if length > 0 and not SANE_BEAM_TO_LENGTH[0] <= beam / length <= SANE_BEAM_TO_LENGTH[1]:
        warnings.append(f"beam/length {beam / length:.3g} is unusual for a ship (beam {beam:.3g} m, length "
                        f"{length:.3g} m): check the axes (--up, --forward)")
    if length > 0 and not SANE_DEPTH_TO_LENGTH[0] <= depth / length <= SANE_DEPTH_TO_LENGTH[1]:
        warnings.append(f"depth/length {depth / length:.3g} is unusual for a ship (depth {depth:.3g} m): "
                        "check the axes (--up, --forward)")
    return out, transform, notes, warnings


def _area_samples(v, faces, n=SYMMETRY_SAMPLES):
    t = v[faces]
    area = 0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1)
    centers = t.mean(axis=1)
    if len(centers) > n:
        # deterministic: the n largest faces plus a regular stride, so dense patches don't dominate
        idx = np.unique(np.r_[np.argsort(area)[-n // 2:], np.linspace(0, len(centers) - 1, n // 2).astype(int)])
        return centers[idx], area[idx]
    return centers, area


def _asymmetry(v, faces, axis) -> float:
    """How far the surface is from mirror-symmetric about the middle of `axis` (0 = symmetric),
    relative to the extent along the axis."""
    from scipy.spatial import cKDTree

    pts, w = _area_samples(v, faces)
    lo, hi = v[:, axis].min(), v[:, axis].max()
    span = hi - lo
    if span <= 0:
        return 0.0
    mirrored = pts.copy()
    mirrored[:, axis] = (lo + hi) - mirrored[:, axis]
    d, _ = cKDTree(pts).query(mirrored)
    return float(np.average(d, weights=w + 1e-30) / span)


def _up_sign(v, vertical, length_axis, transverse) -> tuple[float, str]:
    """+1 if the file's +vertical is up: the deck band is longer and wider than the keel band
    (overhangs at the ends, bilges and deadrise at the bottom)."""
    z = v[:, vertical]
    zl, zh = float(z.min()), float(z.max())
    band = UP_BAND_FRACTION * (zh - zl)
    bottom = v[z < zl + band]
    top = v[z > zh - band]
    if len(bottom) == 0 or len(top) == 0:
        return 1.0, "no shape cue, kept the file's sign"
    a_bot = np.ptp(bottom[:, length_axis]) * np.ptp(bottom[:, transverse])
    a_top = np.ptp(top[:, length_axis]) * np.ptp(top[:, transverse])
    if a_bot > UP_AREA_RATIO * a_top:
        return -1.0, "the file's high end is narrower and shorter, like a keel"
    if a_top > UP_AREA_RATIO * a_bot:
        return 1.0, "the deck end is longer and wider than the keel end"
    return 1.0, "both ends look alike, kept the file's sign"


def _bow_direction(v, faces, length_axis, up_idx, up_sign) -> tuple[float, str]:
    """+1 if the file's +length_axis end is the bow, -1 if it is the stern, with the reason.

    Cue: the stern overhangs (counter and transom above the propeller and rudder), so the
    lower part of the hull stops well short of the aft end; at the bow the forefoot or the
    bulb runs almost to the extreme end."""
    x = v[:, length_axis]
    z = v[:, up_idx] * up_sign
    lo, hi = float(x.min()), float(x.max())
    length = hi - lo
    zl, zh = float(z.min()), float(z.max())
    low = x[z < zl + LOW_BAND_FRACTION * (zh - zl)]
    if length <= 0 or len(low) == 0:
        return 1.0, "no shape cue: kept the file's direction"
    over_lo = (low.min() - lo) / length
    over_hi = (hi - low.max()) / length
    if over_lo > OVERHANG_RATIO * over_hi and over_lo - over_hi > OVERHANG_MIN_FRACTION:
        return 1.0, (f"the stern overhang ({over_lo:.1%} of the length beyond the bottom) is at the low end, "
                     f"the bow ({over_hi:.1%}) at the high end")
    if over_hi > OVERHANG_RATIO * over_lo and over_hi - over_lo > OVERHANG_MIN_FRACTION:
        return -1.0, (f"the stern overhang ({over_hi:.1%} of the length beyond the bottom) is at the high end, "
                      f"the bow ({over_lo:.1%}) at the low end")
    return 1.0, "both ends look alike: kept the file's direction"
