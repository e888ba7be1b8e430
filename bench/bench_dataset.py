"""Benchmark: synthetic data-set rendering (`hullwatch dataset`), images per second.

    python bench/bench_dataset.py [--camera N] [--sonar N]

In one run, for each kind: the whole pipeline (hull builds, scenarios, worlds, view
sampling, render, labels, PNG, card) into a temp folder, against its baseline, the bare
render of one frame from a fixed pose in an already built world (the upper bound if hulls,
worlds, pose search and files cost nothing). Results: bench/results/bench_dataset.json.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset  # noqa: E402

RESULTS = REPO / "bench" / "results" / "bench_dataset.json"


def _bare_render_s(kind: str, repeat: int = 5) -> float:
    from hull.model import HullModel
    from hull.parametric import HullDimensions
    from hull.placement import Placement
    from sim.camera_render import CameraConfig
    from sim.scenario import generate_scenario
    from sim.sonar_render import MultibeamConfig
    from sim.world import World

    model = HullModel.parametric_hull(HullDimensions(length_m=120, beam_m=20, draft_m=7, depth_m=11,
                                                     block_coefficient=0.72))
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0, draft_m=7.0,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=12.0)
    world = World.from_scenario(generate_scenario(model, placement, seed=1), model)
    pose = world.sensor_pose(placement.h_to_ned(np.array([60.0, -12.5, 4.0])), (0.0, 0.0, math.radians(90.0)), 0.0)
    rng = np.random.default_rng(0)
    render = (lambda: world.render_camera(pose, CameraConfig(), rng)) if kind == "camera" else \
        (lambda: world.render_sonar(pose, MultibeamConfig(max_range_m=10.0), rng))
    render()
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        render()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--camera", type=int, default=48, help="camera images (default 48: 4 hulls)")
    ap.add_argument("--sonar", type=int, default=120, help="sonar images (default 120: 3 hulls)")
    args = ap.parse_args()
    rows = {}
    for kind, n in (("camera", args.camera), ("sonar", args.sonar)):
        base_s = _bare_render_s(kind)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            card = build_synthetic_dataset(SyntheticSpec(kind, n, seed=1), Path(tmp) / "set")
            total_s = time.perf_counter() - t0
        rows[kind] = {"images": n, "image_size": card["parameters"]["image_size"], "total_s": round(total_s, 2),
                      "images_per_s": round(n / total_s, 2), "baseline_bare_render_s": round(base_s, 4),
                      "baseline_images_per_s": round(1 / base_s, 2),
                      "hulls": len(card["hulls"]), "empty_images": sum(card["empty_images"].values())}
    print(f"{'kind':<8} {'images':>6} {'size':>9} {'img/s':>7} {'bare render/s':>14} {'share of bare':>14}")
    for kind, r in rows.items():
        size = "x".join(map(str, r["image_size"]))
        print(f"{kind:<8} {r['images']:>6} {size:>9} {r['images_per_s']:>7.2f} {r['baseline_images_per_s']:>14.2f} "
              f"{r['images_per_s'] / r['baseline_images_per_s']:>13.0%}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
