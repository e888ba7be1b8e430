"""Trains the alarm verifier (vision/detect/verifier.py): the second look a confirmed
track gets before it alarms.

    python -m vision.training.alarm_verifier DATASET [DATASET ...] --detector M.onnx
        --out resources/models/camera_verifier.onnx [--epochs 30] [--seed 0] [--cache DIR]

Its examples are the detector's own boxes on rendered data sets (`hullwatch dataset`),
mined at a low confidence so that what fools the detector is in them:
- a box on a labelled container or anomaly (IoU >= POSITIVE_IOU, same class) is that class;
- an alarm-class box that overlaps no labelled container or anomaly (IoU < NEGATIVE_IOU) is
  "background": a fender, a fouling clump, debris, a fish or bare plating;
- boxes in between are left out, and so are boxes that hull fittings cover (the detector's
  card drops those before tracking, as track_frame does), and alarm boxes on a labelled
  anode (IoU >= FITTING_IOU): anodes are blocks much like boxes, so teaching the verifier
  that blocks are background cost it real magnetic boxes and box-shaped bags (measured:
  seed 11's bench worlds lost 3 of 7). A container box on a bare propeller, rudder or
  thruster tunnel is background, though: leaving those out too (before 2026-11-30) let
  every bench world alarm at its propeller, since the verifier had never seen one.
The labelled boxes themselves are added as positives too, each moved by a few per cent, so
the verifier does not only learn the views the detector already finds easy; and the boxes
of the look-alikes in view (index.jsonl's "distractors", data sets of 2026-11-29 on) are
added as background the same way, whether the detector fired on them or not.

Images of the data sets' train and val splits train it; the test splits choose its levels:
per class, the highest level that still passes MIN_KEEP of the test split's true detections
at or above the detector's operating threshold. The card records the data sets (with the
SHA-256 of their cards), the seed, the counts and the test split's figures.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from vision.classes import ALARM_CLASSES
from vision.detect.verifier import FORMAT, INPUT_PX, VERSION, verifier_input
from vision.training.yolo_layout import data_card_path

POSITIVE_IOU, NEGATIVE_IOU = 0.5, 0.1
FITTING_IOU = 0.3
BLOCK_FITTINGS = ("anode",)  # fittings shaped like a container: never taught as background
# with JITTER, on the 2026-11-30 crops' test split: false boxes kept at 0.97 of the true ones 0.45 -> 0.36
LABEL_SMOOTHING = 0.1
JITTER = 0.1  # shift and scale of a crop, as a fraction of it: the tracker's boxes wander that much
MINE_CONF = 0.1
MIN_KEEP = 0.97
CLASSES = ("background", "parasitic_container", "niche_anomaly")  # fixed order: ALARM_CLASSES is a set


def mine(data_dir, detector, splits, *, conf: float = MINE_CONF, seed: int = 0, progress=None) -> dict:
    """Crops (N, S, S, 3) uint8, labels (N,) into CLASSES, the detector's confidence per
    crop (1.0 for a labelled box added as itself) and whether it is a detector box."""
    from vision.evaluation.evaluate_dataset import _read_image, label_path_for, read_dataset, read_labels
    from vision.detections import box_iou
    from vision.fittings import FIELD as FITTING_FIELD, drop_alarms_on_fittings

    ds = read_dataset(data_dir)
    rng = np.random.default_rng(seed)
    alarm_ids = {i: CLASSES.index(n) for i, n in enumerate(detector.classes) if n in ALARM_CLASSES}
    ds_alarm = {i: CLASSES.index(n) for i, n in enumerate(ds.names) if n in ALARM_CLASSES}
    block_ids = [i for i, n in enumerate(ds.names) if n in BLOCK_FITTINGS]
    fit_iou = detector.card.extra.get(FITTING_FIELD)
    look_alikes = _distractor_boxes(Path(data_dir))
    crops, labels, confs, mined = [], [], [], []
    images = [p for s in splits for p in ds.split_images(s)]
    for k, path in enumerate(images):
        img = _read_image(path)
        h, w = img.shape[:2]
        tb, tc = read_labels(label_path_for(path), w, h, len(ds.names))
        keep = np.isin(tc, list(ds_alarm))
        fittings = tb[~keep & np.isin(tc, block_ids)]
        tb, tl = tb[keep], np.array([ds_alarm[int(c)] for c in tc[keep]], int)
        alike, faint = look_alikes.get(path.resolve(), (np.zeros((0, 4)), np.zeros((0, 4))))
        det = detector(img, conf=conf)
        if fit_iou:
            det = drop_alarms_on_fittings(det, detector.classes, float(fit_iou))
        for i in np.flatnonzero(np.isin(det.class_id, list(alarm_ids))):
            label = alarm_ids[int(det.class_id[i])]
            same = tb[tl == label]
            if not (len(same) and box_iou(det.xyxy[i:i + 1], same).max() >= POSITIVE_IOU):
                if _overlaps(det.xyxy[i], tb, faint) or _overlaps(det.xyxy[i], fittings, min_iou=FITTING_IOU):
                    continue  # half on an object, on one too faint to label, or on a fitting (docstring)
                label = 0
            crop = verifier_input(img, det.xyxy[i])
            if crop is not None:
                crops.append(crop), labels.append(label), confs.append(float(det.confidence[i])), mined.append(True)
        for b, lab in zip(tb, tl):
            bw, bh = b[2] - b[0], b[3] - b[1]
            j = b + rng.normal(0.0, 0.04, 4) * np.array([bw, bh, bw, bh])
            crop = verifier_input(img, j)
            if crop is not None and min(bw, bh) >= 8:
                crops.append(crop), labels.append(int(lab)), confs.append(1.0), mined.append(False)
        for b in alike:
            if _overlaps(b, tb, faint):
                continue  # a rope across a bag: not a clean look-alike
            bw, bh = b[2] - b[0], b[3] - b[1]
            crop = verifier_input(img, b + rng.normal(0.0, 0.04, 4) * np.array([bw, bh, bw, bh]))
            if crop is not None:
                crops.append(crop), labels.append(0), confs.append(0.0), mined.append(False)
        if progress and (k + 1) % 200 == 0:
            progress(f"verifier: mined {k + 1}/{len(images)} images of {Path(data_dir).name}, {len(crops)} crops")
    return {"crops": np.stack(crops) if crops else np.zeros((0, INPUT_PX, INPUT_PX, 3), np.uint8),
            "labels": np.asarray(labels, int), "confidence": np.asarray(confs, np.float32),
            "mined": np.asarray(mined, bool)}


def _overlaps(box, *box_sets, min_iou: float = NEGATIVE_IOU) -> bool:
    from vision.detections import box_iou

    return any(len(b) and box_iou(np.asarray(box, float)[None], b).max() >= min_iou for b in box_sets)


def _distractor_boxes(data_dir: Path) -> dict:
    """image path -> ((N, 4) boxes of the look-alikes in view (fenders, clumps, debris, fish,
    ropes), (M, 4) boxes of labelled classes too faint to label), from the data set's
    index.jsonl; empty for data sets rendered before it kept them."""
    out = {}
    index = data_dir / "index.jsonl"
    if not index.is_file():
        return out
    for line in index.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        alike = np.asarray([d["xyxy"] for d in rec.get("distractors", ())], float).reshape(-1, 4)
        faint = np.asarray([d["xyxy"] for d in rec.get("too_faint_boxes", ())], float).reshape(-1, 4)
        if len(alike) or len(faint):
            out[(data_dir / rec["image"]).resolve()] = (alike, faint)
    return out


def _concat(parts: list[dict]) -> dict:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _net(n_out: int):
    import torch.nn as nn

    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    return nn.Sequential(*block(3, 16), *block(16, 32), *block(32, 64), *block(64, 96),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(96, n_out))


def _augment(x, rng):
    """Mirror left-right (a hull seen from either side), brightness and contrast of murky
    water, and the box a little off and a little too big or small (a tracked box's wander)."""
    import torch
    import torch.nn.functional as F

    n = x.shape[0]
    flip = torch.from_numpy(rng.random(n) < 0.5)
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    gain = torch.from_numpy(rng.uniform(0.7, 1.3, (n, 1, 1, 1)).astype(np.float32))
    bias = torch.from_numpy(rng.uniform(-0.08, 0.08, (n, 1, 1, 1)).astype(np.float32))
    x = (x * gain + bias).clamp(0.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    scale = torch.from_numpy(rng.uniform(1.0 - JITTER, 1.0 + JITTER, n).astype(np.float32))
    theta[:, 0, 0] = theta[:, 1, 1] = scale
    theta[:, :, 2] = torch.from_numpy(rng.uniform(-JITTER, JITTER, (n, 2)).astype(np.float32))
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def train(train_set: dict, epochs: int, seed: int, progress=None, threads: int = 2):
    import torch

    from vision.detect.verifier import to_batch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    net = _net(len(CLASSES))
    x_all = torch.from_numpy(to_batch(train_set["crops"]))
    y_all = torch.from_numpy(train_set["labels"].astype(np.int64))
    counts = np.bincount(train_set["labels"], minlength=len(CLASSES)).astype(float)
    weight = torch.tensor(counts.sum() / np.maximum(counts, 1.0) / len(CLASSES), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=LABEL_SMOOTHING)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * int(np.ceil(len(y_all) / 128))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for epoch in range(epochs):
        net.train()
        order = torch.from_numpy(rng.permutation(len(y_all)))
        total = 0.0
        for s in range(0, len(order), 128):
            idx = order[s:s + 128]
            opt.zero_grad()
            loss = loss_fn(net(_augment(x_all[idx], rng)), y_all[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        if progress:
            progress(f"verifier: epoch {epoch + 1}/{epochs}, loss {total / len(y_all):.4f}")
    net.eval()
    return net


def export(net, out_path: Path) -> None:
    import torch

    dummy = torch.zeros(1, 3, INPUT_PX, INPUT_PX)
    torch.onnx.export(net, dummy, str(out_path), input_names=["crops"], output_names=["logits"],
                      dynamic_axes={"crops": {0: "n"}, "logits": {0: "n"}}, opset_version=17, dynamo=False)


def choose_levels(probs: np.ndarray, test: dict, thresholds: dict) -> tuple[dict, dict]:
    """Per alarm class, the highest level passing MIN_KEEP of the test split's true detector
    boxes at or above the detector's operating threshold; and what that level does."""
    levels, figures = {}, {}
    for c, name in enumerate(CLASSES):
        if c == 0:
            continue
        true = test["mined"] & (test["labels"] == c) & (test["confidence"] >= thresholds[name])
        false = test["mined"] & (test["labels"] == 0) & (test["confidence"] >= thresholds[name])
        if true.sum() < 10:
            continue  # too few to choose from: the class is left unjudged
        p = np.sort(probs[true, c])
        level = float(p[int(np.floor((1.0 - MIN_KEEP) * len(p)))])
        levels[name] = round(level, 4)
        figures[name] = {"true_detections": int(true.sum()), "kept": round(float((probs[true, c] >= level).mean()), 4),
                         "false_detections": int(false.sum()),
                         "false_kept": round(float((probs[false, c] >= level).mean()), 4) if false.any() else None}
    return levels, figures


def mine_cached(data_dir: Path, detector, splits, seed: int, cache_dir: Path | None, say) -> dict:
    """`mine`, kept in cache_dir under a name that changes with anything that changes the
    crops: the data set's card, the detector file, the splits, the seed and the mining rules.
    A folder without a card has nothing that tells its versions apart: it is mined every time."""
    card_sha = _card_sha(data_dir)
    if cache_dir is None or card_sha is None:
        return mine(data_dir, detector, splits, seed=seed, progress=say)
    rules = json.dumps([MINE_CONF, POSITIVE_IOU, NEGATIVE_IOU, FITTING_IOU, BLOCK_FITTINGS, INPUT_PX])
    key = hashlib.sha256("|".join([card_sha, detector.card.sha256, "+".join(splits), str(seed),
                                   rules]).encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{Path(data_dir).name}-{'+'.join(splits)}-{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            say(f"verifier: {data_dir} {'+'.join(splits)}: crops from {path}")
            return {k: z[k] for k in z.files}
    crops = mine(data_dir, detector, splits, seed=seed, progress=say)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.npz")
    np.savez(tmp, **crops)
    tmp.replace(path)  # a run stopped half-way leaves no half-written cache behind
    return crops


def _card_sha(data_dir: Path) -> str | None:
    p = data_card_path(data_dir)
    return hashlib.sha256(p.read_bytes()).hexdigest() if p is not None else None


def licence_of(datasets) -> str:
    """The verifier's terms: HullWatch's, and every training set's own (the real FLS frames
    are research-only, and a verifier trained on them carries that, as the detector's card does)."""
    from vision.training.model_card_writer import licence_notes_of_sets

    sets = []
    for d in datasets:
        p = data_card_path(d)
        try:
            sets.append((d, json.loads(p.read_text(encoding="utf-8")) if p is not None else None))
        except (json.JSONDecodeError, UnicodeDecodeError):
            sets.append((d, None))
    return "AGPL-3.0-or-later (HullWatch) | " + licence_notes_of_sets(sets)["data"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", nargs="+", type=Path)
    ap.add_argument("--detector", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, metavar="DIR",
                    help="keep each data set's mined crops in DIR and reuse them while the data set, the detector "
                         "and the seed are the same")
    args = ap.parse_args(argv)
    from vision.classes import CLASSES as DET_CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.model_card import sha256_of

    def say(msg):
        print(msg, file=sys.stderr, flush=True)

    t0 = time.monotonic()
    detector = OnnxDetector(args.detector, expected_classes=DET_CLASSES)
    tr = _concat([mine_cached(d, detector, ("train", "val"), args.seed, args.cache, say) for d in args.datasets])
    te = _concat([mine_cached(d, detector, ("test",), args.seed + 1, args.cache, say) for d in args.datasets])
    say(f"verifier: {len(tr['labels'])} training crops {np.bincount(tr['labels'], minlength=3).tolist()}, "
        f"{len(te['labels'])} test crops {np.bincount(te['labels'], minlength=3).tolist()} ({CLASSES})")
    net = train(tr, args.epochs, args.seed, progress=say)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export(net, args.out)

    from vision.detect.verifier import AlarmVerifier

    thresholds = {n: detector.card.threshold(n) for n in ALARM_CLASSES}
    card = {"format": FORMAT, "version": VERSION, "name": args.out.stem, "classes": list(CLASSES),
            "input_px": INPUT_PX, "levels": {}, "sha256": sha256_of(args.out)}
    card_path = args.out.with_name(args.out.stem + ".card.json")
    card_path.write_text(json.dumps(card, indent=1))
    probs = AlarmVerifier(args.out).scores(te["crops"])
    levels, figures = choose_levels(probs, te, thresholds)
    card.update({
        "levels": levels,
        "detector": {"file": args.detector.name, "sha256": detector.card.sha256, "thresholds": thresholds},
        "level_rule": f"per class, the highest level that passes {MIN_KEEP} of the test splits' detector boxes on "
                      f"labelled objects at or above the detector's threshold",
        "test_figures": figures,
        "training": {"datasets": [{"dir": d.name, "card_sha256": _card_sha(d)} for d in args.datasets],
                     "splits": ["train", "val"], "mine_conf": MINE_CONF, "positive_iou": POSITIVE_IOU,
                     "negative_iou": NEGATIVE_IOU, "skipped_fittings": list(BLOCK_FITTINGS),
                     "label_smoothing": LABEL_SMOOTHING, "jitter": JITTER,
                     "crops": np.bincount(tr["labels"], minlength=3).tolist(),
                     "test_crops": np.bincount(te["labels"], minlength=3).tolist(), "epochs": args.epochs,
                     "seed": args.seed, "framework": "torch (this module), exported to ONNX opset 17",
                     "wall_s": round(time.monotonic() - t0, 1)},
        "licence": licence_of(args.datasets),
    })
    card_path.write_text(json.dumps(card, indent=1))
    say(f"verifier: wrote {args.out} and {card_path.name}; levels {levels}; test {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
