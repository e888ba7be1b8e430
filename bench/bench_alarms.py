"""Benchmark: alarms as the pilot sees them, on rendered video passes along the hull.

    python bench/bench_alarms.py [--model M.onnx] [--minutes M] [--seed S] [--containers N] [--clutter-worlds W]

Sequences are rendered by the embedded world (`sim.embedded_world.build_world`, the ship
`hullwatch sim` serves; worlds of seeds S, S+1, ... as `hullwatch sim --seed` gives them)
at 10 frames/s (frame time = index / 10 s), the camera gliding 0.1 m a frame (1 m/s)
while it looks at the hull. Every frame goes through the live pipeline's own step,
`DetectionPipeline._process` (detector at its card's thresholds -> ByteTracker ->
AlarmBook), one fresh pipeline per pass.

Object-free passes: 10 s passes over bare plating (kept 4 m from every planted object and
3 m from every niche area, at 1.2-2.5 m standoff and 1 m to draft-1 m below the waterline,
either side); a pass in which any frame's ground truth shows a parasitic_container or a
niche_anomaly is thrown away and redrawn. M minutes in all. Reported: single-frame false
detections of the alarm classes per minute and track-confirmed alarms (AlarmBook) per
minute, against the goal <= 0.5 alarms/min.

Clutter passes: the same false-alarm count on what really tempts a detector: a pass past
every distractor (fish, rope, fender, debris, fouling clump) and every niche area (sea
chest grating, thruster tunnel, propeller, rudder, anode, valve) of the worlds, at
1.2-2.5 m standoff, thrown away when a container or an anomaly comes into view. The goal
line judges bare plating and clutter together: all the object-free video rendered.

Container passes: for up to N planted containers that are not hidden in a sea chest recess
(sea chest packages, net bags: sim.scenario.RECESS_KINDS; a pass along the hull outside the
grating does not look into the recess), a pass
from 1.5 m (plus half the object's length) before the object to as far after it,
at 1.2-2.5 m standoff. A container counts as found when a parasitic_container alarm's
track has a box with IoU >= 0.3 on the container's ground-truth box in some frame of the
pass. Latency = the alarm's time (its first frame) minus the first frame in which the
container's ground-truth box is over 400 px; p50/p95/max over the containers found.

Speed: per frame, the render, the detector call (preprocess + inference + NMS) and the
whole `_process` step (detector + tracker + alarms), each as a ratio to the bare model
inference of the same call (ONNX Runtime, one thread, as the station runs it).
The machine is shared: compare the ratios, not the milliseconds.
Results: a table on stdout and bench/results/bench_alarms.json.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from percentiles import pct  # noqa: E402  (bench/, beside this script)

RESULTS = REPO / "bench" / "results" / "bench_alarms.json"
FPS = 10.0
STEP_M = 0.1  # camera travel per frame: 1 m/s at 10 frames/s
STANDOFF_M = (1.2, 2.5)
PASS_S = 10.0  # one object-free pass
LEAD_M = 1.5  # container passes start this far before the object's near end
VISIBLE_PX = 400  # a ground-truth box counts as in view above this area
MATCH_IOU = 0.3
GOAL_ALARMS_PER_MIN = 0.5
ALARM_CLASSES = ("parasitic_container", "niche_anomaly")
CLEAR_OF_OBJECTS_M = 4.0
CLEAR_OF_NICHES_M = 3.0


def _pose(position, forward):
    from sim.world import SensorPose

    f = np.asarray(forward, float)
    f = f / np.linalg.norm(f)
    up = np.array([0.0, 0.0, 1.0]) if abs(f[2]) < 0.95 else np.array([1.0, 0.0, 0.0])
    return SensorPose(np.asarray(position, float), f, up)


class Runner:
    """Renders a sequence of poses and runs each frame through a fresh pipeline's step."""

    def __init__(self, detector):
        self.detector = detector
        self.speed = {"render_ms": [], "detector_ms": [], "inference_ms": [], "track_alarm_ms": [], "process_ms": []}

    def run(self, world, poses, seed: int, on_frame):
        """on_frame(k, frame, result) -> False to abandon the pass."""
        from sim.camera_render import CameraConfig
        from vision.detect.pipeline import DetectionPipeline, FrameIn

        cfg = CameraConfig()
        rng = np.random.default_rng(seed)
        pipe = DetectionPipeline(self.detector, source="camera")  # never started: we call its step ourselves
        for k, pose in enumerate(poses):
            t0 = time.perf_counter()
            frame = world.render_camera(pose, cfg, rng)
            t1 = time.perf_counter()
            result = pipe._process(FrameIn(frame.image, k / FPS, k))
            t2 = time.perf_counter()
            tm = result.timings_ms
            s = self.speed
            s["render_ms"].append((t1 - t0) * 1e3)
            s["process_ms"].append((t2 - t1) * 1e3)
            s["detector_ms"].append(tm["preprocess"] + tm["inference"] + tm["postprocess"])
            s["inference_ms"].append(tm["inference"])
            s["track_alarm_ms"].append(tm["track"] + tm.get("alarms", 0.0))
            if on_frame(k, frame, result) is False:
                return False
        return True


def _worlds(seed: int, container_kinds=None, **hull):
    """hull: build_world's hull_path, hull_scale and draft_m (default: the embedded world's vessel)."""
    from sim.embedded_world import build_world

    cache = {}

    def get(i: int):
        if i not in cache:
            cache[i] = build_world(seed=seed + i, container_kinds=container_kinds, **hull)
        return cache[i]

    return get


def object_free(runner: Runner, world_of, minutes: float, seed: int) -> dict:
    frames_total = int(round(minutes * 60 * FPS))
    rng = np.random.default_rng([seed, 1])
    n_pass = max(1, math.ceil(frames_total / (PASS_S * FPS)))
    counts = {"frames": 0, "false_detections": {c: 0 for c in ALARM_CLASSES}, "frames_with_false_detection": 0,
              "alarms": [], "passes": [], "passes_discarded": 0, "frames_discarded": 0,
              "frames_with_other_truth_in_view": 0}
    left = frames_total
    for p in range(n_pass):
        ew = world_of(p % 3)
        n = int(min(left, PASS_S * FPS))
        left -= n
        for attempt in range(40):
            plan = _bare_pass(ew, n, rng)
            if plan is None:
                continue
            poses, info = plan
            stats = {"fd": {c: 0 for c in ALARM_CLASSES}, "fd_frames": 0, "alarms": [], "other": 0}
            detector_classes = runner.detector.classes

            def on_frame(k, frame, result, stats=stats):
                if any(c in ALARM_CLASSES for _, c, _ in frame.boxes):
                    return False  # a container or anomaly came into view: not an object-free pass
                stats["other"] += bool(frame.boxes)
                det = result.detections
                hit = False
                for c in ALARM_CLASSES:
                    m = int(np.sum(det.class_id == detector_classes.index(c)))
                    stats["fd"][c] += m
                    hit |= m > 0
                stats["fd_frames"] += hit
                stats["alarms"] += [(a.class_name, round(a.confidence, 3), round(a.first_t_s, 1))
                                    for a in result.new_alarms]

            before = len(runner.speed["process_ms"])
            ok = runner.run(ew.world, poses, int(rng.integers(1 << 31)), on_frame)
            if not ok:
                counts["passes_discarded"] += 1
                counts["frames_discarded"] += len(runner.speed["process_ms"]) - before
                continue
            counts["frames"] += n
            for c in ALARM_CLASSES:
                counts["false_detections"][c] += stats["fd"][c]
            counts["frames_with_false_detection"] += stats["fd_frames"]
            counts["frames_with_other_truth_in_view"] += stats["other"]
            counts["alarms"] += stats["alarms"]
            counts["passes"].append({**info, "world_seed": seed + p % 3, "frames": n,
                                     "false_detections": sum(stats["fd"].values()),
                                     "alarms": len(stats["alarms"])})
            break
        else:
            raise RuntimeError("could not find bare plating for an object-free pass in 40 tries")
    minutes_done = counts["frames"] / FPS / 60.0
    fd = sum(counts["false_detections"].values())
    counts["minutes"] = minutes_done
    counts["false_detections_per_min"] = fd / minutes_done
    counts["false_detections_per_min_by_class"] = {c: v / minutes_done for c, v in counts["false_detections"].items()}
    counts["alarms_per_min"] = len(counts["alarms"]) / minutes_done
    counts["goal_alarms_per_min"] = GOAL_ALARMS_PER_MIN
    counts["pass"] = counts["alarms_per_min"] <= GOAL_ALARMS_PER_MIN
    return counts


def along_hull(normal) -> tuple[np.ndarray, np.ndarray]:
    """(unit normal, unit direction along the hull) at a point of the plating: level where
    the plating is a side, fore-and-aft where it is the bottom."""
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    ref = np.array([0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    along = np.cross(n, ref)
    return n, along / np.linalg.norm(along)


def bare_track(ew, n: int, rng, ahead: int = 0):
    """(hull points, unit normals, standoff, info) of an n-sample glide along bare side
    plating, STEP_M apart, plus `ahead` more samples beyond its end that are kept as clear
    (what a forward-looking sonar sees); None if this draw comes near something."""
    model, placement = ew.model, ew.scenario.placement
    lo, hi = model.mesh.bounds()
    length = float(hi[0] - lo[0])
    m = n + ahead
    travel = STEP_M * (m - 1)
    side = float(rng.choice([-1.0, 1.0]))  # -y starboard, +y port (the quay side)
    direction = float(rng.choice([-1.0, 1.0]))
    x0 = float(rng.uniform(lo[0] + 0.15 * length + travel, hi[0] - 0.15 * length - travel))
    depth = float(rng.uniform(1.0, placement.draft_m - 1.0))
    z = placement.waterline_z_h - depth
    standoff = float(rng.uniform(*STANDOFF_M))
    xs = x0 + direction * STEP_M * np.arange(m)
    outside = np.column_stack([xs, np.full(m, side * (hi[1] - lo[1])), np.full(m, z)])
    hit = model.queries.closest_points(outside)
    normals = hit.normals_h / np.linalg.norm(hit.normals_h, axis=1, keepdims=True)
    if np.any(np.abs(normals[:, 2]) > 0.7) or np.any(normals[:, 1] * side < 0.5):
        return None  # on the bilge or the bottom: not a side pass
    if np.any(hit.points_h[:n, 2] + normals[:n, 2] * standoff > placement.waterline_z_h - 0.3):
        return None
    objs = np.array([o.center_h for o in ew.scenario.objects]).reshape(-1, 3)
    if len(objs) and np.min(np.linalg.norm(hit.points_h[:, None] - objs[None], axis=2)) < CLEAR_OF_OBJECTS_M:
        return None
    niches = np.array([np.asarray(a.center_h, float) for a in model.niche_areas]).reshape(-1, 3)
    if len(niches) and np.min(np.linalg.norm(hit.points_h[:, None] - niches[None], axis=2)) < CLEAR_OF_NICHES_M:
        return None
    info = {"side": "port" if side > 0 else "starboard", "x0_m": round(x0, 1), "depth_m": round(depth, 2),
            "standoff_m": round(standoff, 2)}
    return hit.points_h, normals, standoff, info


def _bare_pass(ew, n: int, rng):
    """Camera poses of an n-frame glide along bare plating, or None if this draw comes near something."""
    track = bare_track(ew, n, rng)
    if track is None:
        return None
    points, normals, standoff, info = track
    return [_pose(c, -nrm) for c, nrm in zip(points + normals * standoff, normals)], info


def _pass_past(centre, normal, half_length_m: float, standoff: float):
    """Poses of a glide past a point on the hull, looking at the hull."""
    n, along = along_hull(normal)
    reach = LEAD_M + half_length_m
    return [_pose(np.asarray(centre, float) + along * o + n * standoff, -n)
            for o in np.arange(-reach, reach + 1e-9, STEP_M)]


def clutter_passes(runner: Runner, world_of, seed: int, worlds: int = 3) -> dict:
    """Object-free passes past distractors and niche areas (see the module docstring)."""
    from sim.scenario import DISTRACTOR_KINDS

    rng = np.random.default_rng([seed, 3])
    cls = runner.detector.classes
    counts = {"frames": 0, "false_detections": {c: 0 for c in ALARM_CLASSES}, "alarms": [], "passes": [],
              "passes_discarded": 0}
    for w in range(worlds):
        ew = world_of(w)
        targets = [(o.name, o.kind, o.center_h, o.normal_h, 0.5 * max(o.size_m))
                   for o in ew.scenario.objects if o.kind in DISTRACTOR_KINDS]
        targets += [(a.name, a.kind.value, a.center_h, a.normal_h, 0.5 * max(a.size_m)) for a in ew.model.niche_areas]
        for name, kind, centre, normal, half in targets:
            poses = _pass_past(centre, normal, half, float(rng.uniform(*STANDOFF_M)))
            stats = {"fd": {c: 0 for c in ALARM_CLASSES}, "alarms": []}

            def on_frame(k, frame, result, stats=stats):
                if any(c in ALARM_CLASSES for _, c, _ in frame.boxes):
                    return False  # a container or anomaly in view: not object-free
                for c in ALARM_CLASSES:
                    stats["fd"][c] += int(np.sum(result.detections.class_id == cls.index(c)))
                stats["alarms"] += [(a.class_name, round(a.confidence, 3), name) for a in result.new_alarms]

            if not runner.run(ew.world, poses, int(rng.integers(1 << 31)), on_frame):
                counts["passes_discarded"] += 1
                continue
            counts["frames"] += len(poses)
            for c in ALARM_CLASSES:
                counts["false_detections"][c] += stats["fd"][c]
            counts["alarms"] += stats["alarms"]
            counts["passes"].append({"world_seed": seed + w, "target": name, "kind": kind, "frames": len(poses),
                                     "false_detections": sum(stats["fd"].values()), "alarms": len(stats["alarms"])})
    minutes = counts["frames"] / FPS / 60.0
    counts["minutes"] = minutes
    counts["false_detections_per_min"] = sum(counts["false_detections"].values()) / minutes if minutes else None
    counts["alarms_per_min"] = len(counts["alarms"]) / minutes if minutes else None
    return counts


def container_passes(runner: Runner, world_of, n_max: int, seed: int) -> dict:
    from sim.scenario import RECESS_KINDS
    from vision.detections import box_iou

    rng = np.random.default_rng([seed, 2])
    cid = runner.detector.classes.index("parasitic_container")
    rows = []
    w = 0
    while len(rows) < n_max and w < 20:
        ew = world_of(w)
        for obj in ew.scenario.objects:
            if len(rows) >= n_max:
                break
            if obj.class_name != "parasitic_container" or obj.kind in RECESS_KINDS:
                continue
            n, along = along_hull(obj.normal_h)
            axis = np.asarray(obj.axis_h, float)
            half = 0.5 * obj.size_m[0] * abs(float(axis @ along)) + 0.5 * obj.size_m[1] * math.sqrt(
                max(0.0, 1.0 - float(axis @ along) ** 2))
            reach = LEAD_M + half
            offsets = np.arange(-reach, reach + 1e-9, STEP_M)
            standoff = float(rng.uniform(*STANDOFF_M))
            centre = np.asarray(obj.center_h, float)
            poses = [_pose(centre + along * o + n * standoff, -n) for o in offsets]
            track = {"first_seen": None, "alarms": {}, "found_t": None, "frames_in_view": 0, "other_alarms": 0}

            def on_frame(k, frame, result, track=track, name=obj.name):
                truth = [b for nm, _, b in frame.boxes if nm == name]
                t = k / FPS
                visible = bool(truth) and (truth[0][2] - truth[0][0]) * (truth[0][3] - truth[0][1]) > VISIBLE_PX
                if visible:
                    track["frames_in_view"] += 1
                    if track["first_seen"] is None:
                        track["first_seen"] = t
                for a in result.new_alarms:
                    track["alarms"][a.track_id] = a
                det = result.detections
                if truth and det.tracker_id is not None:
                    tb = np.array([truth[0]], float)
                    for i in np.flatnonzero(det.tracker_id > 0):
                        a = track["alarms"].get(int(det.tracker_id[i]))
                        if a is None or int(det.class_id[i]) != cid:
                            continue
                        if box_iou(tb, det.xyxy[i:i + 1].astype(float))[0, 0] >= MATCH_IOU:
                            if track["found_t"] is None or a.first_t_s < track["found_t"]:
                                track["found_t"] = a.first_t_s

            runner.run(ew.world, poses, int(rng.integers(1 << 31)), on_frame)
            on_target = {tid for tid, a in track["alarms"].items() if a.class_name == "parasitic_container"}
            row = {"world_seed": seed + w, "object": obj.name, "kind": obj.kind, "standoff_m": round(standoff, 2),
                   "normal_z": round(float(n[2]), 2), "frames": len(poses), "frames_in_view": track["frames_in_view"],
                   "first_seen_s": track["first_seen"], "alarms": len(track["alarms"]),
                   "alarm_classes": sorted({a.class_name for a in track["alarms"].values()}),
                   "found": track["found_t"] is not None, "alarm_t_s": track["found_t"]}
            row["latency_s"] = (None if row["alarm_t_s"] is None or row["first_seen_s"] is None
                                else round(row["alarm_t_s"] - row["first_seen_s"], 3))
            row["container_alarm_tracks"] = len(on_target)
            rows.append(row)
        w += 1
    judged = [r for r in rows if r["first_seen_s"] is not None]
    found = [r for r in judged if r["found"]]
    lat = [r["latency_s"] for r in found]
    return {"containers": rows, "passed": len(rows), "in_view": len(judged), "found": len(found),
            "found_fraction": len(found) / len(judged) if judged else None,
            "latency_s": pct(lat), "latency_frames": pct([x * FPS for x in lat]),
            "alarms_total": sum(r["alarms"] for r in rows)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(REPO / "resources" / "models" / "camera.onnx"))
    ap.add_argument("--minutes", type=float, default=1.0, help="object-free video to render (default 1.0)")
    ap.add_argument("--seed", type=int, default=1, help="first embedded-world seed (default 1, as hullwatch sim)")
    ap.add_argument("--containers", type=int, default=8, help="max containers to pass (default 8)")
    ap.add_argument("--clutter-worlds", type=int, default=3,
                    help="worlds whose distractors and niche areas are passed (default 3)")
    args = ap.parse_args()
    if args.minutes <= 0 or args.containers < 0:
        ap.error("--minutes must be > 0 and --containers >= 0")

    from vision.classes import CLASSES
    from vision.detect import OnnxDetector

    t_start = time.monotonic()
    detector = OnnxDetector(args.model, expected_classes=CLASSES, threads=1)  # the station's detector settings
    world_of = _worlds(args.seed)
    runner = Runner(detector)
    free = object_free(runner, world_of, args.minutes, args.seed)
    clutter = clutter_passes(runner, world_of, args.seed, args.clutter_worlds)
    n_free = len(runner.speed["process_ms"])
    all_min = free["minutes"] + clutter["minutes"]
    all_alarms = len(free["alarms"]) + len(clutter["alarms"])
    overall = {"minutes": all_min, "alarms": all_alarms, "alarms_per_min": all_alarms / all_min,
               "goal_alarms_per_min": GOAL_ALARMS_PER_MIN, "pass": all_alarms / all_min <= GOAL_ALARMS_PER_MIN}
    cont = container_passes(runner, world_of, args.containers, args.seed) if args.containers else None
    sp = {k: float(np.median(v)) for k, v in runner.speed.items()}
    inf = np.asarray(runner.speed["inference_ms"])
    speed = {"frames_processed": len(runner.speed["process_ms"]), "frames_object_free_incl_discarded": n_free,
             **{f"{k}_p50": round(v, 2) for k, v in sp.items()},
             "render_over_inference": float(np.median(np.asarray(runner.speed["render_ms"]) / inf)),
             "detector_over_inference": float(np.median(np.asarray(runner.speed["detector_ms"]) / inf)),
             "process_over_inference": float(np.median(np.asarray(runner.speed["process_ms"]) / inf)),
             "track_alarm_over_inference": float(np.median(np.asarray(runner.speed["track_alarm_ms"]) / inf))}
    card = detector.card
    out = {"model": Path(args.model).name, "model_sha256": card.sha256,
           "thresholds": {c: card.threshold(c) for c in ALARM_CLASSES}, "seed": args.seed, "fps": FPS,
           "object_free": free, "clutter_passes": clutter, "object_free_overall": overall,
           "container_passes": cont, "speed": speed,
           "wall_s": round(time.monotonic() - t_start, 1)}

    print(f"model {out['model']} (thresholds {out['thresholds']}); worlds from seed {args.seed}; {FPS:g} frames/s, "
          f"{STEP_M} m/frame")
    print()
    print(f"{'object-free passes':<50} {'value':>12}")
    print(f"{'passes (discarded: alarm class in view)':<50} {len(free['passes']):>7} ({free['passes_discarded']})")
    print(f"{'frames / minutes':<50} {free['frames']:>7} / {free['minutes']:.2f}")
    print(f"{'single-frame false detections/min (all)':<50} {free['false_detections_per_min']:>12.1f}")
    for c in ALARM_CLASSES:
        print(f"{'  ' + c:<50} {free['false_detections_per_min_by_class'][c]:>12.1f}")
    print(f"{'frames with a false detection':<50} {free['frames_with_false_detection']:>7} "
          f"({100.0 * free['frames_with_false_detection'] / max(1, free['frames']):.0f} %)")
    print(f"{'track-confirmed alarms/min':<50} {free['alarms_per_min']:>12.2f}  ({len(free['alarms'])} alarms)")
    print()
    print(f"{'clutter passes (distractors, niche areas)':<50} {'value':>12}")
    print(f"{'passes (discarded: alarm class in view)':<50} {len(clutter['passes']):>7} "
          f"({clutter['passes_discarded']})")
    print(f"{'frames / minutes':<50} {clutter['frames']:>7} / {clutter['minutes']:.2f}")
    if clutter["frames"]:
        print(f"{'single-frame false detections/min (all)':<50} {clutter['false_detections_per_min']:>12.1f}")
        print(f"{'track-confirmed alarms/min':<50} {clutter['alarms_per_min']:>12.2f}  ({len(clutter['alarms'])} "
              f"alarms: {', '.join(sorted({f'{a[0]} at {a[2]}' for a in clutter['alarms']})) or '-'})")
    print(f"{'all object-free video: alarms/min (goal <= 0.5)':<50} {overall['alarms_per_min']:>12.2f}  "
          f"{'PASS' if overall['pass'] else 'FAIL'}  ({all_alarms} alarms in {all_min:.2f} min)")
    if cont is not None:
        print()
        print(f"{'container passes':<50} {'value':>12}")
        print(f"{'containers passed / in view (> 400 px)':<50} {cont['passed']:>7} / {cont['in_view']}")
        frac = "n/a" if cont["found_fraction"] is None else f"{100.0 * cont['found_fraction']:.0f} %"
        print(f"{'alarmed on the container (IoU >= 0.3)':<50} {cont['found']:>7} = {frac}")
        lat, lf = cont["latency_s"], cont["latency_frames"]
        if lat["n"]:
            print(f"{'latency from first sight p50/p95/max, s':<50} {lat['p50']:.1f} / {lat['p95']:.1f} / "
                  f"{lat['max']:.1f}")
            print(f"{'  in frames':<50} {lf['p50']:.0f} / {lf['p95']:.0f} / {lf['max']:.0f}")
        else:
            print(f"{'latency from first sight':<50} {'n/a (none found)':>12}")
        print(f"{'alarms raised in container passes (any)':<50} {cont['alarms_total']:>7}")
        print(f"  {'seed kind':<22} {'standoff m':>10} {'frames':>6} {'in view':>7} {'alarms':>6} {'latency s':>9}"
              f"  alarm classes")
        for r in cont["containers"]:
            latency = "-" if r["latency_s"] is None else f"{r['latency_s']:.1f}"
            seen = "never" if r["first_seen_s"] is None else str(r["frames_in_view"])
            print(f"  {str(r['world_seed']) + ' ' + r['kind']:<22} {r['standoff_m']:>10.2f} {r['frames']:>6} "
                  f"{seen:>7} {r['alarms']:>6} {latency:>9}  {','.join(r['alarm_classes']) or '-'}")
    print()
    print(f"{'speed per frame (median)':<50} {'ms':>8} {'x inference':>12}")
    print(f"{'bare inference (baseline, 1 thread)':<50} {sp['inference_ms']:>8.1f} {1.0:>12.2f}")
    print(f"{'detector call (pre + inference + NMS)':<50} {sp['detector_ms']:>8.1f} "
          f"{speed['detector_over_inference']:>12.2f}")
    print(f"{'tracker + alarms':<50} {sp['track_alarm_ms']:>8.2f} {speed['track_alarm_over_inference']:>12.3f}")
    print(f"{'detector + tracker + alarms (_process)':<50} {sp['process_ms']:>8.1f} "
          f"{speed['process_over_inference']:>12.2f}")
    print(f"{'render 640x480':<50} {sp['render_ms']:>8.1f} {speed['render_over_inference']:>12.2f}")
    print(f"frames processed {speed['frames_processed']}; wall {out['wall_s']:.0f} s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=str))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
