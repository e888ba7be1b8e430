"""Fit a frame into the model's input without distortion (scale + pad), and map the
model's boxes back. Rectangular inputs (e.g. 480x640 for 4:3 video, wide inputs for
sonar fans) waste fewer pixels on padding than a square one."""
from __future__ import annotations

import dataclasses

import numpy as np

PAD_VALUE = 114  # ultralytics pads with grey 114: the model was trained on it


@dataclasses.dataclass(frozen=True)
class Letterbox:
    scale: float
    pad_x: float
    pad_y: float
    source_hw: tuple[int, int]

    def boxes_to_source(self, xyxy: np.ndarray) -> np.ndarray:
        out = np.asarray(xyxy, np.float32).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        h, w = self.source_hw
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h)
        return out


def letterbox(image: np.ndarray, input_hw: tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """(H, W, 3) uint8 -> (input_h, input_w, 3) uint8 with the image centred, scaled to fit."""
    import cv2

    h, w = image.shape[:2]
    ih, iw = input_hw
    scale = min(ih / h, iw / w)
    nh, nw = int(round(h * scale)), int(round(w * scale))
    resized = image if (nh, nw) == (h, w) else cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    # split the padding like ultralytics (rounding -0.1/+0.1) so boxes line up with its predictions
    dw, dh = (iw - nw) / 2, (ih - nh) / 2
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    out = cv2.copyMakeBorder(resized, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return out, Letterbox(scale, float(left), float(top), (h, w))
