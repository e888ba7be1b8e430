"""`hullwatch hull FILE [--scale K] [--units mm|m] [--draft D] [--json]`: load a hull mesh and
say what was loaded, repaired and measured."""
from __future__ import annotations

import json
import sys

from hull.loader import load_hull_mesh
from hull.mesh_io import HullLoadError


def run_hull_command(args, out=None) -> int:
    out = out or sys.stdout
    scale = getattr(args, "scale", None) or 1.0
    loaded = load_hull_mesh(args.file, units=getattr(args, "units", None), scale=scale,
                            up_axis=getattr(args, "up", None), forward_axis=getattr(args, "forward", None))
    r = loaded.report
    draft = getattr(args, "draft", None)
    wetted = None
    wetted_note = None
    if draft is not None:
        if draft < 0 or draft > r.depth_m:
            raise HullLoadError(f"--draft {draft:g} m is outside the hull (0..{r.depth_m:.3g} m from the keel)")
        try:
            from hull.wetted import wetted_surface
        except ImportError:
            wetted_note = "wetted surface: not available in this build (hull.wetted missing)"
        else:
            wetted = wetted_surface(loaded.mesh, draft)

    if getattr(args, "json", False):
        d = r.to_dict()
        if draft is not None:
            d["draft_m"] = draft
            if wetted is not None:
                d["wetted_area_m2"] = float(wetted.area_m2)
                d["waterline_length_m"] = float(wetted.waterline_length_m)
                d["waterline_beam_m"] = float(wetted.waterline_beam_m)
        print(json.dumps(d, indent=2), file=out)
        return 0

    p = lambda s="": print(s, file=out)  # noqa: E731
    p(f"hull: {r.source_path}")
    p(f"  format      {r.file_format}, sha256 {r.sha256[:16]}…")
    p(f"  triangles   {r.original_triangles} read, {r.triangles} after repair "
      f"({r.original_vertices} vertices read)")
    for line in r.repairs:
        p(f"  repair      {line}")
    for line in r.notes:
        p(f"  note        {line}")
    for line in r.warnings:
        p(f"  WARNING     {line}")
    p(f"  size        length {r.length_m:.2f} m, beam {r.beam_m:.2f} m, depth {r.depth_m:.2f} m "
      f"(units {r.units}, scale {r.scale:g})")
    p(f"  area        {r.area_m2:.1f} m2")
    p(f"  volume      {r.volume_m3:.1f} m3" + ("" if r.watertight else " (approximate: not closed)"))
    p(f"  watertight  {'yes' if r.watertight else f'no, {r.open_edges} open edges'}; {r.shells} shell(s)")
    if draft is not None:
        if wetted is not None:
            p(f"  at draft {draft:g} m: wetted area {wetted.area_m2:.1f} m2, waterline length "
              f"{wetted.waterline_length_m:.2f} m, beam {wetted.waterline_beam_m:.2f} m")
        else:
            p(f"  {wetted_note}")
    return 0
