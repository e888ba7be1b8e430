"""YOLO detector on ONNX Runtime or OpenVINO (CPU), without torch.

Accepts both ultralytics export layouts: the classic head (1, 4 + classes, anchors) with
centre/size boxes and per-class scores, which needs NMS here, and the end-to-end head
(1, max_det, 6) of NMS-free models (x0, y0, x1, y1, score, class).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..detections import Detections
from .letterbox import letterbox
from .backends import make_backend
from .model_card import ModelCard, ModelError, load_card, sha256_of
from .nms import batched_nms

MAX_DETECTIONS = 300


def input_batch(images, input_hw) -> tuple[np.ndarray, list]:
    """BGR uint8 images -> the (N, 3, H, W) float32 RGB batch a YOLO model takes, and their letterboxes."""
    batch, boxes = [], []
    for img in images:
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        lb_img, lb = letterbox(img, input_hw)
        batch.append(lb_img[:, :, ::-1].transpose(2, 0, 1))
        boxes.append(lb)
    return np.ascontiguousarray(np.stack(batch), dtype=np.float32) / np.float32(255.0), boxes


class OnnxDetector:
    def __init__(self, model_path, *, expected_classes=None, threads: int | None = None,
                 verify_sha256: bool = True, backend: str = "onnxruntime", parallel: int = 1):
        """parallel: how many threads will call the detector at once (offline pools)."""
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        self.model_path = path
        self.card: ModelCard = load_card(path, expected_classes)
        if verify_sha256 and sha256_of(path) != self.card.sha256:
            raise ModelError(f"{path}: SHA-256 differs from its model card: the file was changed or the "
                             f"card belongs to another model")
        self.backend = make_backend(backend, path, threads, parallel)
        shape = self.backend.input_shape
        if len(shape) != 4 or shape[1] != 3:
            raise ModelError(f"{path}: expected an image input (N, 3, H, W), the model takes {shape}")
        # a model exported without dynamic axes takes exactly its batch size (usually 1)
        self.batch_size = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        fixed = tuple(s for s in shape[2:] if isinstance(s, int))
        if len(fixed) == 2 and fixed != tuple(self.card.input_hw):
            raise ModelError(f"{path}: the model's input is {fixed[0]}x{fixed[1]} but its card says "
                             f"{self.card.input_hw[0]}x{self.card.input_hw[1]}")
        out_shape = self.backend.output_shape
        nc = len(self.card.classes)
        self.end_to_end = len(out_shape) == 3 and out_shape[-1] == 6
        if not self.end_to_end and (len(out_shape) != 3 or out_shape[1] != 4 + nc):
            raise ModelError(f"{path}: the model's output {out_shape} does not fit {nc} classes "
                             f"(expected (N, {4 + nc}, anchors) or (N, max_det, 6))")
        self._class_conf = np.array([self.card.threshold(c) for c in self.card.classes], dtype=np.float32)
        self.last_timings_ms: dict[str, float] = {}

    @property
    def classes(self) -> tuple[str, ...]:
        return self.card.classes

    def preprocess(self, images) -> tuple[np.ndarray, list]:
        """BGR uint8 images -> the (N, 3, H, W) float32 RGB batch and their letterboxes."""
        return input_batch(images, self.card.input_hw)

    def __call__(self, image: np.ndarray, conf: float | None = None) -> Detections:
        return self.detect_batch([image], conf)[0]

    def detect_batch(self, images, conf: float | None = None) -> list[Detections]:
        t0 = time.perf_counter()
        x, lbs = self.preprocess(images)
        t1 = time.perf_counter()
        if self.batch_size is None or len(x) == self.batch_size:
            out = self.backend.run(x)
        else:  # a fixed-batch model: run it as often as the batch needs
            n, bs = len(x), self.batch_size
            pad = (-n) % bs
            if pad:
                x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
            out = np.concatenate([self.backend.run(x[i:i + bs])
                                  for i in range(0, len(x), bs)])[:n]
        t2 = time.perf_counter()
        result = [self._postprocess(out[i], lbs[i], conf) for i in range(len(lbs))]
        t3 = time.perf_counter()
        self.last_timings_ms = {"preprocess": (t1 - t0) * 1e3, "inference": (t2 - t1) * 1e3,
                                "postprocess": (t3 - t2) * 1e3}
        return result

    def _postprocess(self, pred: np.ndarray, lb, conf: float | None) -> Detections:
        if self.end_to_end:
            xyxy, score, cls = pred[:, :4], pred[:, 4], pred[:, 5].astype(np.int32)
        else:
            pred = pred.T  # (anchors, 4 + nc)
            scores = pred[:, 4:]
            cls = scores.argmax(axis=1).astype(np.int32)
            score = scores[np.arange(len(scores)), cls]
            c = pred[:, :4]
            xyxy = np.column_stack([c[:, 0] - c[:, 2] / 2, c[:, 1] - c[:, 3] / 2,
                                    c[:, 0] + c[:, 2] / 2, c[:, 1] + c[:, 3] / 2])
        cls = np.clip(cls, 0, len(self._class_conf) - 1)
        limit = self._class_conf[cls] if conf is None else np.float32(conf)
        keep = score >= limit
        xyxy, score, cls = xyxy[keep], score[keep], cls[keep]
        if not self.end_to_end and len(score):
            idx = batched_nms(xyxy, score, cls, self.card.iou_threshold, MAX_DETECTIONS)
            xyxy, score, cls = xyxy[idx], score[idx], cls[idx]
        return Detections(lb.boxes_to_source(xyxy), score, cls)
