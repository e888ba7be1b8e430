"""Constant-velocity Kalman filter on a box (centre x, centre y, aspect w/h, height), the
state SORT-family trackers use: aspect and height change slowly, position moves. Noise
scales with the box height so small far objects and large near ones behave alike."""
from __future__ import annotations

import numpy as np

_F = np.eye(8)
_F[:4, 4:] = np.eye(4)
_H = np.eye(4, 8)
POS_STD, VEL_STD = 1.0 / 20, 1.0 / 160


def xyxy_to_xyah(b: np.ndarray) -> np.ndarray:
    w, h = b[2] - b[0], b[3] - b[1]
    return np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, w / max(h, 1e-6), h], dtype=float)


def xyah_to_xyxy(m: np.ndarray) -> np.ndarray:
    h = max(m[3], 1e-6)
    w = m[2] * h
    return np.array([m[0] - w / 2, m[1] - h / 2, m[0] + w / 2, m[1] + h / 2], dtype=float)


class BoxKalman:
    def __init__(self, xyxy: np.ndarray):
        z = xyxy_to_xyah(xyxy)
        self.mean = np.concatenate([z, np.zeros(4)])
        h = z[3]
        std = np.array([2 * POS_STD * h, 2 * POS_STD * h, 1e-2, 2 * POS_STD * h,
                        10 * VEL_STD * h, 10 * VEL_STD * h, 1e-5, 10 * VEL_STD * h])
        self.cov = np.diag(std ** 2)

    def predict(self) -> None:
        h = self.mean[3]
        q = np.array([POS_STD * h, POS_STD * h, 1e-2, POS_STD * h, VEL_STD * h, VEL_STD * h, 1e-5, VEL_STD * h])
        self.mean = _F @ self.mean
        self.cov = _F @ self.cov @ _F.T + np.diag(q ** 2)

    def update(self, xyxy: np.ndarray) -> None:
        z = xyxy_to_xyah(xyxy)
        h = self.mean[3]
        r = np.diag(np.array([POS_STD * h, POS_STD * h, 1e-1, POS_STD * h]) ** 2)
        s = _H @ self.cov @ _H.T + r
        k = np.linalg.solve(s, _H @ self.cov).T  # cov H^T S^-1, S symmetric
        self.mean = self.mean + k @ (z - _H @ self.mean)
        self.cov = (np.eye(8) - k @ _H) @ self.cov

    @property
    def xyxy(self) -> np.ndarray:
        return xyah_to_xyxy(self.mean[:4])
