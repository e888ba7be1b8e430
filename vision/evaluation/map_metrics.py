"""Average precision the COCO way: detections matched to ground truth greedily in
order of confidence at ten IoU thresholds 0.50:0.05:0.95; AP is the mean of the
precision envelope at 101 recall points (pycocotools' definition). Also the recall and precision at the
model's operating threshold, which is what an alarm user experiences."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..detections import box_iou

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


@dataclasses.dataclass
class ClassMetrics:
    class_name: str
    instances: int
    ap50: float
    ap50_95: float
    recall_at_threshold: float
    precision_at_threshold: float


def match_image(pred_xyxy, pred_conf, pred_cls, gt_xyxy, gt_cls) -> np.ndarray:
    """(n_pred, 10) bool: detection i is a true positive at IoU threshold j."""
    n = len(pred_xyxy)
    tp = np.zeros((n, len(IOU_THRESHOLDS)), bool)
    if n == 0 or len(gt_xyxy) == 0:
        return tp
    iou = box_iou(pred_xyxy, gt_xyxy)
    iou[np.asarray(pred_cls)[:, None] != np.asarray(gt_cls)[None, :]] = 0.0
    order = np.argsort(-np.asarray(pred_conf), kind="stable")
    for j, thr in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(len(gt_xyxy), bool)
        for i in order:
            cand = np.where(~taken & (iou[i] >= thr), iou[i], -1.0)
            g = int(np.argmax(cand))
            if cand[g] >= 0:
                taken[g] = True
                tp[i, j] = True
    return tp


def average_precision(tp: np.ndarray, conf: np.ndarray, n_gt: int) -> np.ndarray:
    """AP per IoU threshold for one class from its detections' TP matrix."""
    if n_gt == 0 or len(tp) == 0:
        return np.zeros(tp.shape[1] if tp.ndim == 2 else len(IOU_THRESHOLDS))
    order = np.argsort(-conf, kind="stable")
    tpc = np.cumsum(tp[order], axis=0)
    fpc = np.cumsum(~tp[order], axis=0)
    recall = tpc / n_gt
    precision = tpc / (tpc + fpc)
    grid = np.linspace(0, 1, 101)
    out = np.zeros(tp.shape[1])
    for j in range(tp.shape[1]):
        # COCO: at each recall point, the best precision reached at that recall or beyond
        envelope = np.flip(np.maximum.accumulate(np.flip(precision[:, j])))
        idx = np.searchsorted(recall[:, j], grid, side="left")
        out[j] = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0).mean()
    return out


def evaluate(predictions, ground_truth, class_names, thresholds) -> list[ClassMetrics]:
    """predictions / ground_truth: per image, (xyxy, conf, cls) and (xyxy, cls).
    `thresholds`: per-class operating confidence (sequence indexed by class id)."""
    tps, confs, clss = [], [], []
    n_gt = np.zeros(len(class_names), int)
    for (pb, pc, pk), (gb, gk) in zip(predictions, ground_truth):
        pb, pc, pk = np.asarray(pb, float).reshape(-1, 4), np.asarray(pc, float), np.asarray(pk, int)
        gk = np.asarray(gk, int)
        tps.append(match_image(pb, pc, pk, np.asarray(gb, float).reshape(-1, 4), gk))
        confs.append(pc)
        clss.append(pk)
        n_gt += np.bincount(gk, minlength=len(class_names))[: len(class_names)]
    tp = np.concatenate(tps) if tps else np.zeros((0, 10), bool)
    conf = np.concatenate(confs) if confs else np.zeros(0)
    cls = np.concatenate(clss) if clss else np.zeros(0, int)
    out = []
    for c, name in enumerate(class_names):
        m = cls == c
        ap = average_precision(tp[m], conf[m], int(n_gt[c]))
        at = m & (conf >= thresholds[c])
        hits = int(tp[at, 0].sum())
        out.append(ClassMetrics(name, int(n_gt[c]), float(ap[0]), float(ap.mean()),
                                hits / n_gt[c] if n_gt[c] else float("nan"),
                                hits / int(at.sum()) if at.any() else float("nan")))
    return out
