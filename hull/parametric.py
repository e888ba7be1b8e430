"""A plausible, closed merchant-ship hull from its main dimensions, with its niche areas.

Used when no hull mesh of the vessel is at hand: the dive team types Lpp, beam, draft,
depth and a block coefficient and gets a hull to plan on.

Frame H (DESIGN.md): x forward from the aft perpendicular, y to port, z up from the keel,
metres; design waterline at z = draft.

Shape (all pure numpy):

* Stations at constant x; each half-section is a superellipse quarter from the keel
  centreline to the deck edge, centred on the deck centreline, ``(y/b)^n + ((D-z)/(D-zk))^n
  = 1``: a high exponent in the parallel midbody gives vertical sides, a flat bottom and a
  bilge radius; lower exponents towards the ends give U/V sections with flare.
* Waterlines: a parallel midbody whose length grows with the block coefficient, a fine
  entry to a sharp stem and a run to the stern. One fullness parameter drives midbody
  length, end tapers and section exponents; it is solved (bisection) so that the displaced
  volume below the design waterline matches the requested block coefficient.
* Keel line: flat, rising in a rounded forefoot at the bow and, aft, rising over the run
  to clear the propeller, then along the counter to the stern at x = 0, which ends above
  the waterline: a flat transom (``transom=True``) or a rounded cruiser stern closing to
  the centreline.
* Options: a bulbous bow (an ellipsoid merged into the forebody, its nose ahead of the
  forward perpendicular, below the waterline), a centreline skeg (a fin under the run
  down to the baseline, ending at the sternpost just forward of the propeller).
* The stem meets the design waterline at x = Lpp and rakes forward above it.
* Rudder (a NACA-like foil, trailing edge at x = 0) and propeller (hub and a disc for the
  blades) are separate closed shells: the mesh has several closed shells, none
  intersecting another (a small gap is left between rudder top and hull, propeller hub
  and sternpost). The exposed shaft is not modelled; the propeller niche area covers it.
  Sea-chest recesses, thruster tunnels and bilge keels are niche *regions* only, not cut
  into or added to the mesh.

All geometry lies at x >= 0 (the rudder trailing edge is at x = 0); the bulb and the raked
stem reach forward of x = Lpp.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from hull.mesh import TriangleMesh
from hull.niche import NicheArea, NicheKind

CB_MIN, CB_MAX = 0.35, 0.9
L_OVER_B_RANGE = (2.0, 12.0)
B_OVER_T_RANGE = (1.0, 8.0)
LENGTH_RANGE_M = (5.0, 500.0)
_MAX_STATIONS = 4000


class HullDimensionError(ValueError):
    """Bad main dimensions; `field` names the offending field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclasses.dataclass(frozen=True)
class HullDimensions:
    """Main dimensions, metres. length_m is Lpp (aft perpendicular x=0 to the stem at the
    design waterline); depth_m is keel to main deck; block_coefficient is the displaced
    volume below the design draft over length*beam*draft."""

    length_m: float
    beam_m: float
    draft_m: float
    depth_m: float
    block_coefficient: float = 0.7
    bulbous_bow: bool = True
    transom: bool = True
    skeg: bool = True

    def validate(self) -> None:
        for name in ("length_m", "beam_m", "draft_m", "depth_m", "block_coefficient"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise HullDimensionError(name, f"must be a number, got {value!r}")
            if not math.isfinite(value):
                raise HullDimensionError(name, f"must be finite, got {value}")
            if value <= 0:
                raise HullDimensionError(name, f"must be positive, got {value:g}")
        for name in ("bulbous_bow", "transom", "skeg"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise HullDimensionError(name, f"must be true or false, got {getattr(self, name)!r}")
        L, B, T, D = self.length_m, self.beam_m, self.draft_m, self.depth_m
        lo, hi = LENGTH_RANGE_M
        if not lo <= L <= hi:
            raise HullDimensionError("length_m", f"length {L:g} m is outside {lo:g}..{hi:g} m")
        if T >= D:
            raise HullDimensionError(
                "draft_m", f"draft {T:g} m is deeper than the hull depth {D:g} m")
        if not CB_MIN <= self.block_coefficient <= CB_MAX:
            raise HullDimensionError(
                "block_coefficient",
                f"block coefficient {self.block_coefficient:g} is outside {CB_MIN:g}..{CB_MAX:g}")
        lo, hi = L_OVER_B_RANGE
        if not lo <= L / B <= hi:
            raise HullDimensionError(
                "beam_m", f"length/beam {L / B:.2f} (beam {B:g} m) is outside {lo:g}..{hi:g}")
        lo, hi = B_OVER_T_RANGE
        if not lo <= B / T <= hi:
            raise HullDimensionError(
                "draft_m", f"beam/draft {B / T:.2f} (draft {T:g} m) is outside {lo:g}..{hi:g}")
        if D > 0.8 * B + T:
            raise HullDimensionError(
                "depth_m", f"depth {D:g} m is implausibly large for beam {B:g} m and draft {T:g} m")


@dataclasses.dataclass(frozen=True, eq=False)
class ParametricHull:
    """mesh: the closed hull (several closed shells: hull, rudder, propeller), outward
    normals. shells: (name, first face, end face) for each shell in mesh.faces.
    block_coefficient: achieved (hull shell volume below the draft / (L*B*T)); when the
    request is beyond the shape family (about 0.33..0.90 with a transom, 0.30..0.88 with a
    cruiser stern) this is the nearest value reached, not the request."""

    mesh: TriangleMesh
    niche_areas: tuple[NicheArea, ...]
    dims: HullDimensions
    block_coefficient: float
    displaced_volume_m3: float
    shells: tuple[tuple[str, int, int], ...]

    def shell_mesh(self, name: str) -> TriangleMesh:
        for shell, start, stop in self.shells:
            if shell == name:
                faces = self.mesh.faces[start:stop]
                used, inverse = np.unique(faces, return_inverse=True)
                return TriangleMesh(self.mesh.vertices[used], inverse.reshape(-1, 3))
        raise KeyError(name)


# ---------------------------------------------------------------------------------------
# geometry helpers


def volume_below_m3(mesh: TriangleMesh, z_m: float) -> float:
    """Volume of a closed, outward mesh below the plane z = z_m (exact for the triangles).

    Divergence theorem with the field (0, 0, min(z - z_m, 0)), integrated exactly over each
    triangle's projection on the xy plane.
    """
    t = mesh.triangles()
    a, b, c = t[:, 0], t[:, 1], t[:, 2]
    axy = 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
    h = np.sort(t[:, :, 2] - z_m, axis=1)
    h1, h2, h3 = h[:, 0], h[:, 1], h[:, 2]
    mean = (h1 + h2 + h3) / 3.0
    out = np.zeros(len(t))
    all_below = h3 <= 0
    out[all_below] = mean[all_below]
    one_below = (h1 < 0) & (h2 >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        v1 = h1 ** 3 / (3.0 * (h1 - h2) * (h1 - h3))
        two_below = (h2 < 0) & (h3 > 0)
        v2 = mean - h3 ** 3 / (3.0 * (h3 - h1) * (h3 - h2))
    out[one_below] = v1[one_below]
    out[two_below] = v2[two_below]
    return float((axy * out).sum())


def _smoothstep(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _revolve(profile_xr: np.ndarray, axis_yz: tuple[float, float], n_seg: int):
    """Closed solid of revolution about a line parallel to x. profile (P, 2) of (x, r) with
    r = 0 at both ends. Returns vertices, faces (outward)."""
    prof = np.asarray(profile_xr, float)
    inner = prof[1:-1]
    ang = np.linspace(0.0, 2 * np.pi, n_seg, endpoint=False)
    y0, z0 = axis_yz
    ring = np.stack([
        np.repeat(inner[:, 0], n_seg),
        y0 + (inner[:, 1:2] * np.cos(ang)).ravel(),
        z0 + (inner[:, 1:2] * np.sin(ang)).ravel(),
    ], axis=1)
    verts = np.vstack([[prof[0, 0], y0, z0], ring, [prof[-1, 0], y0, z0]])
    n_in = len(inner)
    idx = 1 + np.arange(n_in * n_seg).reshape(n_in, n_seg)
    nxt = np.roll(idx, -1, axis=1)
    faces = [np.stack([np.zeros(n_seg, int), nxt[0], idx[0]], 1)]
    for k in range(n_in - 1):
        a, b, c, d = idx[k], nxt[k], nxt[k + 1], idx[k + 1]
        faces += [np.stack([a, b, c], 1), np.stack([a, c, d], 1)]
    last = len(verts) - 1
    faces.append(np.stack([np.full(n_seg, last), idx[-1], nxt[-1]], 1))
    return _orient_outward(verts, np.vstack(faces))


def _extrude_z(loop_xy: np.ndarray, z0: float, z1: float):
    """Closed prism of a convex polygon (P, 2) between z0 and z1, outward."""
    loop = np.asarray(loop_xy, float)
    p = len(loop)
    bottom = np.column_stack([loop, np.full(p, z0)])
    top = np.column_stack([loop, np.full(p, z1)])
    centre = loop.mean(axis=0)
    verts = np.vstack([bottom, top, [[*centre, z0], [*centre, z1]]])
    i = np.arange(p)
    j = (i + 1) % p
    faces = np.vstack([
        np.stack([i, j, j + p], 1), np.stack([i, j + p, i + p], 1),
        np.stack([np.full(p, 2 * p), j, i], 1),
        np.stack([np.full(p, 2 * p + 1), i + p, j + p], 1),
    ])
    return _orient_outward(verts, faces)


def _orient_outward(verts, faces):
    t = verts[faces]
    vol = np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6.0
    return verts, (faces if vol > 0 else faces[:, ::-1])


# ---------------------------------------------------------------------------------------
# the hull shape


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Stern arrangement and fixed features derived from the main dimensions."""

    prop_diameter: float
    z_prop: float
    x_rudder_te: float
    x_rudder_le: float
    rudder_thickness: float
    z_rudder_bottom: float
    z_rudder_top: float
    x_hub_aft: float
    x_disc_aft: float
    x_disc_fwd: float
    x_hub_fwd: float
    hub_radius: float
    x_sternpost: float
    z_counter_start: float  # keel-line height at the sternpost (clears the propeller)
    z_stern: float  # keel-line height at x = 0 (above the waterline)
    x_run_keel: float  # forward end of the keel rise aft
    skeg_ramp: float
    skeg_half_thickness: float
    forefoot_length: float
    forefoot_rise: float
    shift_length: float
    rake_tan: float
    bulb: tuple[float, float, float, float, float] | None  # x_c, a_x, z_c, r_z, r_y

    @staticmethod
    def from_dims(d: HullDimensions) -> "_Layout":
        L, B, T, D = d.length_m, d.beam_m, d.draft_m, d.depth_m
        dp = 0.62 * T
        r = dp / 2
        z_prop = r + 0.08 * T
        chord = 0.9 * dp
        x_rle = chord
        x_hub_aft = x_rle + 0.12 * dp
        x_disc_aft = x_hub_aft + 0.06 * dp
        x_disc_fwd = x_disc_aft + 0.12 * dp
        x_hub_fwd = x_disc_fwd + 0.08 * dp
        x_sp = x_hub_fwd + 0.03 * dp
        z_cs = z_prop + r + 0.1 * dp
        z_stern = T + 0.15 * (D - T)
        run_rise = min(2.8 * z_cs, 0.3 * L)
        bulb = None
        if d.bulbous_bow:
            nose = L + 0.035 * L
            a_x = 0.07 * L
            bulb = (nose - a_x, a_x, 0.5 * T, 0.38 * T, min(0.09 * B, 0.35 * T))
        return _Layout(
            prop_diameter=dp, z_prop=z_prop, x_rudder_te=0.0, x_rudder_le=x_rle,
            rudder_thickness=0.18 * chord, z_rudder_bottom=z_prop - r,
            z_rudder_top=z_cs - 0.04 * dp,
            x_hub_aft=x_hub_aft, x_disc_aft=x_disc_aft, x_disc_fwd=x_disc_fwd, x_hub_fwd=x_hub_fwd,
            hub_radius=0.1 * dp, x_sternpost=x_sp, z_counter_start=z_cs, z_stern=z_stern,
            x_run_keel=x_sp + run_rise, skeg_ramp=0.15 * dp,
            skeg_half_thickness=min(0.1 * dp, 0.04 * B),
            forefoot_length=min(1.5 * T, 0.08 * L),
            forefoot_rise=(0.1 if d.bulbous_bow else 0.35) * T,
            shift_length=0.05 * L, rake_tan=math.tan(math.radians(20.0)), bulb=bulb)


class _Shape:
    """The hull surface as a function of base station xb and girth coordinate s (port side).

    s in [0, 1] runs over the body section from the keel centreline (0) to the deck edge
    (1); with a skeg, s in [-1, 0) runs over the fin (keel centreline at s = -1).
    """

    N_FIN = 3  # girth points on the skeg fin (besides keel and fin top)

    def __init__(self, dims: HullDimensions, fullness: float, layout: _Layout):
        self.d = dims
        self.p = float(fullness)
        self.lay = layout
        L = dims.length_m
        p = self.p
        mid = 0.72 * p ** 1.3 * L
        # entry slightly longer than the run
        rest = L - mid
        self.x_ra = max(0.45 * rest, layout.x_run_keel + 0.02 * L) if mid > 0 else 0.45 * L
        self.x_ra = min(self.x_ra, 0.5 * L)
        self.x_fe = max(self.x_ra + mid, self.x_ra + 1e-6)
        self.x_fe = min(self.x_fe, L - max(0.08 * L, layout.forefoot_length))
        self.x_fe = max(self.x_fe, self.x_ra)
        self.k_entry = 1.0 + 3.5 * p
        self.k_run = 1.1 + 3.5 * p
        self.n_mid = 1.8 + 12.0 * p
        self.n_end = 1.2 + 1.8 * p
        self.b_transom = 0.45 + 0.35 * p if dims.transom else 0.0

    # -- lengthwise functions of the base station --------------------------------------------
    def _entry_xi(self, xb):
        L = self.d.length_m
        return np.clip((xb - self.x_fe) / max(L - self.x_fe, 1e-9), 0.0, 1.0)

    def _run_xi(self, xb):
        return np.clip((self.x_ra - xb) / max(self.x_ra, 1e-9), 0.0, 1.0)

    def halfbreadth(self, xb):
        """Deck-edge half-breadth factor (0..1)."""
        xe, xr = self._entry_xi(xb), self._run_xi(xb)
        fwd = 1.0 - xe ** self.k_entry
        if self.d.transom:
            aft = 1.0 - (1.0 - self.b_transom) * xr ** self.k_run
        else:
            aft = np.sqrt(np.clip(1.0 - xr ** self.k_run, 0.0, 1.0))
        return np.where(xb >= self.x_fe, fwd, np.where(xb <= self.x_ra, aft, 1.0))

    def exponent(self, xb):
        xe, xr = self._entry_xi(xb), self._run_xi(xb)
        xi = np.maximum(xe, xr)
        return self.n_mid + (self.n_end - self.n_mid) * xi ** 0.8

    def keel(self, xb):
        """Body bottom height on the centreline (the keel line without the skeg)."""
        lay, L = self.lay, self.d.length_m
        xb = np.asarray(xb, float)
        z = np.zeros_like(xb)
        ff0 = L - lay.forefoot_length
        xi = np.clip((xb - ff0) / lay.forefoot_length, 0.0, 1.0)
        z = np.where(xb > ff0, lay.forefoot_rise * (1.0 - np.sqrt(1.0 - xi ** 2)), z)
        xs, xr = lay.x_sternpost, lay.x_run_keel
        run = lay.z_counter_start * np.clip((xr - xb) / (xr - xs), 0.0, 1.0) ** 1.6
        z = np.where((xb < xr) & (xb >= xs), run, z)
        counter = lay.z_counter_start + (lay.z_stern - lay.z_counter_start) * \
            np.clip((xs - xb) / xs, 0.0, 1.0) ** 1.3
        return np.where(xb < xs, counter, z)

    def skeg_bottom(self, xb):
        zk = self.keel(xb)
        if not self.d.skeg:
            return zk
        lay = self.lay
        frac = np.clip((xb - lay.x_sternpost) / lay.skeg_ramp, 0.0, 1.0)
        return np.where(xb <= lay.x_sternpost, zk, zk * (1.0 - _smoothstep(frac)))

    def shift_weight(self, xb):
        L = self.d.length_m
        return _smoothstep((xb - (L - self.lay.shift_length)) / self.lay.shift_length)

    # -- the section -------------------------------------------------------------------------
    @staticmethod
    def body_phi(s, beta):
        """Ray angle from the deck centre: tan-spaced so a box section gets even spacing."""
        s = np.asarray(s, float)
        bottom = np.arctan(np.clip(s / beta, 0, 1))
        side = 0.5 * np.pi - np.arctan(np.clip((1.0 - s) / (1.0 - beta), 0, 1))
        return np.where(s <= beta, bottom, side)

    @property
    def beta(self) -> float:
        half_b = 0.5 * self.d.beam_m
        return half_b / (half_b + self.d.depth_m)

    def _section_yz(self, xb, s):
        """(y, z) before the bow shift and bulb; xb (N, 1) or scalar, s (S,)."""
        D = self.d.depth_m
        b = 0.5 * self.d.beam_m * self.halfbreadth(xb)
        zk = self.keel(xb)
        n = self.exponent(xb)
        s = np.asarray(s, float)
        t_fin = np.minimum(self.lay.skeg_half_thickness, 0.5 * b) if self.d.skeg else 0.0 * b
        phi = self.body_phi(np.clip(s, 0.0, 1.0), self.beta)
        sn, cs = np.sin(phi), np.cos(phi)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            r = (sn ** n + cs ** n) ** (-1.0 / n)
        eta = np.clip(r * sn, 0.0, 1.0)
        zeta = np.clip(1.0 - r * cs, 0.0, 1.0)
        y = t_fin + (b - t_fin) * eta
        z = zk + (D - zk) * zeta
        if self.d.skeg:
            zs = self.skeg_bottom(xb)
            h = zk - zs
            w = np.clip(s + 1.0, 0.0, 1.0)
            path = t_fin + h
            w1 = 1.0 / (self.N_FIN + 1)
            corner = np.where(w <= w1, t_fin * w / w1, t_fin + h * (w - w1) / (1.0 - w1))
            lam = h / (h + t_fin + 1e-12)
            pp = (1.0 - lam) * path * w + lam * corner
            yf = np.minimum(pp, t_fin)
            zf = zs + np.maximum(pp - t_fin, 0.0)
            fin = s < 0
            y = np.where(fin, yf, y)
            z = np.where(fin, zf, z)
        return y, z

    def nose_shift(self, z_end):
        """Forward shift of each girth line at the stem: rake above the waterline, bulb nose."""
        T, L = self.d.draft_m, self.d.length_m
        shift = np.maximum(z_end - T, 0.0) * self.lay.rake_tan
        if self.lay.bulb is not None:
            xc, ax, zc, rz, _ = self.lay.bulb
            arg = 1.0 - ((z_end - zc) / rz) ** 2
            nose = xc + ax * np.sqrt(np.clip(arg, 0.0, None))
            shift = np.maximum(shift, np.where(arg > 0, nose - L, 0.0))
        return shift

    def bulb_y(self, x, z):
        if self.lay.bulb is None:
            return np.zeros(np.broadcast(x, z).shape)
        xc, ax, zc, rz, ry = self.lay.bulb
        arg = 1.0 - ((x - xc) / ax) ** 2 - ((z - zc) / rz) ** 2
        return ry * np.sqrt(np.clip(arg, 0.0, None))

    def surface(self, xb, s):
        """Port-side points (N, S, 3) for base stations xb (N,) and girth coordinates s (S,)."""
        xb = np.atleast_1d(np.asarray(xb, float))
        s = np.atleast_1d(np.asarray(s, float))
        y, z = self._section_yz(xb[:, None], s[None, :])
        _, z_end = self._section_yz(np.array([[self.d.length_m]]), s[None, :])
        x = xb[:, None] + self.shift_weight(xb)[:, None] * self.nose_shift(z_end)
        x = np.broadcast_to(x, y.shape)
        y = np.maximum(y, self.bulb_y(x, z))
        y = np.where(xb[:, None] >= self.d.length_m, 0.0, y)
        return np.stack([x, y, np.broadcast_to(z, y.shape)], axis=-1)

    def girth_coords(self, n_body: int) -> np.ndarray:
        body = np.linspace(0.0, 1.0, n_body + 1)
        if not self.d.skeg:
            return body
        fin = -1.0 + np.arange(self.N_FIN + 1) / (self.N_FIN + 1)
        return np.concatenate([fin, body])


# ---------------------------------------------------------------------------------------
# meshing


def _stations(shape: _Shape, res: float) -> np.ndarray:
    d, lay = shape.d, shape.lay
    L = d.length_m
    n = max(int(math.ceil(L / res)), 8)
    xs = [np.linspace(0.0, L, n + 1)]
    fine = 0.5 * L / n
    aft_end = min(lay.x_run_keel + lay.z_counter_start, 0.5 * L)
    xs.append(np.arange(0.0, aft_end, fine))
    xs.append(np.arange(L - max(lay.shift_length, lay.forefoot_length), L, fine))
    key = [0.0, L, lay.x_sternpost, lay.x_run_keel, shape.x_ra, shape.x_fe,
           L - lay.forefoot_length, L - lay.shift_length]
    if d.skeg:
        key += [lay.x_sternpost + lay.skeg_ramp * f for f in (0.25, 0.5, 0.75, 1.0)]
    key = _thin(np.sort(np.clip(key, 0.0, L)), 1e-6 * L)
    cand = np.sort(np.concatenate(xs))
    near_key = np.min(np.abs(cand[:, None] - key[None, :]), axis=1) < 0.3 * fine
    out = np.sort(np.concatenate([_thin(cand[~near_key], 0.3 * fine), key]))
    if len(out) > _MAX_STATIONS:
        raise HullDimensionError("resolution_m", f"{res:g} m gives too many stations ({len(out)})")
    return out


def _thin(x: np.ndarray, min_gap: float) -> np.ndarray:
    """Sorted x without points closer than min_gap to the previous kept one."""
    keep = []
    for v in x:
        if not keep or v - keep[-1] >= min_gap:
            keep.append(v)
    return np.array(keep)


def _hull_shell(shape: _Shape, res: float) -> tuple[np.ndarray, np.ndarray]:
    d = shape.d
    xb = _stations(shape, res)
    girth_m = 0.5 * d.beam_m + d.depth_m
    n_body = int(np.clip(round(girth_m / res), 16, 64))
    s = shape.girth_coords(n_body)
    port = shape.surface(xb, s)  # (N, S, 3)
    n_st, n_s = port.shape[:2]
    n_deck = int(np.clip(round(d.beam_m / (2.0 * res)), 4, 16))
    edge = port[:, -1, :]
    k = np.arange(1, n_deck)
    deck = np.repeat(edge[:, None, :], n_deck - 1, axis=1).copy()
    deck[:, :, 1] = edge[:, None, 1] * (1.0 - 2.0 * k / n_deck)[None, :]
    stbd = port[:, 1:, :][:, ::-1, :].copy()
    stbd[:, :, 1] *= -1.0
    ring = np.concatenate([port, deck, stbd], axis=1)  # CCW about +x
    R = ring.shape[1]
    ids = np.arange(n_st * R).reshape(n_st, R)
    collapsed = [n_st - 1] + ([] if d.transom else [0])
    for i in collapsed:
        ring[i, :, 1] = 0.0
        _, first, inv = np.unique(np.round(ring[i], 9), axis=0, return_index=True, return_inverse=True)
        ids[i] = ids[i][first[inv.ravel()]]
    verts = ring.reshape(-1, 3)
    a = ids[:-1]
    b = np.roll(ids[:-1], -1, axis=1)
    c = np.roll(ids[1:], -1, axis=1)
    dd = ids[1:]
    faces = [np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, dd], -1).reshape(-1, 3)]
    if d.transom:
        # flat transom at x = 0: a fan from an interior point (the section is convex)
        loop = ids[0]
        centre = ring[0].mean(axis=0)
        centre[1] = 0.0
        ci = len(verts)
        verts = np.vstack([verts, centre])
        cap = np.stack([np.full(R, ci), np.roll(loop, -1), loop], axis=1)
        faces.append(cap)
    faces = np.vstack(faces)
    ok = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    faces = faces[ok]
    used, inverse = np.unique(faces, return_inverse=True)
    return verts[used], inverse.reshape(-1, 3)


def _naca_loop(chord: float, thickness: float, x_te: float, n: int = 14) -> np.ndarray:
    """Symmetric foil outline (P, 2) in (x, y): leading edge forward (+x), closed trailing edge."""
    beta = np.linspace(0.0, np.pi, n + 1)
    xc = 0.5 * (1.0 - np.cos(beta))  # 0 at leading edge .. 1 at trailing edge
    tc = thickness / chord
    yt = 5.0 * tc * (0.2969 * np.sqrt(xc) - 0.1260 * xc - 0.3516 * xc ** 2
                     + 0.2843 * xc ** 3 - 0.1036 * xc ** 4) * chord
    x = x_te + chord * (1.0 - xc)
    upper = np.column_stack([x[:-1], yt[:-1]])  # LE .. before TE (port)
    lower = np.column_stack([x[1:][::-1][:-1], -yt[1:][::-1][:-1]])  # TE .. after LE (stbd)
    return np.vstack([upper, np.column_stack([x[-1:], [0.0]]), lower[1:]])


def _appendages(lay: _Layout) -> list[tuple[str, np.ndarray, np.ndarray]]:
    chord = lay.x_rudder_le - lay.x_rudder_te
    loop = _naca_loop(chord, lay.rudder_thickness, lay.x_rudder_te)
    rudder = _extrude_z(loop, lay.z_rudder_bottom, lay.z_rudder_top)
    r = 0.5 * lay.prop_diameter
    rh = lay.hub_radius
    profile = np.array([
        [lay.x_hub_aft, 0.0], [lay.x_hub_aft, 0.6 * rh], [lay.x_disc_aft - 0.02 * r, rh],
        [lay.x_disc_aft, rh], [lay.x_disc_aft, r], [lay.x_disc_fwd, r], [lay.x_disc_fwd, rh],
        [lay.x_hub_fwd, rh], [lay.x_hub_fwd, 0.0],
    ])
    prop = _revolve(profile, (0.0, lay.z_prop), 36)
    return [("rudder", *rudder), ("propeller", *prop)]


# ---------------------------------------------------------------------------------------
# niche areas


def _port_point(shape: _Shape, xb: float, z_target: float, *, s_min: float = 0.0):
    """Port hull point at base station xb and height z_target (on the side), with its
    outward unit normal."""
    s = np.linspace(s_min, 1.0, 2001)
    pts = shape.surface([xb], s)[0]
    z = pts[:, 2]
    if not z[0] <= z_target <= z[-1]:
        raise ValueError(f"no hull at x={xb:.2f} m, z={z_target:.2f} m")
    j = int(np.clip(np.searchsorted(z, z_target), 1, len(s) - 1))
    f = (z_target - z[j - 1]) / max(z[j] - z[j - 1], 1e-12)
    s_hit = s[j - 1] + f * (s[j] - s[j - 1])
    return _point_and_normal(shape, xb, s_hit)


def _point_and_normal(shape: _Shape, xb: float, s_hit: float):
    L = shape.d.length_m
    p = shape.surface([xb], [s_hit])[0, 0]
    ds, dx = 1e-4, max(1e-3 * L, 1e-3)
    s_lo, s_hi = max(s_hit - ds, -1.0 if shape.d.skeg else 0.0), min(s_hit + ds, 1.0)
    x_lo, x_hi = max(xb - dx, 0.0), min(xb + dx, L)
    dps = shape.surface([xb], [s_hi])[0, 0] - shape.surface([xb], [s_lo])[0, 0]
    dpx = shape.surface([x_hi], [s_hit])[0, 0] - shape.surface([x_lo], [s_hit])[0, 0]
    n = np.cross(dps, dpx)
    return p, n / np.linalg.norm(n)


def _niche_areas(shape: _Shape, lay: _Layout, dims: HullDimensions) -> tuple[NicheArea, ...]:
    L, B, T = dims.length_m, dims.beam_m, dims.draft_m
    port: list[NicheArea] = []

    def add(name, kind, xb, z, size, depth=0.0, s_min=0.0):
        p, n = _port_point(shape, xb, z, s_min=s_min)
        port.append(NicheArea(name=name, kind=kind, center_h=p, normal_h=n, size_m=size,
                              depth_m=depth, side="port"))

    # sea chests: engine room, low on the side just above the bilge
    x_sc = min(max(0.15 * L, lay.x_run_keel + 0.03 * L), 0.4 * L)
    sc_size = (min(2.0, 0.05 * L), min(1.5, 0.15 * T))
    add("sea chest P1", NicheKind.SEA_CHEST, x_sc, 0.25 * T, sc_size, depth=min(0.8, 0.05 * B))
    # overboard valves: on the side above the bilge, near the engine room
    gap = max(3.0, 0.02 * L)
    vsize = (min(0.4, 0.05 * T), min(0.4, 0.05 * T))
    add("overboard valve P1", NicheKind.OVERBOARD_VALVE, x_sc + gap, 0.5 * T, vsize)
    add("overboard valve P2", NicheKind.OVERBOARD_VALVE, x_sc + 2 * gap, 0.7 * T, vsize)
    # anodes on the stern area, above the propeller aperture
    asize = (min(0.8, 0.1 * T), min(0.3, 0.04 * T))
    for i, xa in enumerate((lay.x_sternpost + 0.6 * T, lay.x_sternpost + 1.4 * T), start=1):
        xa = min(xa, 0.45 * L)
        za = float(min(max(0.6 * T, shape.keel(xa) + 0.15 * T), 0.92 * T))
        add(f"anode P{i}", NicheKind.ANODE, xa, za, asize, s_min=0.0)
    # bilge keel: turn of the bilge along the midbody, about a quarter of the length
    x_mid = 0.5 * (shape.x_ra + shape.x_fe) if shape.x_fe - shape.x_ra > 0.1 * L else 0.5 * L
    p, n = _point_and_normal(shape, x_mid, shape.beta)
    port.append(NicheArea(name="bilge keel P", kind=NicheKind.BILGE_KEEL, center_h=p,
                          normal_h=n, size_m=(0.25 * L, float(np.clip(0.012 * B, 0.2, 0.6))),
                          depth_m=0.0, side="port"))

    areas: list[NicheArea] = []
    for a in port:
        areas.append(a)
        areas.append(a.mirrored(a.name[:-2] + "S" + a.name[-1] if a.name[-2] == "P"
                                else a.name[:-1] + "S"))

    # thruster tunnels: transverse, below the waterline; box centred on the centreline
    d_t = 0.07 * B
    thrusters = [("bow thruster", NicheKind.BOW_THRUSTER, L - max(0.065 * L, 1.2 * T))]
    if L > 150.0:
        x_st = min(max(lay.x_run_keel + 0.5 * d_t, 0.1 * L), 0.3 * L)
        thrusters.append(("stern thruster", NicheKind.STERN_THRUSTER, x_st))
    for name, kind, xt in thrusters:
        zt = float(np.clip(max(0.55 * T, shape.keel(xt) + 0.8 * d_t), 0.0, T - 0.6 * d_t))
        p, _ = _port_point(shape, xt, zt)
        areas.append(NicheArea(name=name, kind=kind, center_h=(p[0], 0.0, zt),
                               normal_h=(0.0, 1.0, 0.0), size_m=(d_t, d_t),
                               depth_m=2.0 * p[1], side="centreline"))

    chord = lay.x_rudder_le - lay.x_rudder_te
    areas.append(NicheArea(
        name="rudder", kind=NicheKind.RUDDER,
        center_h=(lay.x_rudder_te + 0.5 * chord, 0.0, 0.5 * (lay.z_rudder_bottom + lay.z_rudder_top)),
        normal_h=(0.0, 1.0, 0.0), size_m=(chord, lay.z_rudder_top - lay.z_rudder_bottom),
        depth_m=lay.rudder_thickness, side="centreline"))
    # propeller + shaft: centred on the disc, axis pointing aft, long enough forward to
    # reach the sternpost (skeg) or where the shaft enters the rising bottom
    x_disc = 0.5 * (lay.x_disc_aft + lay.x_disc_fwd)
    x_shaft = lay.x_sternpost
    if not dims.skeg:
        xs = np.linspace(lay.x_sternpost, lay.x_run_keel, 400)
        below = shape.keel(xs) <= lay.z_prop
        x_shaft = float(xs[np.argmax(below)]) if below.any() else lay.x_run_keel
    areas.append(NicheArea(
        name="propeller", kind=NicheKind.PROPELLER, center_h=(x_disc, 0.0, lay.z_prop),
        normal_h=(-1.0, 0.0, 0.0), size_m=(lay.prop_diameter, lay.prop_diameter),
        depth_m=2.0 * (x_shaft - x_disc), side="centreline"))
    return tuple(areas)


# ---------------------------------------------------------------------------------------
# the entry point


def _hull_cb(dims: HullDimensions, lay: _Layout, p: float, res: float):
    v, f = _hull_shell(_Shape(dims, p, lay), res)
    vol = volume_below_m3(TriangleMesh(v, f), dims.draft_m)
    return vol / (dims.length_m * dims.beam_m * dims.draft_m), vol, (v, f)


def parametric_hull(dims: HullDimensions, *, resolution_m: float | None = None) -> ParametricHull:
    """Build a closed hull (hull, rudder and propeller shells) and its niche areas.

    resolution_m: station spacing (default Lpp/200); girth spacing is similar. The
    fullness is solved so the achieved block coefficient is as close to the requested one
    as the shape family allows (reported in ParametricHull.block_coefficient).
    """
    dims.validate()
    L = dims.length_m
    res = L / 200.0 if resolution_m is None else resolution_m
    if isinstance(res, bool) or not isinstance(res, (int, float)) or not math.isfinite(res) or res <= 0:
        raise HullDimensionError("resolution_m", f"must be a positive number, got {res!r}")
    if L / res > _MAX_STATIONS / 2:
        raise HullDimensionError("resolution_m", f"{res:g} m is too fine for a {L:g} m hull")
    lay = _Layout.from_dims(dims)
    target = dims.block_coefficient
    lo, hi = 0.0, 1.0
    cb_lo, _, best_lo = _hull_cb(dims, lay, lo, res)
    cb_hi, _, best_hi = _hull_cb(dims, lay, hi, res)
    if target <= cb_lo:
        p, cb = lo, cb_lo
    elif target >= cb_hi:
        p, cb = hi, cb_hi
    else:
        p, cb = 0.5, None
        for it in range(40):
            if it % 3 == 2:  # a bisection step now and then: regula falsi alone can stall
                p = 0.5 * (lo + hi)
            else:
                p = lo + (hi - lo) * (target - cb_lo) / (cb_hi - cb_lo)
                p = float(np.clip(p, lo + 1e-4 * (hi - lo), hi - 1e-4 * (hi - lo)))
            cb, _, _ = _hull_cb(dims, lay, p, res)
            if abs(cb - target) < 5e-4:
                break
            if cb < target:
                lo, cb_lo = p, cb
            else:
                hi, cb_hi = p, cb
    shape = _Shape(dims, p, lay)
    cb, vol, (hv, hf) = _hull_cb(dims, lay, p, res)
    verts, faces, shells = [hv], [hf], [("hull", 0, len(hf))]
    offset, n_faces = len(hv), len(hf)
    for name, v, f in _appendages(lay):
        verts.append(v)
        faces.append(f + offset)
        shells.append((name, n_faces, n_faces + len(f)))
        offset += len(v)
        n_faces += len(f)
    mesh = TriangleMesh(np.vstack(verts), np.vstack(faces))
    return ParametricHull(mesh=mesh, niche_areas=_niche_areas(shape, lay, dims), dims=dims,
                          block_coefficient=float(cb), displaced_volume_m3=float(vol),
                          shells=tuple(shells))
