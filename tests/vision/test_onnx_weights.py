"""The shipped camera model, read back from its ONNX file into a trainable YOLO11n, computes
what the ONNX model computes (so a fine-tuning starts from the shipped model itself)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vision.classes import CLASSES

MODELS = Path(__file__).parents[2] / "resources" / "models"


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
