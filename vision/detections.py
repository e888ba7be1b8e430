"""One detections type for camera and sonar: parallel arrays, as supervision does it, so
filtering, NMS and tracking are array operations and never per-object Python loops."""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Detections:
    xyxy: np.ndarray  # (N, 4) float32, pixels of the frame the detector saw
    confidence: np.ndarray  # (N,) float32
    class_id: np.ndarray  # (N,) int32, index into the model's class list
    tracker_id: np.ndarray | None = None  # (N,) int64 once tracked, -1 = not yet confirmed

    def __post_init__(self):
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        conf = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        cls = np.asarray(self.class_id, dtype=np.int32).reshape(-1)
        if len(conf) != n or len(cls) != n:
            raise ValueError(f"Detections: {n} boxes but {len(conf)} confidences and {len(cls)} class ids")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "class_id", cls)
        if self.tracker_id is not None:
            tid = np.asarray(self.tracker_id, dtype=np.int64).reshape(-1)
            if len(tid) != n:
                raise ValueError(f"Detections: {n} boxes but {len(tid)} tracker ids")
            object.__setattr__(self, "tracker_id", tid)

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Detections":
        """Boolean mask, index array or slice -> a new Detections."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(self.xyxy[index], self.confidence[index], self.class_id[index],
                          None if self.tracker_id is None else self.tracker_id[index])

    def with_tracker_ids(self, ids) -> "Detections":
        return Detections(self.xyxy, self.confidence, self.class_id, ids)

    @property
    def area(self) -> np.ndarray:
        w = np.clip(self.xyxy[:, 2] - self.xyxy[:, 0], 0, None)
        h = np.clip(self.xyxy[:, 3] - self.xyxy[:, 1], 0, None)
        return w * h

    @property
    def center(self) -> np.ndarray:
        return np.column_stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, (self.xyxy[:, 1] + self.xyxy[:, 3]) / 2])

    @staticmethod
    def merge(parts) -> "Detections":
        parts = [p for p in parts if len(p)]
        if not parts:
            return Detections.empty()
        tracked = all(p.tracker_id is not None for p in parts)
        return Detections(np.vstack([p.xyxy for p in parts]), np.concatenate([p.confidence for p in parts]),
                          np.concatenate([p.class_id for p in parts]),
                          np.concatenate([p.tracker_id for p in parts]) if tracked else None)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (len(a), len(b)) of xyxy boxes."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)
