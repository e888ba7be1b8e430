"""Benchmark: sweep planning and coverage prediction on the full-scale DTC hull.

    python bench/bench_planner.py [--repeat N]

The DTC container ship (116k triangles, scaled 1:59.407 to full scale, draft 14.5 m) is
planned as loaded, decimated to a quarter of its triangles and subdivided to four times
as many, so the table shows how each stage grows with triangle count. Stages:
  scene      building the ray-casting structure (Open3D BVH), once per hull
  patterns   lanes round the hull and under the bottom, at the standoff, safety-checked
  predict    coverage by ray casting from every pose onto the wetted surface samples
Goal (issue 3): patterns and predict each under 2 s for the 116k-triangle hull.
Results go to bench/results/bench_planner.json.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hull.mesh import TriangleMesh  # noqa: E402
from hull.placement import Placement  # noqa: E402
from hull.queries import HullQueries  # noqa: E402
from hull.wetted import wetted_surface  # noqa: E402
from mission_plans.coverage import SensorPoses, predict_seen  # noqa: E402
from mission_plans.plan_model import CameraSensor, SensorSetup  # noqa: E402
from mission_plans.planner import SweepPlanner, SweepSettings, sensor_models  # noqa: E402
from mission_plans.surface_samples import sample_surface  # noqa: E402

DTC = REPO.parent / "shared" / "data" / "hulls" / "DTC-scaled.stl.gz"
RESULTS = REPO / "bench" / "results" / "bench_planner.json"
SCALE = 59.407


def dtc_mesh() -> TriangleMesh:
    raw = gzip.open(DTC).read()
    v = np.array(re.findall(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", raw), dtype=float) * SCALE
    v[:, 0] -= v[:, 0].min()
    faces = np.arange(len(v)).reshape(-1, 3)
    uniq, inverse = np.unique(np.round(v, 6), axis=0, return_inverse=True)
    return TriangleMesh(uniq, inverse.reshape(-1)[faces])


def variant(mesh: TriangleMesh, kind: str) -> TriangleMesh:
    import open3d as o3d

    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh.vertices.copy()),
                                  o3d.utility.Vector3iVector(mesh.faces.astype(np.int32)))
    if kind == "decimated":
        m = m.simplify_quadric_decimation(mesh.n_faces // 4)
    elif kind == "subdivided":
        m = m.subdivide_midpoint(1)
    return TriangleMesh(np.asarray(m.vertices), np.asarray(m.triangles))


def run(mesh: TriangleMesh, repeat: int) -> dict:
    placement = Placement(origin_lat_deg=53.54, origin_lon_deg=9.97, heading_deg=90.0, draft_m=14.5,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=18.0)
    sensors = SensorSetup(camera=CameraSensor(80.0, 60.0, 1920, 1080, 4.0))
    best = {"scene": np.inf, "patterns": np.inf, "predict": np.inf}
    for _ in range(repeat):
        t0 = time.perf_counter()
        queries = HullQueries(mesh)
        queries.distance(np.zeros((1, 3)))
        best["scene"] = min(best["scene"], time.perf_counter() - t0)
        planner = SweepPlanner(mesh, placement, sensors, SweepSettings(standoff_m=2.0), queries=queries)
        t0 = time.perf_counter()
        tracks = planner.lane_tracks()
        best["patterns"] = min(best["patterns"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        samples = sample_surface(wetted_surface(mesh, 14.5).mesh)
        poses = SensorPoses(np.concatenate([t.positions_h for t in tracks]),
                            np.concatenate([t.forward_h for t in tracks]), np.concatenate([t.up_h for t in tracks]))
        seen = predict_seen(samples, poses, sensor_models(sensors)[0], queries)
        best["predict"] = min(best["predict"], time.perf_counter() - t0)
    coverage = 100.0 * float(samples.area_m2[seen].sum() / samples.total_area_m2)
    return {"triangles": mesh.n_faces, "poses": len(poses), "samples": len(samples), "coverage_pct": coverage,
            **{f"{k}_s": v for k, v in best.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not DTC.is_file():
        print(f"needs {DTC} (../shared/data beside the checkout)", file=sys.stderr)
        return 1
    base = dtc_mesh()
    rows = {name: run(variant(base, name) if name != "as loaded" else base, args.repeat)
            for name in ("decimated", "as loaded", "subdivided")}
    ref = rows["as loaded"]
    print(f"{'DTC full scale':<12} {'triangles':>10} {'poses':>7} {'samples':>8} {'scene s':>8} {'patterns s':>11} "
          f"{'predict s':>10} {'coverage':>9}  (time / as loaded)")
    for name, r in rows.items():
        print(f"{name:<12} {r['triangles']:>10,} {r['poses']:>7,} {r['samples']:>8,} {r['scene_s']:8.2f} "
              f"{r['patterns_s']:11.2f} {r['predict_s']:10.2f} {r['coverage_pct']:8.2f}%  "
              f"x{r['patterns_s'] / ref['patterns_s']:.2f} / x{r['predict_s'] / ref['predict_s']:.2f}")
    goal = ref["patterns_s"] < 2.0 and ref["predict_s"] < 2.0
    print(f"goal: patterns and predict each < 2 s on the 116k-triangle hull: {'PASS' if goal else 'FAIL'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2))
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
