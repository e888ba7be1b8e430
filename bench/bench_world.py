"""Benchmark: the embedded world's renderers on a parametric 120 m ship.

    python bench/bench_world.py [--frames N]

In one run: a 640x480 camera frame (ray casting + underwater image formation) against
its baseline, the bare ray cast of the same 307,200 rays; a 256-beam x 512-bin multibeam
ping; frames per second for each on one process. Results: bench/results/bench_world.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hull.model import HullModel  # noqa: E402
from hull.parametric import HullDimensions  # noqa: E402
from hull.placement import Placement  # noqa: E402
from sim.camera_render import CameraConfig, CameraScene  # noqa: E402
from sim.scenario import generate_scenario  # noqa: E402
from sim.sonar_render import MultibeamConfig, SonarScene  # noqa: E402

RESULTS = REPO / "bench" / "results" / "bench_world.json"


def _best(fn, n: int) -> float:
    fn()
    best = np.inf
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=10)
    args = ap.parse_args()
    model = HullModel.parametric_hull(HullDimensions(length_m=120, beam_m=20, draft_m=7, depth_m=11,
                                                     block_coefficient=0.72))
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0, draft_m=7.0,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=12.0)
    t0 = time.perf_counter()
    scenario = generate_scenario(model, placement, seed=1)
    scenario_s = time.perf_counter() - t0
    pose = ((60.0, 12.5, 4.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))
    cam = CameraScene(model.mesh, scenario.objects, scenario.attenuation_per_m, seabed_z_h=placement.seabed_z_h)
    cfg = CameraConfig()
    rng = np.random.default_rng(0)
    frame_s = _best(lambda: cam.render(*pose, cfg, rng), args.frames)

    import open3d as o3d

    dirs = cam._camera_dirs(cfg)
    rays = np.concatenate([np.broadcast_to(np.array(pose[0]), dirs.shape), dirs], 1).astype(np.float32)
    tensor = o3d.core.Tensor(rays)
    raycast_s = _best(lambda: cam.scene.cast_rays(tensor), args.frames)
    sonar = SonarScene(model.mesh, scenario.objects, seabed_z_h=placement.seabed_z_h)
    scfg = MultibeamConfig(beams=256, range_bins=512, max_range_m=10.0)
    ping_s = _best(lambda: sonar.render(*pose, scfg, rng), args.frames)
    rows = {"camera_frame_640x480_s": frame_s, "baseline_raycast_307k_rays_s": raycast_s,
            "sonar_ping_256x512_s": ping_s, "scenario_generation_s": scenario_s}
    print(f"{'stage':<34} {'time ms':>9} {'per s':>8} {'vs baseline':>12}")
    print(f"{'baseline: bare ray cast 307k rays':<34} {raycast_s * 1000:9.1f} {1 / raycast_s:8.1f} {1.0:11.1f}x")
    print(f"{'camera frame 640x480':<34} {frame_s * 1000:9.1f} {1 / frame_s:8.1f} {frame_s / raycast_s:11.1f}x")
    print(f"{'sonar ping 256 beams x 512 bins':<34} {ping_s * 1000:9.1f} {1 / ping_s:8.1f}")
    print(f"{'scenario generation (seed 1)':<34} {scenario_s * 1000:9.1f}")
    print(f"camera goal >= 10 frames/s: {'PASS' if frame_s <= 0.1 else 'FAIL'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
