"""The hull expansion: the wetted hull unrolled flat, the picture that goes in a report.

Three panels, one above the other, x (m from the stern) running left to right in each:
  PORT       girth from the waterline (m) downwards, waterline at the panel's top edge;
  BOTTOM     y (m) across the flat of bottom, port at the top edge, starboard at the foot;
  STARBOARD  like PORT (waterline at its top edge), so the two sides read the same way.

Unrolling. The hull is cut at stations every station_m; at each station the side's
section (faces not facing down: outward normal z >= hull.queries.BOTTOM_NORMAL_Z, the
rule SurfaceAddress uses for "bottom") is reduced to its outer half-breadth |y|(z) and its
girth measured by arc length from the waterline down: a point on the side is drawn at
(x, girth at its z). The side ends, going down, where the plating turns to face down
(the bilge) or where the outer breadth jumps (a stern overhang above a skeg); below that
level a point belongs to the bottom, drawn in plan (x, y) -- so at the stern the skeg,
rudder and the overhang's underside are drawn in plan, approximately. Girth
keeps side areas right; the plan view of the bottom shrinks only the part of the bilge
that slopes more than 45 degrees (a few percent of the wetted area on a full hull).

Pure numpy + cv2 (no Open3D): it runs on the worker that writes the report.
"""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from hull.mesh import TriangleMesh
from hull.queries import BOTTOM_NORMAL_Z
from hull.surface_samples import DEFAULT_SAMPLE_AREA_M2

from .export import COVERAGE_NAMES, COVERAGE_RGB, finding_rgb

STATION_M = 0.5
GIRTH_STEP_M = 0.05
SIDE_JUMP_SLOPE, SIDE_JUMP_MIN_M = 4.0, 0.2  # a side flatter than this between two levels is a shelf
MARGIN_LEFT_PX, MARGIN_RIGHT_PX, TITLE_PX, GAP_PX, LEGEND_PX = 80, 30, 44, 44, 70
BACKGROUND_BGR = (255, 255, 255)
PANEL_BGR = (225, 225, 225)  # hull area no coverage sample reached
INK_BGR = (0, 0, 0)
PANELS = ("port", "bottom", "starboard")
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _bgr(rgb) -> tuple[int, int, int]:
    return int(rgb[2]), int(rgb[1]), int(rgb[0])


COVERAGE_LEGEND_BGR = {COVERAGE_NAMES[k]: _bgr(COVERAGE_RGB[k]) for k in sorted(COVERAGE_NAMES)}


def _section_segments(tri: np.ndarray, normals_z: np.ndarray, x: float):
    """(P, 2, 2) the (y, z) end points of the faces' cuts by the plane at x, and each
    segment's face normal z."""
    d = tri[:, :, 0] - x
    ends, count = np.zeros((len(tri), 2, 2)), np.zeros(len(tri), np.int64)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        cross = (d[:, i] < 0) != (d[:, j] < 0)
        idx = np.flatnonzero(cross & (count < 2))
        s = d[idx, i] / (d[idx, i] - d[idx, j])
        p = tri[idx, i, 1:] + s[:, None] * (tri[idx, j, 1:] - tri[idx, i, 1:])
        ends[idx, count[idx]] = p
        count[idx] += 1
    ok = count == 2
    return ends[ok], normals_z[ok]


@dataclasses.dataclass(frozen=True, eq=False)
class ExpansionLayout:
    """Where hull points land in the expansion image; build with expansion_layout().

    stations_x_m (K,); z_grid_m (Z,) from the draft down; girth_m[side] (K, Z) girth from
    the waterline at each grid z (NaN below the side); bilge_z_m[side] (K,) lowest side z.
    Pixel rows: panel_top_px[panel], panel_height_px[panel]."""

    px_per_m: float
    draft_m: float
    x0_m: float
    stations_x_m: np.ndarray
    z_grid_m: np.ndarray
    girth_m: dict
    bilge_z_m: dict
    half_beam_m: float
    panel_top_px: dict
    panel_height_px: dict
    width_px: int
    height_px: int

    def u_px(self, x_m) -> np.ndarray:
        return MARGIN_LEFT_PX + (np.asarray(x_m, float) - self.x0_m) * self.px_per_m

    def to_pixel(self, points_h) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(u, v) float pixel coordinates and panel index into PANELS of (N, 3) H points."""
        p = np.atleast_2d(np.asarray(points_h, float))
        k = np.clip(np.round((p[:, 0] - self.stations_x_m[0]) / STATION_M).astype(int), 0,
                    len(self.stations_x_m) - 1)
        side = np.where(p[:, 1] >= 0, 0, 2)
        bilge = np.where(side == 0, self.bilge_z_m["port"][k], self.bilge_z_m["starboard"][k])
        panel = np.where(~(p[:, 2] >= bilge), 1, side)  # NaN bilge (no side at the station): bottom
        v = np.empty(len(p))
        zi = np.clip((self.draft_m - p[:, 2]) / GIRTH_STEP_M, 0, len(self.z_grid_m) - 1)
        lo = np.floor(zi).astype(int)
        hi = np.minimum(lo + 1, len(self.z_grid_m) - 1)
        for idx, name in ((0, "port"), (2, "starboard")):
            m = panel == idx
            g = self.girth_m[name]
            g_lo, g_hi = g[k[m], lo[m]], g[k[m], hi[m]]
            g_hi = np.where(np.isfinite(g_hi), g_hi, g_lo)
            girth = g_lo + (zi[m] - lo[m]) * (g_hi - g_lo)
            v[m] = self.panel_top_px[name] + np.nan_to_num(girth) * self.px_per_m
        m = panel == 1
        v[m] = self.panel_top_px["bottom"] + (self.half_beam_m - p[m, 1]) * self.px_per_m
        return self.u_px(p[:, 0]), v, panel


def expansion_layout(hull_mesh: TriangleMesh, draft_m: float, px_per_m: float = 20.0) -> ExpansionLayout:
    """Cut the hull into stations and measure girths (see the module docstring)."""
    tri = hull_mesh.triangles()
    nz = hull_mesh.face_normals()[:, 2]
    wet = tri[:, :, 2].min(axis=1) <= draft_m
    tri, nz = tri[wet], nz[wet]
    x_lo, x_hi = float(tri[:, :, 0].min()), float(tri[:, :, 0].max())
    stations = np.arange(x_lo, x_hi + STATION_M, STATION_M)
    z_grid = draft_m - np.arange(0.0, draft_m + GIRTH_STEP_M, GIRTH_STEP_M)
    girth = {s: np.full((len(stations), len(z_grid)), np.nan) for s in ("port", "starboard")}
    bilge = {s: np.full(len(stations), np.nan) for s in ("port", "starboard")}
    for k, x in enumerate(stations):
        seg, seg_nz = _section_segments(tri, nz, float(x) + 1e-6)
        for name, sign in (("port", 1.0), ("starboard", -1.0)):
            keep = (seg_nz >= BOTTOM_NORMAL_Z) & (sign * seg[:, :, 0].mean(axis=1) >= 0)
            s = seg[keep]
            if not len(s):
                continue
            y = np.abs(s[:, :, 0])
            z = s[:, :, 1]
            z0, z1 = z.min(axis=1), z.max(axis=1)
            # outer half-breadth at each grid z: of the segments spanning it, the farthest out
            span = (z0[:, None] <= z_grid[None, :]) & (z1[:, None] >= z_grid[None, :])
            dz = z[:, 1] - z[:, 0]
            t = (z_grid[None, :] - z[:, [0]]) / np.where(np.abs(dz) > 1e-9, dz, 1.0)[:, None]
            y_at = np.where(span, y[:, [0]] + np.clip(t, 0, 1) * (y[:, [1]] - y[:, [0]]), -np.inf).max(axis=0)
            # the side runs down from the waterline until no side face spans a level, or the
            # outer breadth jumps (the path would cross a downward-facing shelf: a stern
            # overhang above a skeg); what lies below is drawn in the bottom panel
            fin = np.isfinite(y_at)
            if fin.sum() < 2:
                continue
            i0 = int(np.argmax(fin))
            with np.errstate(invalid="ignore"):
                bad = ~(fin[1:] & (np.abs(np.diff(y_at)) <= max(SIDE_JUMP_SLOPE * GIRTH_STEP_M, SIDE_JUMP_MIN_M)))
            breaks = np.flatnonzero(bad[i0:])
            end = i0 + 1 + int(breaks[0]) if len(breaks) else len(z_grid)
            if end - i0 < 2:
                continue
            yy = np.concatenate([np.full(i0, y_at[i0]), y_at[i0:end]])
            g = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(yy), GIRTH_STEP_M))])
            girth[name][k, :end] = g
            bottom_z = float(z_grid[end - 1])
            bilge[name][k] = bottom_z
    verts = tri.reshape(-1, 3)
    # whole metres, so the bottom panel's 1 m ticks fall on round values of y
    half_beam = float(np.ceil(np.abs(verts[verts[:, 2] <= draft_m, 1]).max() - 1e-6))
    heights = {n: int(np.ceil(np.nanmax(girth[n]) * px_per_m)) + 1 for n in ("port", "starboard")}
    heights["bottom"] = int(np.ceil(2 * half_beam * px_per_m)) + 1
    tops, row = {}, TITLE_PX
    for name in PANELS:
        tops[name] = row
        row += heights[name] + GAP_PX
    width = int(np.ceil(MARGIN_LEFT_PX + (x_hi - x_lo) * px_per_m + MARGIN_RIGHT_PX))
    return ExpansionLayout(float(px_per_m), float(draft_m), x_lo, stations, z_grid, girth, bilge, half_beam, tops,
                           heights, width, row + LEGEND_PX)


def _text(img, s, org, scale=0.45, colour=INK_BGR, thickness=1):
    cv2.putText(img, s, (int(org[0]), int(org[1])), FONT, scale, colour, thickness, cv2.LINE_AA)


def _draw_axes(img, lay: ExpansionLayout, x_hi_m: float):
    for name in PANELS:
        top, h = lay.panel_top_px[name], lay.panel_height_px[name]
        right = int(lay.u_px(x_hi_m))
        cv2.rectangle(img, (MARGIN_LEFT_PX, top), (right, top + h - 1), INK_BGR, 1)
        _text(img, {"port": "PORT", "bottom": "BOTTOM", "starboard": "STARBOARD"}[name], (MARGIN_LEFT_PX, top - 22),
              0.55, INK_BGR, 2)
        for x in np.arange(0.0, x_hi_m - lay.x0_m + 1e-9, 10.0):  # every 10 m from the stern
            u = int(round(lay.u_px(lay.x0_m + x)))
            cv2.line(img, (u, top), (u, top - 5), INK_BGR, 1)
            _text(img, f"{x:.0f}", (u - 6, top - 7), 0.35)
        unit = "m girth" if name != "bottom" else "m to port"
        _text(img, unit, (4, top + 12), 0.35)
        for m in range(0, int(h / lay.px_per_m) + 1):  # every 1 m
            value = m if name != "bottom" else lay.half_beam_m - m
            v = top + int(round(m * lay.px_per_m))
            cv2.line(img, (MARGIN_LEFT_PX - 5, v), (MARGIN_LEFT_PX, v), INK_BGR, 1)
            if lay.px_per_m >= 12 or m % 2 == 0:
                _text(img, f"{value:.0f}", (MARGIN_LEFT_PX - 30, v + 4), 0.35)
    _text(img, "x from the stern (m)", (lay.width_px // 2 - 60, 14), 0.45)


def _draw_legend(img, lay: ExpansionLayout, legend: dict, findings):
    u, v = MARGIN_LEFT_PX, lay.height_px - LEGEND_PX + 10
    for name, bgr in legend.items():
        cv2.rectangle(img, (u, v), (u + 16, v + 12), bgr, -1)
        cv2.rectangle(img, (u, v), (u + 16, v + 12), INK_BGR, 1)
        _text(img, name, (u + 22, v + 11))
        u += 30 + 9 * len(name)
    u, v = MARGIN_LEFT_PX, v + 28
    for cls in sorted({f.class_name for f in findings}):
        cv2.circle(img, (u + 8, v + 6), 7, _bgr(finding_rgb(cls)), 2)
        _text(img, f"finding: {cls}", (u + 22, v + 11))
        u += 40 + 9 * len(cls) + 70


def hull_expansion_image(hull_mesh: TriangleMesh, draft_m: float, coverage, findings=(), px_per_m: float = 20.0,
                         path=None, sample_area_m2: float = DEFAULT_SAMPLE_AREA_M2, legend: dict | None = None,
                         layout: ExpansionLayout | None = None) -> np.ndarray:
    """The expansion image, BGR uint8 (written as PNG to `path` when given).

    hull_mesh: the hull (or its wetted part), H, m; draft_m: waterline z (m). coverage:
    (points_h (S, 3), colours (S, 3) BGR uint8) per surface sample, each drawn as a square
    of its area sample_area_m2 (m2); legend: name -> BGR (default: the coverage classes of
    vision.hullmap.export). findings: objects with finding_id, class_name, position_h,
    uncertainty_m (vision.georef.Finding), drawn as a circle of the uncertainty radius
    (at least 8 px) around a filled dot in the class colour, with the finding's number."""
    lay = layout or expansion_layout(hull_mesh, draft_m, px_per_m)
    img = np.full((lay.height_px, lay.width_px, 3), BACKGROUND_BGR, np.uint8)
    x_hi = lay.x0_m + (lay.width_px - MARGIN_LEFT_PX - MARGIN_RIGHT_PX) / lay.px_per_m
    for name in PANELS:
        top = lay.panel_top_px[name]
        img[top:top + lay.panel_height_px[name], MARGIN_LEFT_PX:int(lay.u_px(x_hi)) + 1] = PANEL_BGR
    pts, colours = np.asarray(coverage[0], float), np.asarray(coverage[1], np.uint8)
    wet = pts[:, 2] <= draft_m + 1e-6
    u, v, panel = lay.to_pixel(pts[wet])
    colours = colours[wet]
    # a square a little larger than the sample's share, so neighbours close the gaps between them
    half = int(np.ceil(0.6 * np.sqrt(sample_area_m2) * lay.px_per_m))
    tops = np.array([lay.panel_top_px[n] for n in PANELS])[panel]
    bottoms = tops + np.array([lay.panel_height_px[n] for n in PANELS])[panel] - 1
    ui, vi = np.round(u).astype(int), np.round(v).astype(int)
    for dv in range(-half, half + 1):
        for du in range(-half, half + 1):
            uu = np.clip(ui + du, MARGIN_LEFT_PX, lay.width_px - MARGIN_RIGHT_PX)
            vv = np.clip(vi + dv, tops, bottoms)
            img[vv, uu] = colours
    _draw_axes(img, lay, x_hi)
    for f in findings:
        fu, fv, _ = lay.to_pixel(np.asarray(f.position_h, float)[None, :])
        c = (int(round(fu[0])), int(round(fv[0])))
        bgr = _bgr(finding_rgb(f.class_name))
        cv2.circle(img, c, max(8, int(round(f.uncertainty_m * lay.px_per_m))), bgr, 2, cv2.LINE_AA)
        cv2.circle(img, c, 4, bgr, -1)
        label = str(f.finding_id)
        _text(img, label, (c[0] + 10, c[1] - 8), 0.5, INK_BGR, 3)
        _text(img, label, (c[0] + 10, c[1] - 8), 0.5, bgr, 1)
    _draw_legend(img, lay, COVERAGE_LEGEND_BGR if legend is None else legend, findings)
    if path is not None and not cv2.imwrite(str(path), img):
        raise OSError(f"could not write {path}")
    return img
