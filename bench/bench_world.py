"""Benchmark: the embedded world's renderers on a parametric 120 m ship at the quay.

    python bench/bench_world.py [--frames N]

Each configuration runs in its own process: "1 core" pins the process to CPU 0 with
os.sched_setaffinity *before* Open3D (and its thread pool) is loaded, so neither the ray
cast nor numpy can use a second core; "default" leaves the affinity alone. Per process:
the bare ray cast of a 640x480 camera's 307,200 rays against the world scene (the
baseline), the full camera frame (ray cast + underwater image formation + labels + JPEG),
and multibeam pings of 256 and 512 beams. Times are the best of N; CPU/wall of the ray
cast shows how many cores it really used. Results: bench/results/bench_world.json, with
every time also as a ratio to the baseline of the same process.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "bench_world.json"
MODES = ("1 core", "default")


def _best(fn, n: int) -> tuple[float, float]:
    """(best wall seconds, CPU seconds per wall second over all runs)."""
    fn()
    best, wall, cpu = float("inf"), 0.0, 0.0
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        dt = time.perf_counter() - t0
        best, wall, cpu = min(best, dt), wall + dt, cpu + time.process_time() - c0
    return best, cpu / wall


def measure(mode: str, frames: int) -> dict:
    if mode == "1 core":
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sys.path.insert(0, str(REPO))
    import numpy as np
    import open3d as o3d

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
    t0 = time.perf_counter()
    world = World.from_scenario(generate_scenario(model, placement, seed=1), model)
    build_s = time.perf_counter() - t0
    pose = ((60.0, 12.5, 4.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0))  # 2.5 m off the port side
    cam, cfg, rng = world.camera_scene, CameraConfig(), np.random.default_rng(0)
    dirs = cam._camera_dirs(cfg) @ np.array([[1, 0, 0], [0, 0, -1], [0, -1, 0]], np.float32).T
    rays = o3d.core.Tensor(np.hstack([np.broadcast_to(np.float32(pose[0]), dirs.shape), dirs]).astype(np.float32))
    raycast_s, raycast_cores = _best(lambda: cam.scene.cast_rays(rays), frames)
    frame_s, frame_cores = _best(lambda: cam.render(*pose, cfg, rng), frames)
    out = {"cores_allowed": len(os.sched_getaffinity(0)), "world_build_s": build_s,
           "baseline_raycast_307k_rays_s": raycast_s, "baseline_cpu_per_wall": raycast_cores,
           "camera_frame_640x480_s": frame_s, "camera_cpu_per_wall": frame_cores,
           "camera_frames_per_s": 1 / frame_s, "camera_over_baseline": frame_s / raycast_s}
    for beams in (256, 512):
        scfg = MultibeamConfig(beams=beams, range_bins=512, max_range_m=10.0)
        ping_s, _ = _best(lambda: world.sonar_scene.render(*pose, scfg, rng), frames)
        out[f"sonar_ping_{beams}x512_s"] = ping_s
        out[f"sonar_{beams}_over_baseline"] = ping_s / raycast_s
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)  # a child process's job
    args = ap.parse_args()
    if args.mode:
        print(json.dumps(measure(args.mode, args.frames)))
        return 0
    rows = {}
    for mode in MODES:
        done = subprocess.run([sys.executable, __file__, "--frames", str(args.frames), "--mode", mode],
                              capture_output=True, text=True, check=True)
        rows[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{'stage':<36}" + "".join(f"{m + ' ms':>12}{'x base':>8}" for m in MODES))
    for label, key, ratio in (("baseline: bare ray cast 307k rays", "baseline_raycast_307k_rays_s", None),
                              ("camera frame 640x480", "camera_frame_640x480_s", "camera_over_baseline"),
                              ("sonar ping 256 beams x 512 bins", "sonar_ping_256x512_s", "sonar_256_over_baseline"),
                              ("sonar ping 512 beams x 512 bins", "sonar_ping_512x512_s", "sonar_512_over_baseline")):
        line = f"{label:<36}"
        for m in MODES:
            r = rows[m]
            line += f"{r[key] * 1000:12.1f}{(r[ratio] if ratio else 1.0):7.2f}x"
        print(line)
    for m in MODES:
        r = rows[m]
        print(f"{m}: {r['cores_allowed']} core(s) allowed; ray cast used {r['baseline_cpu_per_wall']:.2f} CPU/wall, "
              f"camera {r['camera_cpu_per_wall']:.2f}; camera {r['camera_frames_per_s']:.1f} frames/s "
              f"({'PASS' if r['camera_frames_per_s'] >= 10 else 'FAIL'} >= 10)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"load_average_1min": os.getloadavg()[0], "results": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
