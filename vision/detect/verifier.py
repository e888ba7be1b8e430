"""A second look before an alarm: a small classifier run on the crop of a track that has
gathered enough evidence, asking whether the box holds a container or anomaly or only
something that resembles one at the detector's resolution (a black fender, a fouling clump).

The detector sees the whole frame at 288x384. The verifier sees only the box and a margin
around it, at 64x64 with the aspect ratio kept. It runs a few times per confirmed track,
not once per frame, so it costs almost nothing. It has its own ONNX file and card
(`NAME.onnx` + `NAME.card.json`, format "hullwatch-alarm-verifier"). The detector's card
names it in "alarm_verifier", and a report can cite both SHA-256s.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..alarms import SNAPSHOT_MARGIN, snapshot_crop
from .backends import OrtBackend
from .model_card import ModelError, card_path_for, sha256_of

FORMAT, VERSION = "hullwatch-alarm-verifier", 1
CARD_FIELD = "alarm_verifier"  # in the detector's card: the verifier's file name, beside the detector
INPUT_PX = 64
CONTEXT = SNAPSHOT_MARGIN  # margin around the box, as a fraction of its size: the alarm snapshot's crop
PAD_VALUE = 114


def verifier_input(image: np.ndarray, box, size: int = INPUT_PX) -> np.ndarray | None:
    """The box plus its margin, clipped to the frame, scaled to fit size x size without
    distortion and padded: uint8 (size, size, 3) in the frame's channel order. None when
    the box lies outside the frame."""
    import cv2

    crop = snapshot_crop(image, box)
    if crop is None or min(crop.shape[:2]) < 2:
        return None
    if crop.ndim == 2:
        crop = np.repeat(crop[:, :, None], 3, axis=2)
    s = size / max(crop.shape[0], crop.shape[1])
    nh, nw = max(1, round(crop.shape[0] * s)), max(1, round(crop.shape[1] * s))
    small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.full((size, size, 3), PAD_VALUE, np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top:top + nh, left:left + nw] = small
    return out


def to_batch(crops: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) uint8 -> the (N, 3, S, S) float32 0..1 tensor the verifier takes."""
    return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


class AlarmVerifier:
    """Scores crops: probability per class of the verifier's classes ("background" first)."""

    def __init__(self, model_path, *, threads: int = 1):
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"{path}: alarm verifier not found (the detector's card names it in "
                             f"{CARD_FIELD!r}; ship it beside the detector or remove that field)")
        card_path = card_path_for(path)
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"{card_path}: the alarm verifier's card is missing") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"{card_path}: the alarm verifier's card is not valid JSON ({exc})") from None
        if not isinstance(card, dict) or card.get("format") != FORMAT or card.get("version") != VERSION:
            raise ModelError(f"{card_path}: not a HullWatch alarm verifier card ({FORMAT!r} version {VERSION})")
        try:
            self.classes = tuple(str(c) for c in card["classes"])
            self.levels = {str(k): float(v) for k, v in card["levels"].items()}
            self.input_px = int(card["input_px"])
            sha = str(card["sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{card_path}: the alarm verifier's card lacks or garbles {exc}") from None
        if not self.classes or self.classes[0] != "background" or any(k not in self.classes for k in self.levels):
            raise ModelError(f"{card_path}: classes must start with 'background' and hold every class in "
                             f"'levels' (classes {list(self.classes)}, levels {sorted(self.levels)})")
        if sha256_of(path) != sha:
            raise ModelError(f"{path}: SHA-256 differs from its card: the file was changed or the card "
                             f"belongs to another verifier")
        self._backend = OrtBackend(path, max(1, int(threads)))
        if self._backend.input_shape[1:] != [3, self.input_px, self.input_px]:
            raise ModelError(f"{path}: the verifier takes {self._backend.input_shape}, its card says "
                             f"3x{self.input_px}x{self.input_px}")
        if self._backend.output_shape[-1] != len(self.classes):
            raise ModelError(f"{path}: the verifier gives {self._backend.output_shape[-1]} scores for "
                             f"{len(self.classes)} classes")
        self.path, self.sha256, self.card = path, sha, card

    def scores(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 crops -> (N, classes) probabilities."""
        if len(crops) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        logits = self._backend.run(to_batch(np.asarray(crops))).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def score(self, image: np.ndarray, box, class_name: str) -> float | None:
        """Probability that `box` in `image` holds `class_name`; None when it cannot tell
        (a class the verifier does not judge, a box outside the frame)."""
        if class_name not in self.levels:
            return None
        crop = verifier_input(image, box, self.input_px)
        if crop is None:
            return None
        return float(self.scores(crop[None])[0, self.classes.index(class_name)])

    def level(self, class_name: str) -> float | None:
        return self.levels.get(class_name)


def verifier_for(detector) -> AlarmVerifier | None:
    """The verifier the detector's card names (beside the detector's file), or None."""
    if hasattr(detector, "alarm_verifier"):  # set by whoever built the detector (benches, tests)
        return detector.alarm_verifier
    card = getattr(detector, "card", None)
    name = card.extra.get(CARD_FIELD) if card is not None else None
    if not name:
        return None
    base = getattr(detector, "model_path", None)
    if base is None:
        raise ModelError(f"the detector's card names the alarm verifier {name!r} but the detector has no "
                         f"model file to find it beside")
    return AlarmVerifier(Path(base).with_name(str(name)))
