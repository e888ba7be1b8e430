"""Benchmark: a whole sweep of a hull with planted containers, flown through the embedded
world with the live detector and the hull map (issue 6's acceptance, measured).

    python bench/bench_sweep_map.py [--length L] [--step-m S] [--seed N] [--containers C] [--model M.onnx]

Vessel: a parametric workboat of length L (default 24 m; beam, draft and depth scaled
from it) berthed as the embedded world berths its ship, with C planted containers
(kinds as the embedded world draws them), one niche anomaly and four distractors in
clear water (sim.scenario.generate_scenario, seed N). Plan: SweepPlanner, camera
80 x 60 deg with a 4 m useful range, 1.8 m standoff, niche areas first. Flight:
app.simulated_sweep.fly_sweep, every looking track resampled every S metres (default
0.1 m, 1 m/s at 10 frames/s); each frame rendered, through the shipped camera model,
the tracker and alarms (DetectionPipeline.process), then into the HullMapWorker with
the vehicle's pose at the frame's time; the worker takes a turn every mission second.

Reported:
* per planted container (hull-mounted and sea-chest packages): the finding nearest to it
  within 2 m, its distance to the container's true centre (m), the number of findings
  within 2 m (should be exactly 1), observations; the error distribution (p50/p95/max);
* findings far (> 2 m) from every planted container or anomaly: false findings, with
  what is nearest (a distractor, a niche area, bare plating);
* live camera coverage against the plan's prediction (points, goal within 5);
* speed: render, detect and map-turn times per frame / per mission second, each as a
  ratio to the detector's bare inference of the same run (the machine is shared:
  compare ratios).
Results: a table on stdout and bench/results/bench_sweep_map.json.
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

from percentiles import pct  # noqa: E402  (bench/, beside this script)

RESULTS = REPO / "bench" / "results" / "bench_sweep_map.json"
NEAR_M = 2.0
GOAL_M = 0.5
GOAL_COVERAGE_POINTS = 5.0


def judge(scenario, findings) -> dict:
    planted = [o for o in scenario.objects if o.class_name == "parasitic_container"]
    alarm_objects = [o for o in scenario.objects if o.class_name in ("parasitic_container", "niche_anomaly")]
    rows = []
    for o in planted:
        c = np.asarray(o.center_h, float)
        near = sorted(((float(np.linalg.norm(f.position_h - c)), f) for f in findings if
                       np.linalg.norm(f.position_h - c) < NEAR_M), key=lambda x: x[0])
        rows.append({"object": o.name, "kind": o.kind, "size_m": [round(float(v), 2) for v in o.size_m],
                     "findings_within_2m": len(near), "error_m": round(near[0][0], 3) if near else None,
                     "observations": near[0][1].observations if near else 0,
                     "class": near[0][1].class_name if near else None})
    false = []
    for f in findings:
        d = min((np.linalg.norm(f.position_h - np.asarray(o.center_h, float)) for o in alarm_objects), default=1e9)
        if d > NEAR_M:
            others = [(float(np.linalg.norm(f.position_h - np.asarray(o.center_h, float))), o.name)
                      for o in scenario.objects]
            nearest = min(others) if others else (None, None)
            false.append({"class": f.class_name, "address": f.address.describe(), "observations": f.observations,
                          "nearest_object": nearest[1], "nearest_object_m": round(nearest[0], 2)
                          if nearest[0] is not None else None})
    errors = [r["error_m"] for r in rows if r["error_m"] is not None]
    return {"containers": rows, "found_within_goal": sum(e <= GOAL_M for e in errors),
            "one_finding_each": sum(r["findings_within_2m"] == 1 for r in rows), "planted": len(rows),
            "error_m": pct(errors), "false_findings": false}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--length", type=float, default=24.0)
    ap.add_argument("--step-m", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--containers", type=int, default=4)
    ap.add_argument("--model", default=str(REPO / "resources" / "models" / "camera.onnx"))
    args = ap.parse_args()

    from hull.pose import SensorMount
    from mission_plans.planner import sensor_models
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.pipeline import DetectionPipeline
    from vision.hullmap.live_map import HullMapWorker, MapSensors

    from app.simulated_sweep import fly_sweep

    t_start = time.perf_counter()
    from app.simulated_sweep import workboat

    boat = workboat(args.length, args.seed, args.containers)
    model, placement, scenario, world, sensors = boat.model, boat.placement, boat.scenario, boat.world, boat.sensors
    result = boat.planner.plan()
    t_plan = time.perf_counter() - t_start
    cam_model = sensor_models(sensors)[0]
    worker = HullMapWorker(model.queries, result.samples, model.niche_areas, placement.draft_m,
                           MapSensors(camera_mount=SensorMount("camera"), camera_hfov_deg=80.0,
                                      camera_coverage=cam_model))
    detector = OnnxDetector(args.model, expected_classes=CLASSES, threads=1)
    pipeline = DetectionPipeline(detector, source="camera")
    inference = []
    seen_truth = {}

    def on_frame(k, frame, res):
        inference.append(res.timings_ms.get("inference", float("nan")))
        for name, cls, _ in frame.boxes:
            seen_truth[name] = seen_truth.get(name, 0) + 1

    t0 = time.perf_counter()
    out = fly_sweep(world, result.tracks, pipeline, worker, step_m=args.step_m, on_frame=on_frame)
    fly_s = time.perf_counter() - t0
    snap = out.snapshot
    verdict = judge(scenario, snap.findings)
    a = result.samples.area_m2
    predicted = 100.0 * float(a[result.seen].sum() / a.sum())
    live = snap.coverage.per_sensor_pct["camera"]
    base = float(np.nanmedian(inference))
    speed = {k: pct(v) for k, v in out.timings_ms.items()}
    ratios = {k: round(v["p50"] / base, 2) for k, v in speed.items() if v and v.get("p50") is not None}
    doc = {"args": vars(args), "hull": {"length_m": args.length, "wetted_m2": round(float(a.sum()), 1)},
           "plan_s": round(t_plan, 1), "frames": out.frames, "mission_s": round(out.mission_s, 1),
           "fly_wall_s": round(fly_s, 1), "alarms": len(out.alarms), "findings": len(snap.findings),
           "judge": verdict, "coverage": {"predicted_pct": round(predicted, 2), "live_pct": round(live, 2),
                                          "gap_points": round(predicted - live, 2),
                                          "within_goal": abs(predicted - live) <= GOAL_COVERAGE_POINTS},
           "speed_ms": speed, "baseline_inference_ms_p50": round(base, 2), "ratio_to_inference_p50": ratios,
           "objects_in_view_frames": seen_truth, "counters": {k: dict(v) if hasattr(v, "items") else v for k, v in
                                                              vars(snap.counters).items()}}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=1, default=str))
    print(f"sweep of a {args.length:g} m workboat ({a.sum():.0f} m2 wetted): {out.frames} frames over "
          f"{out.mission_s:.0f} s of mission in {fly_s:.0f} s wall; {len(out.alarms)} alarms, "
          f"{len(snap.findings)} findings")
    print(f"{'container':34s} {'kind':18s} {'findings<2m':>11s} {'error m':>8s} {'obs':>5s}")
    for r in verdict["containers"]:
        err = "-" if r["error_m"] is None else f"{r['error_m']:.3f}"
        print(f"{r['object']:34s} {r['kind']:18s} {r['findings_within_2m']:11d} {err:>8s} {r['observations']:5d}")
    e = verdict["error_m"]
    print(f"error p50/p95/max: {e.get('p50')}/{e.get('p95')}/{e.get('max')} m; within {GOAL_M} m: "
          f"{verdict['found_within_goal']}/{verdict['planted']}; exactly one finding: "
          f"{verdict['one_finding_each']}/{verdict['planted']}")
    for f in verdict["false_findings"]:
        print(f"false finding: {f['class']} at {f['address']} ({f['observations']} obs; nearest "
              f"{f['nearest_object']} {f['nearest_object_m']} m)")
    cov = doc["coverage"]
    print(f"camera coverage live {cov['live_pct']:.1f}% vs predicted {cov['predicted_pct']:.1f}% "
          f"({'PASS' if cov['within_goal'] else 'FAIL'}: within {GOAL_COVERAGE_POINTS:g} points)")
    print("per frame / per map turn, p50 as a multiple of the bare inference "
          f"({base:.1f} ms): " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
