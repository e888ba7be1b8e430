"""Benchmark: the sonar model's alarms as the pilot sees them, per confirmed track, on
rendered sonar passes along the hull, one alarm threshold per row.

    python bench/bench_sonar_alarms.py [--model M.onnx] [--seed S] [--worlds W]
        [--containers N] [--minutes M] [--range R] [--thresholds 0.3,0.4,0.5,0.6,0.7]
        [--json FILE]

The ROV glides along the plating at 1 m/s (0.1 m a ping, 10 pings/s), 1.2-2.5 m off it,
its imaging sonar looking LOOK_AHEAD_M ahead along the hull with the fan laid along the
plating, as a hull sweep holds it (and as most views of the sonar data sets are taken:
vision.training.view_sampling.fan_along_surface). Each ping is the embedded world's
multibeam (sim.sensor_streams.EMBEDDED_MULTIBEAM, range scale R) shown as the station's
640x360 fan, with each object's box in it as the data sets draw it (an echo that does not
stand out of the speckle is not counted as shown).

Passes: M minutes of 10 s passes along bare side plating (bench_alarms.bare_track: the
track and the sonar's range ahead of it 4 m clear of every planted object and 3 m of every
niche area; the bulk of a sweep), one past every distractor (fish, rope, fender, debris,
fouling clump) and every niche area of W worlds (clutter: the object-free sweep that
tempts a detector), a bare or clutter pass in which a container or an anomaly shows being
dropped, and one past every planted container that is not inside a sea-chest recess. A
clutter or container pass starts with its target PASS_AHEAD_M ahead and ends with it
beside the sonar.

The model runs ONCE per ping, down to the weakest level any row needs; each row replays
those raw detections through a fresh ByteTracker and AlarmBook (the live pipeline's step,
DetectionPipeline.process) at its container / anomaly threshold. The card's hull-fitting
suppression and alarm evidence apply as they do live; a model whose card names an alarm
verifier is given twice, with its second look on each ping's fan and without. Why: the
model card's rule counts false alarms per single frame on unrelated val views, but one
fender that scores 0.6 in every ping of a pass raises one alarm, not one per ping, and the
sonar's operating point should be chosen on what the pilot gets.

Per row: track-confirmed alarms per minute of bare plating, of clutter, and of both
together (the object-free sweep, against the camera's goal of <= 0.5 a minute; clutter
passes aim at every distractor, so the more clutter minutes, the harsher the figure),
where they rose, and containers alarmed (a container alarm's track with IoU >= 0.3 on the
container's fan box in some ping) of those shown, and the pings in which the detector's own
box covers the container at that level (single pings, before tracking: whether a miss is the
detector's or the tracker's); per model, the operating row (the most
containers within the goal). Results: a table on stdout and
bench/results/bench_sonar_alarms.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bench_alarms as ba  # noqa: E402  (bench/, beside this script)

RESULTS = REPO / "bench" / "results" / "bench_sonar_alarms.json"
FPS, STEP_M, STANDOFF_M = ba.FPS, ba.STEP_M, ba.STANDOFF_M  # as the camera's passes
PASS_S = 10.0  # one bare-plating pass
LOOK_AHEAD_M = 3.0  # where along the hull the fan's axis meets the plating
PASS_AHEAD_M = 5.0  # a pass starts with its target this far ahead
FAN_SIZE = (640, 360)
MATCH_IOU = 0.3
ALARM_CLASSES = ("parasitic_container", "niche_anomaly")
DEFAULT_THRESHOLDS = "0.3,0.4,0.5,0.6,0.7"


def pass_poses(centre, normal, standoff: float, direction: float):
    """Sonar poses of a glide that ends beside `centre`, the fan laid along the plating."""
    n, along = ba.along_hull(normal)
    along = along * direction
    c = np.asarray(centre, float)
    offsets = np.arange(-PASS_AHEAD_M, 1e-9, STEP_M)
    points = c + along * (offsets + LOOK_AHEAD_M)[:, None]
    return _fan_poses(c + along * offsets[:, None] + n * standoff, points, np.tile(n, (len(offsets), 1)))


def _fan_poses(positions, aims, normals):
    from sim.world import SensorPose
    from vision.training.view_sampling import fan_along_surface

    still = np.random.default_rng(0)  # no roll: fan_along_surface draws it with sigma 0
    poses = []
    for pos, aim, n in zip(positions, aims, normals):
        f, u = fan_along_surface(pos, aim, n, still, roll_sigma_deg=0.0)
        poses.append(SensorPose(pos, f, u))
    return poses


def bare_poses(ew, n: int, rng, range_m: float):
    """Sonar poses of an n-ping glide along bare side plating (bench_alarms.bare_track, kept
    clear for the sonar's range ahead), or None if this draw comes near something."""
    look = int(round(LOOK_AHEAD_M / STEP_M))
    track = ba.bare_track(ew, n, rng, ahead=max(look, int(round(range_m / STEP_M))))
    if track is None:
        return None
    points, normals, standoff, info = track
    return _fan_poses(points[:n] + normals[:n] * standoff, points[look:look + n], normals[:n]), info


@dataclasses.dataclass
class Ping:
    truth: list  # (name, class, fan box) of what the ping shows
    raw: list  # each model's Detections down to its floor
    image: np.ndarray  # the fan, for the alarm verifier's second look and the alarm snapshot


def render_pass(world, poses, cfg, seed: int, detectors, floors) -> list[Ping]:
    from vision.training.synthetic_dataset import SONAR_MIN_CONTRAST, sonar_fan_boxes

    rng = np.random.default_rng(seed)
    out = []
    for pose in poses:
        frame = world.render_sonar(pose, cfg, rng)
        fan, boxes, contrast = sonar_fan_boxes(frame, FAN_SIZE)
        shown = [b for b, k in zip(boxes, contrast) if k >= SONAR_MIN_CONTRAST]
        out.append(Ping(shown, [d(fan.image, conf=f) for d, f in zip(detectors, floors)], fan.image))
    return out


class ReplayDetector:
    """A pass's recorded raw detections at this row's thresholds (a replay, not a model),
    with the model's alarm verifier (None: alarms without a second look)."""

    def __init__(self, card, classes, index: int, verifier=None):
        self.card, self.classes, self.index = card, classes, index
        self.alarm_verifier = verifier
        self.raw = None
        self.last_timings_ms = {"preprocess": 0.0, "inference": 1e-3, "postprocess": 0.0}

    def __call__(self, image, conf=None):
        return self.raw[self.raw.confidence >= conf]


def replay(pings: list[Ping], det: ReplayDetector):
    """(new alarms, {track id: alarm}, the detections of each ping) of one pass."""
    from vision.detect.pipeline import DetectionPipeline, FrameIn

    pipe = DetectionPipeline(det, source="sonar")  # never started: its step is called here
    alarms, per_ping = [], []
    for k, p in enumerate(pings):
        det.raw = p.raw[det.index]
        result = pipe.process(FrameIn(p.image, k / FPS, k))
        alarms += result.new_alarms
        per_ping.append(result.detections)
    return alarms, {a.track_id: a for a in alarms}, per_ping


def _row_card(card, container: float, anomaly: float):
    return dataclasses.replace(card, class_thresholds=dict(card.class_thresholds, parasitic_container=container,
                                                           niche_anomaly=anomaly))


def _minutes(entries) -> float:
    return sum(len(e["pings"]) for e in entries) / FPS / 60.0


def _rate(alarms, minutes: float):
    return len(alarms) / minutes if minutes else None


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def bare_passes(args, world_of, cfg, detectors, floors) -> list[dict]:
    """args.minutes of 10 s passes along bare plating, the worlds taken in turn; a draw in
    which a container or an anomaly shows is drawn again."""
    rng = np.random.default_rng([args.seed, 6])
    n = int(round(PASS_S * FPS))
    out = []
    for p in range(math.ceil(args.minutes * 60 * FPS / n)):
        w = p % args.worlds
        ew = world_of(w)
        for _ in range(40):
            plan = bare_poses(ew, n, rng, args.range)
            if plan is None:
                continue
            pings = render_pass(ew.world, plan[0], cfg, int(rng.integers(1 << 31)), detectors, floors)
            if any(c in ALARM_CLASSES for q in pings for _, c, _ in q.truth):
                continue
            out.append({"world_seed": args.seed + w, "target": "bare plating", "kind": "bare", **plan[1],
                        "pings": pings})
            print(f"bare pass {len(out)} (world {args.seed + w}, {plan[1]['side']})", file=sys.stderr, flush=True)
            break
        else:
            raise RuntimeError(f"no bare plating clear of objects for a sonar pass in 40 draws on world "
                               f"{args.seed + w}")
    return out


def target_passes(args, world_of, cfg, detectors, floors) -> tuple[list[dict], list[dict]]:
    """(clutter passes, container passes) of the first args.worlds worlds."""
    from sim.scenario import DISTRACTOR_KINDS, RECESS_KINDS

    rng = np.random.default_rng([args.seed, 5])
    clutter, containers = [], []
    for w in range(args.worlds):
        ew = world_of(w)
        targets = [("clutter", o.name, o.kind, o.center_h, o.normal_h) for o in ew.scenario.objects
                   if o.kind in DISTRACTOR_KINDS]
        targets += [("clutter", a.name, a.kind.value, a.center_h, a.normal_h) for a in ew.model.niche_areas]
        targets += [("container", o.name, o.kind, o.center_h, o.normal_h) for o in ew.scenario.objects
                    if o.class_name == "parasitic_container" and o.kind not in RECESS_KINDS]
        for role, name, kind, centre, normal in targets:
            if role == "container" and len(containers) >= args.containers:
                continue
            poses = pass_poses(centre, normal, float(rng.uniform(*STANDOFF_M)), float(rng.choice([-1.0, 1.0])))
            pings = render_pass(ew.world, poses, cfg, int(rng.integers(1 << 31)), detectors, floors)
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
    return clutter, containers


def _found(entry: dict, det: ReplayDetector, cid: int) -> bool:
    """Whether a container alarm's track covers the pass's container in some ping."""
    from vision.detections import box_iou

    _, by_track, per_ping = replay(entry["pings"], det)
    for p, d in zip(entry["pings"], per_ping):
        truth = [b for nm, _, b in p.truth if nm == entry["target"]]
        if not truth or d.tracker_id is None:
            continue
        for i in np.flatnonzero(d.tracker_id > 0):
            if by_track.get(int(d.tracker_id[i])) is not None and int(d.class_id[i]) == cid and \
                    box_iou(np.array([truth[0]], float), d.xyxy[i:i + 1].astype(float))[0, 0] >= MATCH_IOU:
                return True
    return False


def ping_hits(entries: list[dict], index: int, cid: int, thr: float) -> tuple[int, int]:
    """(pings in which a container box at or above thr covers the pass's container, pings
    that show it): single-ping recall, before any tracking."""
    from vision.detections import box_iou

    hits = shown = 0
    for e in entries:
        for p in e["pings"]:
            truth = [b for nm, _, b in p.truth if nm == e["target"]]
            if not truth:
                continue
            shown += 1
            raw = p.raw[index]
            boxes = raw.xyxy[(raw.class_id == cid) & (raw.confidence >= thr)].astype(float)
            hits += int(bool(len(boxes)) and box_iou(np.array([truth[0]], float), boxes).max() >= MATCH_IOU)
    return hits, shown


def model_rows(index: int, detector, rows_thr, bare, clutter, containers, verifier=None) -> list[dict]:
    cid = detector.classes.index("parasitic_container")
    card = detector.card
    rows = []
    for thr in rows_thr:
        det = ReplayDetector(_row_card(card, thr, max(thr, card.threshold("niche_anomaly"))), detector.classes, index,
                             verifier)
        bare_alarms = [f"{a.class_name} at {e['target']}" for e in bare for a in replay(e["pings"], det)[0]]
        false_alarms = [f"{a.class_name} at {e['target']}" for e in clutter for a in replay(e["pings"], det)[0]]
        judged = [e for e in containers if e["shown"]]
        found = sum(_found(e, det, cid) for e in judged)
        hits, shown_pings = ping_hits(judged, index, cid, thr)
        minutes, bare_minutes = _minutes(clutter), _minutes(bare)
        sweep = (len(bare_alarms) + len(false_alarms)) / (minutes + bare_minutes) if minutes + bare_minutes else None
        rows.append({"container_threshold": thr, "bare_minutes": round(bare_minutes, 3),
                     "bare_alarms": len(bare_alarms), "bare_alarms_per_min": _rate(bare_alarms, bare_minutes),
                     "clutter_minutes": round(minutes, 3), "clutter_alarms": len(false_alarms),
                     "alarms_per_min": _rate(false_alarms, minutes), "object_free_alarms_per_min": sweep,
                     "goal_met": sweep is not None and sweep <= ba.GOAL_ALARMS_PER_MIN,
                     "alarm_places": sorted(set(false_alarms + bare_alarms)), "containers_shown": len(judged),
                     "containers_found": found, "found_fraction": found / len(judged) if judged else None,
                     "container_pings_shown": shown_pings, "container_pings_detected": hits})
    return rows


def operating_row(rows: list[dict]) -> dict | None:
    """The row a sonar operating point is chosen by (as the camera's was): the most containers
    alarmed within the goal's alarms per minute of object-free sweep, then the fewest alarms,
    then the highest threshold."""
    ok = [r for r in rows if r["goal_met"]]
    return max(ok, key=lambda r: (r["containers_found"], -(r["bare_alarms"] + r["clutter_alarms"]),
                                  r["container_threshold"])) if ok else None


def _print_rows(m: dict) -> None:
    second = f", second look by {m['alarm_verifier']}" if m["alarm_verifier"] else ", no second look"
    print(f"model {m['model']} (card threshold {m['card_container_threshold']}{second})")
    print(f"{'threshold':>9} {'bare /min':>9} {'clutter /min':>12} {'object-free /min':>16} "
          f"{'containers alarmed':>19} {'pings':>11}  where")
    for r in m["rows"]:
        frac = "n/a" if r["found_fraction"] is None else f"{100 * r['found_fraction']:.0f} %"
        print(f"{r['container_threshold']:>9.2f} {_fmt(r['bare_alarms_per_min']):>9} {_fmt(r['alarms_per_min']):>12} "
              f"{_fmt(r['object_free_alarms_per_min']):>16} {r['containers_found']:>5} / {r['containers_shown']:<3} "
              f"{frac:>7} {r['container_pings_detected']:>5}/{r['container_pings_shown']:<5}  "
              f"{', '.join(r['alarm_places']) or '-'}")
    best = m["operating_threshold"]
    print("  operating point: " + ("no row meets the goal" if best is None else
                                   f"{best:.2f} (most containers within the goal, then fewest alarms)"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", type=Path,
                    help="sonar model (default the shipped one); repeat it to judge several on the same pings")
    ap.add_argument("--seed", type=int, default=1, help="first embedded-world seed (default 1, as hullwatch sim)")
    ap.add_argument("--worlds", type=int, default=2, help="worlds whose clutter and containers are passed")
    ap.add_argument("--containers", type=int, default=12, help="max containers to pass (default 12)")
    ap.add_argument("--minutes", type=float, default=3.0,
                    help="minutes of bare-plating sweep, in 10 s passes (default 3; 0: none)")
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
    if not all(0 < t < 1 for t in rows_thr) or args.worlds < 1 or not 3.0 <= args.range <= 30.0 \
            or args.minutes < 0:
        ap.error("--thresholds in (0, 1), --worlds >= 1, --range 3..30 m, --minutes >= 0")
    models = args.model or [REPO / "resources" / "models" / "sonar.onnx"]

    from sim.sensor_streams import EMBEDDED_MULTIBEAM
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.verifier import verifier_for
    from vision.tracking.bytetrack import WEAK_FRACTION

    t0 = time.monotonic()
    detectors = [OnnxDetector(m, expected_classes=CLASSES, threads=1) for m in models]
    floors = [min(min(rows_thr), *(d.card.threshold(c) for c in CLASSES if c not in ALARM_CLASSES)) * WEAK_FRACTION
              for d in detectors]
    cfg = dataclasses.replace(EMBEDDED_MULTIBEAM, max_range_m=args.range)
    world_of = ba._worlds(args.seed)
    clutter, containers = target_passes(args, world_of, cfg, detectors, floors)
    bare = bare_passes(args, world_of, cfg, detectors, floors)

    out = {"seed": args.seed, "worlds": args.worlds, "range_m": args.range, "fps": FPS, "bare_passes": len(bare),
           "clutter_passes": len(clutter), "container_passes": len(containers),
           "pings": sum(len(e["pings"]) for e in bare + clutter + containers),
           "goal_alarms_per_min": ba.GOAL_ALARMS_PER_MIN, "models": []}
    for i, (path, d) in enumerate(zip(models, detectors)):
        verifier = verifier_for(d)
        for second_look in ([verifier, None] if verifier is not None else [None]):
            out["models"].append({"model": str(path), "model_sha256": d.card.sha256,
                                  "card_container_threshold": d.card.threshold("parasitic_container"),
                                  "detector_floor": round(floors[i], 4),
                                  "alarm_verifier": None if second_look is None else second_look.path.name,
                                  "rows": model_rows(i, d, rows_thr, bare, clutter, containers, second_look)})
            best = operating_row(out["models"][-1]["rows"])
            out["models"][-1]["operating_threshold"] = None if best is None else best["container_threshold"]
    out["wall_s"] = round(time.monotonic() - t0, 1)
    print(f"worlds from seed {args.seed}; range {args.range:g} m; {out['pings']} pings, each model run once a ping "
          f"and replayed per row; {_fmt(_minutes(bare))} min bare plating + {_fmt(_minutes(clutter))} min clutter")
    for m in out["models"]:
        _print_rows(m)
    print(f"goal: <= {ba.GOAL_ALARMS_PER_MIN} alarms per minute of object-free sweep (bare plating and clutter "
          f"together)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
