"""Benchmark: recall per object kind on a rendered data set, for one or more camera models.

    python bench/bench_recall_by_kind.py DATASET [--model A.onnx --model B.onnx ...] [--split test]

A rendered set's index.jsonl names every labelled object ("container 2 (hex case)"), so
recall can be split by kind: on a held-out set (`hullwatch dataset --heldout`) that shows
which container shapes that no training image holds a model still finds. A label counts as
found when a detection of its class at the model card's operating threshold covers it at
IoU >= 0.5 (one detection finds one label, best IoU first). Every model runs on the same
images in the same run. Results: a table on stdout and
bench/results/bench_recall_by_kind.json.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results" / "bench_recall_by_kind.json"
IOU = 0.5
KIND = re.compile(r"\(([^)]+)\)\s*$")


def kind_of(name: str) -> str:
    m = KIND.search(name or "")
    return m.group(1) if m else (name or "unnamed")


def found_labels(det, labels, classes) -> list[bool]:
    """Per label: covered by a detection of its class (IoU >= IOU), greedy, best first."""
    from vision.detections import box_iou

    found = [False] * len(labels)
    if not len(det) or not labels:
        return found
    gt = np.array([lab["xyxy"] for lab in labels], float)
    iou = box_iou(gt, det.xyxy)
    same = np.array([[classes[int(c)] == lab["class"] for c in det.class_id] for lab in labels])
    iou = np.where(same, iou, 0.0)
    used = set()
    for g, d in sorted(((g, d) for g in range(len(labels)) for d in range(len(det)) if iou[g, d] >= IOU),
                       key=lambda p: -iou[p]):
        if found[g] or d in used:
            continue
        found[g], _ = True, used.add(d)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--model", action="append", type=Path,
                    help="camera model (repeat to compare; default the shipped camera.onnx)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--all-classes", action="store_true",
                    help="also the landmark classes (default: the alarm classes, container and anomaly)")
    args = ap.parse_args()
    import cv2

    from vision.classes import ALARM_CLASSES, CLASSES
    from vision.detect import OnnxDetector

    index = args.dataset / "index.jsonl"
    if not index.is_file():
        ap.error(f"{index} not found: give a data set rendered by `hullwatch dataset` (it names every object)")
    rows = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("split") == args.split]
    models = args.model or [REPO / "resources" / "models" / "camera.onnx"]
    out = {"dataset": args.dataset.name, "split": args.split, "images": len(rows), "iou": IOU, "models": []}
    for path in models:
        det = OnnxDetector(path, expected_classes=CLASSES, threads=2)
        tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        t0 = time.monotonic()
        for r in rows:
            labels = r.get("labels") or []
            if not labels:
                continue
            image = cv2.imread(str(args.dataset / r["image"]), cv2.IMREAD_COLOR)
            if image is None:
                print(f"skipped {r['image']}: not readable", file=sys.stderr)
                continue
            for lab, ok in zip(labels, found_labels(det(image), labels, CLASSES)):
                if not args.all_classes and lab["class"] not in ALARM_CLASSES:
                    continue
                t = tally[(lab["class"], kind_of(lab.get("name", "")))]
                t[0] += int(ok)
                t[1] += 1
        out["models"].append({"model": path.name, "sha256": det.card.sha256, "wall_s": round(time.monotonic() - t0, 1),
                              "recall": {f"{c}/{k}": {"found": f, "instances": n, "recall": round(f / n, 4)}
                                         for (c, k), (f, n) in sorted(tally.items())}})
    keys = sorted({k for m in out["models"] for k in m["recall"]})
    print(f"recall per kind at each card's thresholds, IoU {IOU}: {args.dataset.name} [{args.split}], "
          f"{len(rows)} images")
    print(f"{'class / kind':<44}" + "".join(f"{m['model'][:18]:>20}" for m in out["models"]))
    for k in keys:
        cells = []
        for m in out["models"]:
            v = m["recall"].get(k)
            cells.append(f"{v['recall']:.2f} ({v['found']}/{v['instances']})" if v else "-")
        print(f"{k:<44}" + "".join(f"{c:>20}" for c in cells))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
