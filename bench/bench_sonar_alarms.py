"""Benchmark: the sonar model's alarms as the pilot sees them, per confirmed track, on
rendered sonar passes along the hull, one alarm threshold per row.

    python bench/bench_sonar_alarms.py [--model M.onnx] [--seed S] [--worlds W]
        [--containers N] [--range R] [--thresholds 0.3,0.4,0.5,0.6,0.7] [--json FILE]

The ROV glides along the plating at 1 m/s (0.1 m a ping, 10 pings/s), 1.2-2.5 m off it,
its imaging sonar looking LOOK_AHEAD_M ahead along the hull with the fan laid along the
plating, as a hull sweep holds it (and as most views of the sonar data sets are taken:
vision.training.view_sampling.fan_along_surface). Each ping is the embedded world's
multibeam (sim.sensor_streams.EMBEDDED_MULTIBEAM, range scale R) shown as the station's
640x360 fan, with each object's box in it as the data sets draw it (an echo that does not
stand out of the speckle is not counted as shown).

Passes: one past every distractor (fish, rope, fender, debris, fouling clump) and every
niche area of W worlds (clutter: the object-free sweep that tempts a detector; a pass in
which a container or an anomaly shows is dropped), and one past every planted container
that is not inside a sea-chest recess. A pass starts with its target PASS_AHEAD_M ahead
and ends with it beside the sonar.

The model runs ONCE per ping, down to the weakest level any row needs; each row replays
those raw detections through a fresh ByteTracker and AlarmBook (the live pipeline's step,
DetectionPipeline._process) at its container / anomaly threshold. Why: the model card's
rule counts false alarms per single frame on unrelated val views, but one fender that
scores 0.6 in every ping of a pass raises one alarm, not one per ping, and the sonar's
operating point should be chosen on what the pilot gets.

Per row: track-confirmed alarms per minute of clutter sweep (and where), containers
alarmed (a container alarm's track with IoU >= 0.3 on the container's fan box in some
ping) of those shown. Results: a table on stdout and bench/results/bench_sonar_alarms.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results" / "bench_sonar_alarms.json"
FPS = 10.0
STEP_M = 0.1
STANDOFF_M = (1.2, 2.5)
LOOK_AHEAD_M = 3.0  # where along the hull the fan's axis meets the plating
PASS_AHEAD_M = 5.0  # a pass starts with its target this far ahead
FAN_SIZE = (640, 360)
MATCH_IOU = 0.3
ALARM_CLASSES = ("parasitic_container", "niche_anomaly")
DEFAULT_THRESHOLDS = "0.3,0.4,0.5,0.6,0.7"


def _along(normal) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    ref = np.array([0.0, 0.0, 1.0]) if abs(n[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    a = np.cross(n, ref)
    return n, a / np.linalg.norm(a)


def pass_poses(centre, normal, standoff: float, direction: float):
    """Sonar poses of a glide that ends beside `centre`, the fan laid along the plating."""
    from sim.world import SensorPose
    from vision.training.view_sampling import fan_along_surface

    n, along = _along(normal)
    along = along * direction
    c = np.asarray(centre, float)
    still = np.random.default_rng(0)  # no roll: fan_along_surface draws it with sigma 0
    poses = []
    for o in np.arange(-PASS_AHEAD_M, 1e-9, STEP_M):
        pos = c + along * o + n * standoff
        f, u = fan_along_surface(pos, c + along * (o + LOOK_AHEAD_M), n, still, roll_sigma_deg=0.0)
        poses.append(SensorPose(pos, f, u))
    return poses


@dataclasses.dataclass
class Ping:
    truth: list  # (name, class, fan box) of what the ping shows
    raw: object  # the detector's Detections down to the floor


def render_pass(world, poses, cfg, seed: int, detector, floor: float) -> list[Ping]:
    from vision.training.synthetic_dataset import SONAR_MIN_CONTRAST, sonar_fan_boxes

    rng = np.random.default_rng(seed)
    out = []
    for pose in poses:
        frame = world.render_sonar(pose, cfg, rng)
        fan, boxes, contrast = sonar_fan_boxes(frame, FAN_SIZE)
        shown = [b for b, k in zip(boxes, contrast) if k >= SONAR_MIN_CONTRAST]
        out.append(Ping(shown, detector(fan.image, conf=floor)))
    return out


class ReplayDetector:
    """A pass's recorded raw detections at this row's thresholds (a replay, not a model)."""

    def __init__(self, card, classes):
        self.card, self.classes = card, classes
        self.raw = None
        self.last_timings_ms = {"preprocess": 0.0, "inference": 1e-3, "postprocess": 0.0}

    def __call__(self, image, conf=None):
        return self.raw[self.raw.confidence >= conf]


def replay(pings: list[Ping], det: ReplayDetector):
    """(new alarms, {track id: alarm}, the detections of each ping) of one pass."""
    from vision.detect.pipeline import DetectionPipeline, FrameIn

    pipe = DetectionPipeline(det, source="sonar")  # never started: its step is called here
    blank = np.zeros(FAN_SIZE[::-1], np.uint8)
    alarms, per_ping = [], []
    for k, p in enumerate(pings):
        det.raw = p.raw
        result = pipe._process(FrameIn(blank, k / FPS, k))
        alarms += result.new_alarms
        per_ping.append(result.detections)
    return alarms, {a.track_id: a for a in alarms}, per_ping


def _row_card(card, container: float, anomaly: float):
    return dataclasses.replace(card, class_thresholds=dict(card.class_thresholds, parasitic_container=container,
                                                           niche_anomaly=anomaly))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(REPO / "resources" / "models" / "sonar.onnx"))
    ap.add_argument("--seed", type=int, default=1, help="first embedded-world seed (default 1, as hullwatch sim)")
    ap.add_argument("--worlds", type=int, default=2, help="worlds whose clutter and containers are passed")
    ap.add_argument("--containers", type=int, default=12, help="max containers to pass (default 12)")
    ap.add_argument("--range", type=float, default=6.0, help="sonar range scale in metres (default 6)")
    ap.add_argument("--thresholds", default=DEFAULT_THRESHOLDS,
                    help="container alarm thresholds, one row each (anomalies at the same level or the card's, "
                         "whichever is higher)")
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args()
    try:
        rows_thr = [float(v) for v in args.thresholds.split(",")]
    except ValueError:
        ap.error("--thresholds: numbers between 0 and 1, comma-separated")
    if not all(0 < t < 1 for t in rows_thr) or args.worlds < 1 or not 3.0 <= args.range <= 30.0:
        ap.error("--thresholds in (0, 1), --worlds >= 1, --range 3..30 m")

    from sim.embedded_world import build_world
    from sim.scenario import DISTRACTOR_KINDS, RECESS_KINDS
    from sim.sensor_streams import EMBEDDED_MULTIBEAM
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detections import box_iou
    from vision.tracking.bytetrack import WEAK_FRACTION

    t0 = time.monotonic()
    detector = OnnxDetector(args.model, expected_classes=CLASSES, threads=1)
    card = detector.card
    others = min(card.threshold(c) for c in CLASSES if c not in ALARM_CLASSES)
    floor = min(min(rows_thr), others) * WEAK_FRACTION
    cfg = dataclasses.replace(EMBEDDED_MULTIBEAM, max_range_m=args.range)
    rng = np.random.default_rng([args.seed, 5])
    clutter, containers = [], []
    for w in range(args.worlds):
        ew = build_world(seed=args.seed + w)
        targets = [("clutter", o.name, o.kind, o.center_h, o.normal_h) for o in ew.scenario.objects
                   if o.kind in DISTRACTOR_KINDS]
        targets += [("clutter", a.name, a.kind.value, a.center_h, a.normal_h) for a in ew.model.niche_areas]
        targets += [("container", o.name, o.kind, o.center_h, o.normal_h) for o in ew.scenario.objects
                    if o.class_name == "parasitic_container" and o.kind not in RECESS_KINDS]
        for role, name, kind, centre, normal in targets:
            if role == "container" and len(containers) >= args.containers:
                continue
            poses = pass_poses(centre, normal, float(rng.uniform(*STANDOFF_M)), float(rng.choice([-1.0, 1.0])))
            pings = render_pass(ew.world, poses, cfg, int(rng.integers(1 << 31)), detector, floor)
            entry = {"world_seed": args.seed + w, "target": name, "kind": kind, "pings": pings}
            if role == "clutter":
                if any(c in ALARM_CLASSES for p in pings for _, c, _ in p.truth):
                    continue  # a container or an anomaly showed: not an object-free pass
                clutter.append(entry)
            else:
                entry["shown"] = sum(any(nm == name for nm, _, _ in p.truth) for p in pings)
                containers.append(entry)
            print(f"{role} pass {len(clutter) + len(containers)}: {name} (world {args.seed + w})",
                  file=sys.stderr, flush=True)

    cid = CLASSES.index("parasitic_container")
    rows = []
    for thr in rows_thr:
        det = ReplayDetector(_row_card(card, thr, max(thr, card.threshold("niche_anomaly"))), detector.classes)
        false_alarms = []
        for e in clutter:
            alarms, _, _ = replay(e["pings"], det)
            false_alarms += [f"{a.class_name} at {e['target']}" for a in alarms]
        found = 0
        judged = [e for e in containers if e["shown"]]
        for e in judged:
            _, by_track, per_ping = replay(e["pings"], det)
            hit = False
            for p, d in zip(e["pings"], per_ping):
                truth = [b for nm, _, b in p.truth if nm == e["target"]]
                if not truth or d.tracker_id is None:
                    continue
                for i in np.flatnonzero(d.tracker_id > 0):
                    a = by_track.get(int(d.tracker_id[i]))
                    if a is not None and int(d.class_id[i]) == cid and \
                            box_iou(np.array([truth[0]], float), d.xyxy[i:i + 1].astype(float))[0, 0] >= MATCH_IOU:
                        hit = True
            found += hit
        minutes = sum(len(e["pings"]) for e in clutter) / FPS / 60.0
        rows.append({"container_threshold": thr, "clutter_minutes": round(minutes, 3),
                     "clutter_alarms": len(false_alarms), "alarms_per_min": len(false_alarms) / minutes if minutes else None,
                     "alarm_places": sorted(set(false_alarms)), "containers_shown": len(judged),
                     "containers_found": found, "found_fraction": found / len(judged) if judged else None})
    out = {"model": Path(args.model).name, "model_sha256": card.sha256, "card_container_threshold":
           card.threshold("parasitic_container"), "seed": args.seed, "worlds": args.worlds, "range_m": args.range,
           "fps": FPS, "clutter_passes": len(clutter), "container_passes": len(containers),
           "pings": sum(len(e["pings"]) for e in clutter + containers), "detector_floor": round(floor, 4),
           "rows": rows, "wall_s": round(time.monotonic() - t0, 1)}
    print(f"model {out['model']} (card threshold {out['card_container_threshold']}); worlds from seed {args.seed}; "
          f"range {args.range:g} m; {out['pings']} pings detected once, replayed per row")
    print(f"{'threshold':>9} {'clutter alarms/min':>19} {'alarms':>6} {'containers alarmed':>19}  where")
    for r in rows:
        apm = "n/a" if r["alarms_per_min"] is None else f"{r['alarms_per_min']:.2f}"
        frac = "n/a" if r["found_fraction"] is None else f"{100 * r['found_fraction']:.0f} %"
        print(f"{r['container_threshold']:>9.2f} {apm:>19} {r['clutter_alarms']:>6} "
              f"{r['containers_found']:>5} / {r['containers_shown']:<3} {frac:>7}  {', '.join(r['alarm_places']) or '-'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
