"""Models for plumbing tests: the tiny trained model (tests/vision/test_train.py) with its
class biases raised, exported and carded by the same code as `hullwatch train`. A barely
trained model then reports many confident, image-dependent boxes, standing in for a good
one where a test is about files, engines, tracking or timing rather than accuracy."""
from __future__ import annotations

import json

from vision.classes import CLASSES

_CACHE: dict = {}


def biased_model(tiny, tmp_path_factory, bias: float):
    """(ONNX path, its .pt checkpoint) of the tiny model with `bias` added to every class
    logit; built once per test session."""
    if bias not in _CACHE:
        from ultralytics import YOLO

        from vision.detect.model_card import sha256_of
        from vision.training.export_onnx import export_onnx
        from vision.training.model_card_writer import card_document, write_card

        root = tmp_path_factory.mktemp(f"biased{bias:g}")
        y = YOLO(str(tiny["work"] / "run" / "weights" / "best.pt"))
        for branch in y.model.model[-1].cv3:
            branch[-1].bias.data += bias
        pt = root / "biased.pt"
        y.save(str(pt))
        card = json.loads(tiny["model"].with_name("tiny.card.json").read_text())
        onnx = root / "biased.onnx"
        export_onnx(pt, onnx, tuple(card["input_hw"]))
        write_card(root / "biased.card.json", card_document(
            name="biased", kind="camera", classes=CLASSES, input_hw=card["input_hw"], sha256=sha256_of(onnx),
            class_thresholds={}))
        _CACHE[bias] = (onnx, pt)
    return _CACHE[bias]
