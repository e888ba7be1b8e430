"""Model cards as `hullwatch train` writes them, in the format vision.detect.model_card reads
(`NAME.card.json` beside `NAME.onnx`), and the per-class operating thresholds they carry.

Thresholds are chosen on the validation split (the test split stays held out for the
metrics): for each class the confidence that maximises F-beta at IoU 0.5, with beta = 2 for
the alarm classes (a missed container costs more than a false alarm the diver dismisses)
and beta = 1 for the landmarks. A class without validation instances keeps the default.

Alarm classes get an operating point instead (`choose_operating_thresholds`): the
thresholds that maximise recall (true positives of all alarm classes together, IoU 0.5) on
the val split subject to the false-alarm budget, MAX_FALSE_ALARMS_PER_MIN at FPS frames/s,
counted per frame on the val split's object-free images (conservative: a live alarm needs
a confirmed track over several frames). The budget is shared by the alarm classes, and
among thresholds of equal recall the highest is taken. It needs at least
MIN_OBJECT_FREE_IMAGES object-free val images (12 s of video) to mean anything; with fewer
the alarm classes fall back to the F2 rule and the card says so. With n object-free images
the budget allows floor(n * 0.5 / 600) false alarms: zero below 1,200 images (2 min).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from vision.atomic_files import write_bytes_atomic
from vision.classes import ALARM_CLASSES
from vision.detect.model_card import FORMAT, VERSION
from vision.evaluation.map_metrics import match_image

DEFAULT_CONF = 0.25
DEFAULT_IOU = 0.5  # NMS IoU of the runtime detector
THRESHOLD_RANGE = (0.05, 0.9)
ALARM_BETA, LANDMARK_BETA = 2.0, 1.0
MAX_FALSE_ALARMS_PER_MIN = 0.5  # issue 5's goal for the camera
FPS = 10.0  # frame rate the false-alarm budget is counted at
MIN_OBJECT_FREE_IMAGES = 120  # 12 s at 10 frames/s: fewer cannot measure 0.5 per minute

SYNTHETIC_LICENCE = ("Training data: synthetic images rendered by HullWatch's simulator (free software, "
                     "AGPL-3.0-or-later); no third-party images.")
MODEL_LICENCE = ("Weights trained from scratch (no pretrained weights) with ultralytics YOLO11n "
                 "(AGPL-3.0); HullWatch is AGPL-3.0-or-later: ship these terms with the model.")
UNKNOWN_DATA_LICENCE = ("Training data: a YOLO data set without a HullWatch card; its licence is not recorded "
                        "here: find and record it before sharing this model.")


def choose_thresholds(predictions, ground_truth, classes) -> tuple[dict, dict]:
    """({class: threshold} for classes with validation instances, {class: how it was chosen})."""
    per_class_tp: dict[int, list] = {c: [] for c in range(len(classes))}
    n_gt = np.zeros(len(classes), int)
    for (pb, pc, pk), (gb, gk) in zip(predictions, ground_truth):
        pb, pc, pk = np.asarray(pb, float).reshape(-1, 4), np.asarray(pc, float), np.asarray(pk, int)
        gk = np.asarray(gk, int)
        tp = match_image(pb, pc, pk, np.asarray(gb, float).reshape(-1, 4), gk)[:, 0]
        for c in range(len(classes)):
            m = pk == c
            per_class_tp[c] += list(zip(pc[m], tp[m]))
        n_gt += np.bincount(gk, minlength=len(classes))[: len(classes)]
    chosen, how = {}, {}
    lo, hi = THRESHOLD_RANGE
    for c, name in enumerate(classes):
        beta = ALARM_BETA if name in ALARM_CLASSES else LANDMARK_BETA
        if n_gt[c] == 0:
            how[name] = {"rule": "default (no validation instances)", "threshold": DEFAULT_CONF}
            continue
        pairs = sorted(per_class_tp[c], key=lambda p: -p[0])
        if not pairs:
            how[name] = {"rule": "default (no detections on validation)", "threshold": DEFAULT_CONF}
            continue
        conf = np.array([p[0] for p in pairs])
        tp = np.cumsum([bool(p[1]) for p in pairs])
        fp = np.arange(1, len(pairs) + 1) - tp
        recall, precision = tp / n_gt[c], tp / (tp + fp)
        f = (1 + beta ** 2) * precision * recall / np.maximum(beta ** 2 * precision + recall, 1e-12)
        i = int(np.argmax(f))
        if f[i] <= 0:
            how[name] = {"rule": "default (no true positive on validation)", "threshold": DEFAULT_CONF}
            continue
        # halfway to the next lower score, so the chosen detection itself stays above it
        thr = float(conf[i] if i + 1 >= len(conf) else (conf[i] + conf[i + 1]) / 2)
        thr = round(min(max(thr, lo), hi), 4)
        chosen[name] = thr
        how[name] = {"rule": f"max F{beta:g} at IoU 0.5 on the validation split", "threshold": thr,
                     "f_score": round(float(f[i]), 4), "precision": round(float(precision[i]), 4),
                     "recall": round(float(recall[i]), 4), "instances": int(n_gt[c])}
    return chosen, how


def _clamp(t: float) -> float:
    lo, hi = THRESHOLD_RANGE
    return round(min(max(float(t), lo), hi), 4)


def _alarm_candidates(conf_tp: list, conf_all: np.ndarray, conf_empty: np.ndarray, n_gt: int) -> list[dict]:
    """Operating points of one class: keeping the top j true positives (j = 0..), the
    highest threshold that keeps them, its true positives and false alarms on empty images."""
    tp_sorted = np.sort(np.asarray(conf_tp, float))[::-1]
    all_sorted = np.sort(np.asarray(conf_all, float))[::-1]
    cands = []
    for j in range(len(tp_sorted) + 1):
        if j == 0:
            t = THRESHOLD_RANGE[1]
        else:
            c = tp_sorted[j - 1]
            lower = all_sorted[all_sorted < c]
            t = (c + lower[0]) / 2 if len(lower) else c  # halfway to the next lower score, as choose_thresholds
        t = _clamp(t)
        tp = int(np.sum(tp_sorted >= t))
        fa = int(np.sum(np.asarray(conf_empty) >= t))
        cands.append({"threshold": t, "tp": tp, "fa": fa, "recall": tp / n_gt if n_gt else float("nan")})
    return cands


def choose_operating_thresholds(predictions, ground_truth, classes, *, empty=None, fps: float = FPS,
                                max_false_alarms_per_min: float = MAX_FALSE_ALARMS_PER_MIN,
                                min_object_free: int = MIN_OBJECT_FREE_IMAGES) -> tuple[dict, dict, dict]:
    """(thresholds, how each was chosen, the alarm operating point) on a val split.

    Landmark classes keep choose_thresholds' rule; alarm classes maximise their summed true
    positives subject to the shared false-alarm budget (module docstring). `empty`: which
    images are object-free (default: those without ground-truth boxes)."""
    classes = tuple(classes)
    chosen, how = choose_thresholds(predictions, ground_truth, classes)
    if empty is None:
        empty = [len(np.asarray(gk)) == 0 for _, gk in ground_truth]
    n_empty = int(sum(bool(e) for e in empty))
    alarm_ids = [c for c, n in enumerate(classes) if n in ALARM_CLASSES]
    per_image_budget = max_false_alarms_per_min / (fps * 60.0)
    allowed = int(math.floor(n_empty * per_image_budget + 1e-9))
    point = {"rule": f"alarm classes: maximise recall (true positives of {', '.join(classes[c] for c in alarm_ids)} "
                     f"together, IoU 0.5) on the val split with at most {max_false_alarms_per_min:g} false alarms "
                     f"per minute at {fps:g} frames/s, counted per frame (alarm-class detections at or above "
                     f"threshold) on the val split's object-free images; the highest threshold of equal recall",
             "max_false_alarms_per_min": max_false_alarms_per_min, "fps": fps, "object_free_val_images": n_empty,
             "object_free_val_video_s": round(n_empty / fps, 2), "min_object_free_images": min_object_free}
    if n_empty < min_object_free:
        point.update(applied=False, reason=f"only {n_empty} object-free val images ({n_empty / fps:.1f} s at "
                                           f"{fps:g} frames/s), fewer than {min_object_free}: "
                                           f"{max_false_alarms_per_min:g} false alarms per minute cannot be "
                                           f"measured; the alarm classes keep the max-F{ALARM_BETA:g} rule")
        _measure(point, predictions, empty, classes, alarm_ids, chosen, fps)
        return chosen, how, point
    # per class: TP confidences, all confidences, confidences on empty images
    conf_tp = {c: [] for c in alarm_ids}
    conf_all = {c: [] for c in alarm_ids}
    conf_empty = {c: [] for c in alarm_ids}
    n_gt = {c: 0 for c in alarm_ids}
    for (pb, pc, pk), (gb, gk), is_empty in zip(predictions, ground_truth, empty):
        pb, pc, pk = np.asarray(pb, float).reshape(-1, 4), np.asarray(pc, float), np.asarray(pk, int)
        gk = np.asarray(gk, int)
        tp = match_image(pb, pc, pk, np.asarray(gb, float).reshape(-1, 4), gk)[:, 0]
        for c in alarm_ids:
            m = pk == c
            conf_all[c] += list(pc[m])
            conf_tp[c] += list(pc[m & tp])
            if is_empty:
                conf_empty[c] += list(pc[m])
            n_gt[c] += int(np.sum(gk == c))
    cands = {c: _alarm_candidates(conf_tp[c], np.asarray(conf_all[c]), np.asarray(conf_empty[c]), n_gt[c])
             for c in alarm_ids}
    # best[a] = (total TP, -total FA, summed threshold, picks) over the classes so far with FA <= a
    best: dict = {a: (0, 0, 0.0, ()) for a in range(allowed + 1)}
    for c in alarm_ids:
        nxt: dict = {}
        for a in range(allowed + 1):
            options = [(tp0 + cand["tp"], nfa0 - cand["fa"], ts0 + cand["threshold"], picks + (k,))
                       for b, prev in best.items() if prev is not None and b <= a
                       for tp0, nfa0, ts0, picks in (prev,)
                       for k, cand in enumerate(cands[c]) if -nfa0 + cand["fa"] <= a]
            nxt[a] = max(options) if options else None
        best = nxt
    if best[allowed] is None:  # even the highest thresholds raise too many false alarms
        hi = THRESHOLD_RANGE[1]
        for c in alarm_ids:
            chosen[classes[c]] = hi
            how[classes[c]] = {"rule": f"highest threshold of the range: no threshold up to {hi:g} keeps the val "
                                       f"false alarms within {max_false_alarms_per_min:g} per minute",
                               "threshold": hi, "instances": int(n_gt[c])}
        point.update(applied=True, allowed_false_alarms=allowed, budget_met=False,
                     reason=f"the budget ({allowed} false alarm(s) on {n_empty} object-free val images) cannot be "
                            f"met below {hi:g}: every alarm class is set to {hi:g}")
        _measure(point, predictions, empty, classes, alarm_ids, chosen, fps)
        return chosen, how, point
    picks = best[allowed][3]
    for c, k in zip(alarm_ids, picks):
        name, cand = classes[c], cands[c][k]
        chosen[name] = cand["threshold"]
        if n_gt[c] == 0:
            how[name] = {"rule": "no validation instances (recall cannot be measured): the top of the threshold "
                                 "range", "threshold": cand["threshold"],
                         "instances": 0, "val_false_alarms": cand["fa"]}
            continue
        how[name] = {"rule": f"max recall at IoU 0.5 on the validation split with <= {max_false_alarms_per_min:g} "
                             f"false alarms per minute (at {fps:g} frames/s, all alarm classes together) on its "
                             f"object-free images", "threshold": cand["threshold"],
                     "recall": round(float(cand["recall"]), 4), "true_positives": cand["tp"],
                     "instances": int(n_gt[c]), "val_false_alarms": cand["fa"],
                     "precision": round(cand["tp"] / max(1, int(np.sum(np.asarray(conf_all[c]) >= cand["threshold"]))),
                                        4)}
    point.update(applied=True, allowed_false_alarms=allowed, budget_met=True,
                 reason=f"{n_empty} object-free val images ({n_empty / fps:.0f} s): the budget allows {allowed} "
                        f"false alarm(s) on them (one false alarm there is "
                        f"{fps * 60.0 / n_empty:.3g} per minute)")
    _measure(point, predictions, empty, classes, alarm_ids, chosen, fps)
    return chosen, how, point


def _measure(point: dict, predictions, empty, classes, alarm_ids, chosen: dict, fps: float) -> None:
    """The false alarms the chosen thresholds give on the object-free val images."""
    n_empty = point["object_free_val_images"]
    alarms = {classes[c]: 0 for c in alarm_ids}
    for (pb, pc, pk), is_empty in zip(predictions, empty):
        if is_empty:
            pc, pk = np.asarray(pc, float), np.asarray(pk, int)
            for c in alarm_ids:
                alarms[classes[c]] += int(np.sum((pk == c) & (pc >= chosen.get(classes[c], DEFAULT_CONF))))
    total = sum(alarms.values())
    point.update(val_false_alarms=total, val_false_alarms_per_class=alarms,
                 val_false_alarms_per_min=round(total / n_empty * fps * 60.0, 4) if n_empty else None,
                 thresholds={classes[c]: chosen.get(classes[c], DEFAULT_CONF) for c in alarm_ids})


def licence_notes(dataset_card: dict | None) -> dict:
    if not dataset_card:
        data = UNKNOWN_DATA_LICENCE
    elif dataset_card.get("source") == "synthetic":
        data = SYNTHETIC_LICENCE
    else:
        data = "Training data: " + str(dataset_card.get("licence") or "licence not stated in the data set's card; "
                                                                      "record it before sharing this model")
    return {"data": data, "model": MODEL_LICENCE}


def dataset_ref(path) -> str:
    """How a card names a data set: its folder name. A card ships with the model, so the
    training machine's paths mean nothing there; the data set's own card (seeds, counts,
    generator) copied beside this name is what makes it reproducible."""
    return Path(str(path)).name


def licence_notes_of_sets(sets) -> dict:
    """Licence notes of a model trained on several data sets: [(path, card or None), ...].
    Every set's note is carried (a real set's research-only terms included)."""
    notes = [{"dataset": dataset_ref(path), "data": licence_notes(card)["data"]} for path, card in sets]
    return {"data": " | ".join(f"{n['dataset']}: {n['data']}" for n in notes), "data_sets": notes,
            "model": MODEL_LICENCE}


def card_document(*, name: str, kind: str, classes, input_hw, sha256: str, class_thresholds: dict,
                  conf_threshold: float = DEFAULT_CONF, iou_threshold: float = DEFAULT_IOU, **extra) -> dict:
    doc = {"format": FORMAT, "version": VERSION, "name": name, "kind": kind, "classes": list(classes),
           "input_hw": [int(v) for v in input_hw], "conf_threshold": float(conf_threshold),
           "class_thresholds": {k: float(v) for k, v in class_thresholds.items()},
           "iou_threshold": float(iou_threshold), "sha256": sha256}
    doc.update(extra)
    return json.loads(json.dumps(doc, default=_jsonable))  # plain JSON types (and no NaN)


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if math.isnan(float(v)) else float(v)
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"not JSON: {type(v).__name__}")


def _nan_to_none(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _nan_to_none(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_nan_to_none(x) for x in v]
    return v


def write_card(path, doc: dict) -> None:
    write_bytes_atomic(Path(path), (json.dumps(_nan_to_none(doc), indent=2) + "\n").encode("utf-8"))


def copy_atomic(src: Path, dst: Path) -> None:
    write_bytes_atomic(dst, Path(src).read_bytes())
