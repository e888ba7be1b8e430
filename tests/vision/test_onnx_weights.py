"""A shipped model, read back from its ONNX file into a trainable YOLO11n, computes what the
ONNX model computes, in eval mode and (nearly) in training mode, so a fine-tuning starts
from the shipped model itself."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.vision.random_seed import random_test_seed
from vision.classes import CLASSES

MODELS = Path(__file__).parents[2] / "resources" / "models"
FLS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sonar_fls" / "watertank-segmentation"


def test_rebuilt_camera_model_matches_its_onnx(ultralytics_offline, no_network, tmp_path):
    import cv2
    import onnxruntime as ort
    import torch

    from vision.detect.letterbox import letterbox
    from vision.training.onnx_weights import checkpoint_from_onnx
    from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset

    data = tmp_path / "data"
    build_synthetic_dataset(SyntheticSpec("camera", 9, seed=int(np.random.default_rng().integers(1000))), data)
    images = sorted((data / "images").rglob("*.png"))
    record = checkpoint_from_onnx(MODELS / "camera.onnx", tmp_path / "cam.pt", list(CLASSES), images[:6], (288, 384))
    assert record["weights_loaded"] > 150 and record["calibration_images"] == 6

    sess = ort.InferenceSession(str(MODELS / "camera.onnx"), providers=["CPUExecutionProvider"])
    model = torch.load(str(tmp_path / "cam.pt"), map_location="cpu", weights_only=False)["model"].eval()
    assert [model.names[i] for i in sorted(model.names)] == list(CLASSES)
    for p in images[6:]:  # frames the calibration never saw
        boxed, _ = letterbox(cv2.imread(str(p)), (288, 384))
        x = np.ascontiguousarray(boxed[:, :, ::-1].transpose(2, 0, 1)[None], np.float32) / 255.0
        want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        with torch.no_grad():
            got = model(torch.from_numpy(x))[0].numpy()
        assert np.abs(got[:, 4:] - want[:, 4:]).max() < 1e-4  # class scores
        assert np.abs(got[:, :4] - want[:, :4]).max() < 1e-2  # box centres and sizes, pixels


def test_foreign_onnx_is_refused_by_name(ultralytics_offline, tmp_path):
    from vision.training.onnx_weights import OnnxWeightsError, checkpoint_from_onnx

    with pytest.raises(OnnxWeightsError, match="camera_verifier.onnx has no weight"):
        checkpoint_from_onnx(MODELS / "camera_verifier.onnx", tmp_path / "x.pt", list(CLASSES), [], (288, 384))
    with pytest.raises(OnnxWeightsError, match=r"model.23.cv3.0.2.weight is \(8, 64, 1, 1\)"):
        checkpoint_from_onnx(MODELS / "camera.onnx", tmp_path / "x.pt", list(CLASSES)[:3], [], (288, 384))


def _loss(model, batches, train: bool) -> float:
    """The detection loss (box + cls + dfl) on the batches, the batch norms on each batch's
    own statistics (train) or on their running ones (eval, what the ONNX model computes)."""
    import copy

    import torch
    from ultralytics.cfg import get_cfg
    from ultralytics.utils import DEFAULT_CFG

    m = copy.deepcopy(model)
    m.args, m.criterion = get_cfg(DEFAULT_CFG, {}), None
    m.train(train)
    total = 0.0
    with torch.no_grad():
        for b in batches:
            preds = m(b["img"])
            _, items = m.loss(b, preds[1] if isinstance(preds, tuple) else preds)
            parts = items.values() if isinstance(items, dict) else items.reshape(-1)[:3]
            total += float(sum(float(v) for v in parts))
    return total / len(batches)


@pytest.mark.skipif(not FLS.is_dir(), reason="../shared/data is not beside the checkout")
def test_rebuilt_sonar_model_trains_from_where_its_onnx_is(ultralytics_offline, no_network, tmp_path):
    """Training normalises each layer by the batch's own statistics. Calibrated on clean
    frames in eval mode only, the rebuilt shipped sonar model's training-mode loss on
    augmented real frames was 8-16 % above its eval-mode (ONNX) loss on the same frames
    (seeds 1-9), so a fine-tune began by losing ground; with the training-mode passes it is
    1-10 % above, 3-8 points closer on every seed (a trained checkpoint's own gap was 5 %)."""
    import cv2
    import torch

    from vision.training.fls_dataset import convert_fls
    from vision.training.onnx_weights import augmented_batches, checkpoint_from_onnx
    from vision.training.train import input_hw_for

    torch.set_num_threads(1)
    seed = random_test_seed()
    convert_fls(FLS, tmp_path / "fls", seed=1)
    train_dir = tmp_path / "fls" / "images" / "train"
    clean = sorted(train_dir.glob("*.png"))[::40]
    calibration = augmented_batches([train_dir], list(CLASSES), 320, 16, {}, seed=seed)
    probe = augmented_batches([train_dir], list(CLASSES), 320, 16, {}, seed=seed + 1)
    height, width = cv2.imread(str(clean[0])).shape[:2]
    input_hw = input_hw_for(320, (width, height))  # as `hullwatch train --imgsz 320` exports it
    ratios = {}
    for name, batches in (("clean only", None), ("training mode", calibration)):
        record = checkpoint_from_onnx(MODELS / "sonar.onnx", tmp_path / f"{name}.pt", list(CLASSES), clean,
                                      input_hw, train_batches=batches)
        assert record["max_relative_output_change"] < 1e-4
        model = torch.load(str(tmp_path / f"{name}.pt"), map_location="cpu", weights_only=False)["model"]
        ratios[name] = _loss(model, probe, train=True) / _loss(model, probe, train=False)
    assert ratios["training mode"] < ratios["clean only"] - 0.01, f"seed {seed}: {ratios}"
    assert ratios["training mode"] < 1.15, f"seed {seed}: {ratios}"
