"""Benchmark: the camera model's alarm operating curve, one threshold pair per row.

    python bench/bench_alarm_thresholds.py [--model M.onnx] [--minutes M] [--seed S]
        [--containers N] [--clutter-worlds W] [--pairs 0.35/0.30,0.45/0.35,...]
        [--container-kinds heldout] [--hull FILE --hull-scale K --draft D]
        [--save-tape FILE | --tape FILE] [--verifier V.onnx] [--json FILE]

The same passes as bench/bench_alarms.py (bare plating, clutter past every distractor
and niche area, container passes; same seeds, so the same frames), rendered and run
through the detector ONCE, down to the weakest level any row needs. Each row then
replays those raw detections through a fresh ByteTracker and AlarmBook at its own
thresholds (container / anomaly), exactly as the live pipeline would see them: the
detector's per-class threshold is applied after class-wise NMS, and a box that survives
NMS at a low threshold survives it at a higher one too, so filtering the cached output
equals running the model at that threshold (up to the 300-box cap, never reached here).

A row can add the alarm verifier's second look (vision/detect/verifier.py) at a level of
its own: the verifier's input crop of every raw alarm-class box is kept with the tape, so
a replay judges exactly the crops the live run would have judged.

Per row: track-confirmed alarms per minute of object-free video (bare + clutter), the
containers alarmed, latency p50. The goal (issue 5): >= 0.90 of containers at <= 0.5
alarms per minute. Results: a table on stdout and bench/results/bench_alarm_thresholds.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_alarms as ba  # noqa: E402  (bench/, beside this script)

RESULTS = ba.REPO / "bench" / "results" / "bench_alarm_thresholds.json"
DEFAULT_PAIRS = "0.30/0.25,0.35/0.30,0.40/0.30,0.45/0.35,0.50/0.40,0.55/0.40,0.62/0.43"


class Tape:
    """The detector's raw output, the verifier's crops of its alarm-class boxes and the
    rendered frames' ground truth, in call order."""

    def __init__(self):
        self.frames: list = []  # (truth boxes, raw Detections, image shape)
        self.cursor = 0


class RecordingDetector:
    """The real detector, run down to `floor`; remembers each raw output."""

    def __init__(self, detector, floor: float, tape: Tape, card):
        self.real, self.floor, self.tape, self.card = detector, floor, tape, card
        self.classes = detector.classes
        self.last_timings_ms = {}

    def __call__(self, image, conf=None):
        raw = self.real(image, conf=self.floor)
        self.last_timings_ms = dict(self.real.last_timings_ms)
        self.tape.frames[-1][1] = raw
        self.tape.frames[-1][3] = _alarm_crops(image, raw, self.classes)
        return raw[raw.confidence >= (self.floor if conf is None else conf)]


class ReplayDetector:
    """The recorded raw output, at this row's thresholds (a replay, not a model)."""

    def __init__(self, tape: Tape, card, classes):
        self.tape, self.card, self.classes = tape, card, classes
        self.last_timings_ms = {"preprocess": 0.0, "inference": 1e-3, "postprocess": 0.0}

    def __call__(self, image, conf=None):
        raw = self.tape.frames[self.tape.cursor - 1][1]
        return raw[raw.confidence >= conf]


@dataclasses.dataclass
class _Frame:
    boxes: list
    image: np.ndarray


class RecordingWorld:
    def __init__(self, world, tape: Tape):
        self.world, self.tape = world, tape

    def render_camera(self, pose, cfg, rng):
        frame = self.world.render_camera(pose, cfg, rng)
        self.tape.frames.append([list(frame.boxes), None, frame.image.shape, None])
        return frame


class ReplayWorld:
    def __init__(self, tape: Tape):
        self.tape = tape
        self._blank = {}

    def render_camera(self, pose, cfg, rng):
        boxes, _, shape, _ = self.tape.frames[self.tape.cursor]
        self.tape.cursor += 1
        if shape not in self._blank:
            self._blank[shape] = np.zeros(shape, np.uint8)
        return _Frame(boxes, self._blank[shape])


def _alarm_crops(image, raw, classes) -> dict:
    from vision.detect.verifier import verifier_input

    out = {}
    for i in np.flatnonzero(np.isin(raw.class_id, [classes.index(c) for c in ba.ALARM_CLASSES])):
        crop = verifier_input(image, raw.xyxy[i])
        if crop is not None:
            out[_box_key(raw.xyxy[i])] = crop
    return out


def _box_key(box) -> tuple:
    return tuple(round(float(v) * 100) for v in box)  # the detector's float32 box, to 0.01 px


class TapeVerifier:
    """The real verifier, judging the crop the tape kept for this frame's box, at this
    row's level."""

    def __init__(self, tape: Tape, verifier, level: tuple[float, float]):
        self.tape, self.real = tape, verifier
        self.levels = {"parasitic_container": level[0], "niche_anomaly": level[1]}

    def level(self, class_name):
        return self.levels.get(class_name)

    def score(self, image, box, class_name):
        crop = self.tape.frames[self.tape.cursor - 1][3].get(_box_key(box))
        if crop is None:
            raise RuntimeError(f"no crop on the tape for {box}: the tape and the replay diverged")
        return float(self.real.scores(crop[None])[0, self.real.classes.index(class_name)])


def _card(card, container: float, anomaly: float, evidence=(0.0, 0.0), fitting_iou: float = 0.0):
    thr = dict(card.class_thresholds, parasitic_container=container, niche_anomaly=anomaly)
    extra = dict(card.extra, alarm_evidence_conf_s={"parasitic_container": evidence[0], "niche_anomaly": evidence[1]},
                 fitting_suppression_iou=fitting_iou)
    return dataclasses.replace(card, class_thresholds=thr, extra=extra)


def parse_rows(text: str) -> list[tuple]:
    """"0.35/0.30,0.45/0.35@0.3,0.4/0.3@0.3/0.5~0.6^0.5" -> (container, anomaly, (evidence c,
    evidence a), fitting suppression IoU or 0, (verifier level c, verifier level a) or None)."""
    rows = []
    for item in text.split(","):
        item, _, ver = item.partition("^")
        v = [float(x) for x in ver.split("/")] if ver else []
        if len(v) == 1:
            v = v * 2
        if ver and (len(v) != 2 or not all(0.0 <= x < 1.0 for x in v)):
            raise ValueError(item)
        item, _, fit = item.partition("~")
        pair, _, ev = item.partition("@")
        c, a = (float(v) for v in pair.split("/"))
        e = [float(v) for v in ev.split("/")] if ev else [0.0]
        if len(e) == 1:
            e = e * 2
        if not (0 < min(c, a) and max(c, a) < 1 and len(e) == 2 and min(e) >= 0):
            raise ValueError(item)
        rows.append((c, a, tuple(e), float(fit) if fit else 0.0, tuple(v) if v else None))
    return rows


def _passes(runner, world_of, args):
    free = ba.object_free(runner, world_of, args.minutes, args.seed)
    clutter = ba.clutter_passes(runner, world_of, args.seed, args.clutter_worlds)
    cont = ba.container_passes(runner, world_of, args.containers, args.seed)
    by_kind: dict = {}
    for r in cont["containers"]:
        if r["first_seen_s"] is not None:
            found, seen = by_kind.get(r["kind"], (0, 0))
            by_kind[r["kind"]] = (found + bool(r["found"]), seen + 1)
    minutes = free["minutes"] + clutter["minutes"]
    alarms = len(free["alarms"]) + len(clutter["alarms"])
    return {"minutes": minutes, "alarms": alarms, "alarms_per_min": alarms / minutes,
            "bare_alarms": len(free["alarms"]), "clutter_alarms": len(clutter["alarms"]),
            "clutter_alarm_places": sorted({f"{a[0]} at {a[2]}" for a in clutter["alarms"]}),
            "containers_in_view": cont["in_view"], "containers_found": cont["found"],
            "found_fraction": cont["found_fraction"], "latency_s_p50": cont["latency_s"].get("p50"),
            "found_by_kind": {k: f"{f}/{n}" for k, (f, n) in sorted(by_kind.items())}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ba.REPO / "resources" / "models" / "camera.onnx"))
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--containers", type=int, default=8)
    ap.add_argument("--clutter-worlds", type=int, default=3)
    ap.add_argument("--pairs", default=DEFAULT_PAIRS, help="container/anomaly threshold pairs, comma-separated")
    ap.add_argument("--save-tape", metavar="FILE", help="keep the rendered truth and raw detections in FILE")
    ap.add_argument("--tape", metavar="FILE", help="replay a saved tape instead of rendering and detecting")
    ap.add_argument("--verifier", metavar="FILE.onnx", help="the alarm verifier rows with ^L use (default: the one "
                    "the model's card names)")
    ap.add_argument("--container-kinds", choices=("world", "heldout"), default="world",
                    help="the worlds' containers: the embedded world's kinds (default) or the held-out shapes "
                         "that no training set draws (sim.scenario.HELDOUT_CONTAINER_KINDS)")
    ap.add_argument("--hull", metavar="FILE", help="build the worlds on this hull mesh instead of the embedded "
                    "world's parametric vessel (a hull no training set renders)")
    ap.add_argument("--hull-scale", type=float, default=1.0, metavar="K",
                    help="model-to-full-scale factor of --hull (DTC-scaled.stl.gz: 59.407)")
    ap.add_argument("--draft", type=float, metavar="D", help="draft of --hull in metres at full scale "
                                                             "(default 40%% of its depth)")
    ap.add_argument("--json", metavar="FILE", type=Path, default=RESULTS,
                    help="where to write the results (default bench/results/bench_alarm_thresholds.json; give "
                         "each of several runs at once its own)")
    args = ap.parse_args()
    try:
        pairs = parse_rows(args.pairs)
    except ValueError:
        ap.error("--pairs: give pairs like 0.35/0.30,0.45/0.35 (each between 0 and 1), each optionally with "
                 "@E or @E/E (confidence-seconds of evidence before a container / anomaly alarm), and ~I "
                 "(drop alarm boxes a fitting box covers at IoU >= I) and ^L or ^L/L (the alarm verifier's "
                 "level for containers / anomalies)")

    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.tracking.bytetrack import WEAK_FRACTION

    t0 = time.monotonic()
    detector = OnnxDetector(args.model, expected_classes=CLASSES, threads=1)
    others = min(detector.card.threshold(c) for c in CLASSES if c not in ba.ALARM_CLASSES)
    floor = min(min(min(p[:2]) for p in pairs), others) * WEAK_FRACTION
    tape = Tape()
    if args.tape:
        tape.frames = _load_tape(Path(args.tape), detector.card.sha256, args, floor)
    from sim.scenario import HELDOUT_CONTAINER_KINDS

    worlds = ba._worlds(args.seed, HELDOUT_CONTAINER_KINDS if args.container_kinds == "heldout" else None,
                        **({} if args.hull is None else {"hull_path": args.hull, "hull_scale": args.hull_scale,
                                                         "draft_m": args.draft}))
    rows = []
    verifier = None
    if any(p[4] for p in pairs):
        from vision.detect.verifier import AlarmVerifier, verifier_for

        verifier = AlarmVerifier(args.verifier) if args.verifier else verifier_for(detector)
        if verifier is None:
            ap.error("rows with ^L need --verifier (the model's card names none)")
    for i, (cth, ath, ev, fit, ver) in enumerate(pairs):
        card = _card(detector.card, cth, ath, ev, fit)
        if i == 0 and not args.tape:
            det = RecordingDetector(detector, floor, tape, card)
            world_of = lambda k: _Wrapped(worlds(k), RecordingWorld(worlds(k).world, tape))  # noqa: E731
        else:
            tape.cursor = 0
            det = ReplayDetector(tape, card, detector.classes)
            world_of = lambda k: _Wrapped(worlds(k), ReplayWorld(tape))  # noqa: E731
        det.alarm_verifier = TapeVerifier(tape, verifier, ver) if ver else None
        row = _passes(ba.Runner(det), world_of, args)
        if i == 0 and args.save_tape:
            _save_tape(Path(args.save_tape), tape, detector.card.sha256, args, floor)
        if (i or args.tape) and tape.cursor != len(tape.frames):
            raise RuntimeError(f"replay took {tape.cursor} frames of {len(tape.frames)}: the passes diverged")
        rows.append({"container_threshold": cth, "anomaly_threshold": ath, "evidence_conf_s": list(ev),
                     "fitting_iou": fit, "verifier_levels": list(ver) if ver else None, **row,
                     "goal_met": row["alarms_per_min"] <= ba.GOAL_ALARMS_PER_MIN
                     and (row["found_fraction"] or 0) >= 0.9})
        vtxt = f"^{ver[0]:g}/{ver[1]:g}" if ver else ""
        print(f"{cth:.2f}/{ath:.2f}@{ev[0]:g}/{ev[1]:g}~{fit:g}{vtxt}: {row['alarms_per_min']:.2f} alarms/min, {row['containers_found']}/"
              f"{row['containers_in_view']} containers", file=sys.stderr, flush=True)
    out = {"model": Path(args.model).name, "model_sha256": detector.card.sha256, "seed": args.seed, "container_kinds": args.container_kinds,
           "hull": None if args.hull is None else {"file": Path(args.hull).name, "scale": args.hull_scale,
                                                   "draft_m": args.draft},
           "verifier": None if verifier is None else {"file": verifier.path.name, "sha256": verifier.sha256},
           "minutes_bare": args.minutes, "frames": len(tape.frames), "detector_floor": floor, "rows": rows,
           "wall_s": round(time.monotonic() - t0, 1)}
    print(f"model {out['model']}; worlds from seed {args.seed}; {len(tape.frames)} frames detected once "
          f"(down to {floor:.3f}), replayed per row")
    print(f"{'container/anomaly @evidence~fit^verifier':<28} {'alarms/min':>10} {'bare':>5} {'clutter':>8} {'containers':>11} "
          f"{'latency p50':>12} {'goal':>5}")
    for r in rows:
        lat = "n/a" if r["latency_s_p50"] is None else f"{r['latency_s_p50']:.1f} s"
        ev = "@{:g}/{:g}~{:g}".format(*r["evidence_conf_s"], r["fitting_iou"])
        if r["verifier_levels"]:
            ev += "^{:g}/{:g}".format(*r["verifier_levels"])
        print(f"{r['container_threshold']:.2f} / {r['anomaly_threshold']:.2f} {ev:<15} {r['alarms_per_min']:>10.2f} "
              f"{r['bare_alarms']:>5} {r['clutter_alarms']:>8} {r['containers_found']:>5} / {r['containers_in_view']:<3} "
              f"{lat:>12} {'PASS' if r['goal_met'] else 'FAIL':>5}  "
              + " ".join(f"{k} {v}" for k, v in (r.get("found_by_kind") or {}).items()))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.json}")
    return 0


def _tape_key(sha256: str, args, floor: float) -> dict:
    # the generator version moves whenever what the world renders changes (e.g. v4: the
    # distractors' shapes): a tape of the old look is not a tape of these frames
    from vision.detect.verifier import CONTEXT, INPUT_PX
    from vision.training.synthetic_dataset import WORLD_LOOK_VERSION

    return {"verifier_crops": f"{INPUT_PX}px, context {CONTEXT}", "model_sha256": sha256, "seed": args.seed, "minutes": args.minutes, "containers": args.containers,
            "clutter_worlds": args.clutter_worlds, "floor": round(floor, 6), "world_look": WORLD_LOOK_VERSION,
            **({"container_kinds": args.container_kinds} if args.container_kinds != "world" else {}),
            **({"hull": [Path(args.hull).name, args.hull_scale, args.draft]} if args.hull else {})}


def _save_tape(path: Path, tape: Tape, sha256: str, args, floor: float) -> None:
    with path.open("wb") as f:
        pickle.dump({"key": _tape_key(sha256, args, floor), "frames": tape.frames}, f)


def _load_tape(path: Path, sha256: str, args, floor: float) -> list:
    with path.open("rb") as f:
        saved = pickle.load(f)  # a tape this script wrote on this machine, not foreign input
    want = _tape_key(sha256, args, floor)
    if saved["key"] != want:
        sys.exit(f"{path}: recorded with {saved['key']}, this run needs {want}: record it again with --save-tape")
    return saved["frames"]


class _Wrapped:
    """An EmbeddedWorld whose .world renders through a recorder or a replay."""

    def __init__(self, ew, world):
        self._ew, self.world = ew, world

    def __getattr__(self, name):
        return getattr(self._ew, name)


if __name__ == "__main__":
    sys.exit(main())
