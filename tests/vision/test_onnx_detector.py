"""OnnxDetector on a really trained (tiny) model against ultralytics' own predictions from
the same weights, and the errors a broken model or card must give."""
from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from tests.vision.biased_models import biased_model
from tests.vision.test_train import TINY_UNSTABLE, tiny_model
from vision.classes import CLASSES

CONF = 1e-3  # low: many boxes to compare, as in an evaluation
BOX_TOL_PX = 2.0


@pytest.fixture
def tiny(ultralytics_offline, no_network, tmp_path_factory):
    return tiny_model(tmp_path_factory)


def _copy_model(tiny, dest):
    dest.mkdir(exist_ok=True)
    shutil.copy(tiny["model"], dest / "m.onnx")
    shutil.copy(tiny["model"].with_name("tiny.card.json"), dest / "m.card.json")
    return dest / "m.onnx"


_YOLO: dict = {}


def _ultralytics(best_pt, image, input_hw, iou):
    from ultralytics import YOLO

    model = _YOLO.setdefault(str(best_pt), YOLO(str(best_pt)))
    # rect=False: the fixed input the ONNX model takes (a .pt model would otherwise pad only to a stride multiple)
    r = model.predict(image, imgsz=list(input_hw), conf=CONF, iou=iou, device="cpu", verbose=False,
                      max_det=300, rect=False)[0]
    b = r.boxes
    return b.xyxy.cpu().numpy(), b.conf.cpu().numpy(), b.cls.cpu().numpy().astype(int)


@pytest.fixture
def boosted(tiny, tmp_path_factory):
    """The tiny model with its class priors raised (+5 on the classification biases), so a
    barely trained model gives many confident, image-dependent boxes whatever the training
    luck."""
    return biased_model(tiny, tmp_path_factory, 5.0)


RESIZES = [None, (200, 150), (160, 160)]  # as rendered; scaled (200x150); padded (160x160)


def _test_images(tiny, resize_wh, n=4):
    images = []
    for path in sorted((tiny["data"] / "images" / "test").glob("*.png"))[:n]:
        img = cv2.imread(str(path))
        if resize_wh:
            img = cv2.resize(img, resize_wh, interpolation=cv2.INTER_AREA)
        images.append(img)
    return images


def _run_raw(det, x):
    """The network's raw output for a batch, one image at a time (the model has a fixed batch of 1)."""
    return np.concatenate([det.backend.run(x[i:i + 1]) for i in range(len(x))])


# the undertrained tiny model's boxes reach hundreds of pixels on this machine: 0.006 px apart
@TINY_UNSTABLE
@pytest.mark.parametrize("resize_wh", RESIZES)
def test_onnx_raw_output_equals_the_torch_model_on_the_same_input(boosted, resize_wh, tiny):
    """Pre-processing and the network: the ONNX model in ONNX Runtime against the .pt
    weights in torch, on the very tensor OnnxDetector feeds it. Compared before NMS, where
    1e-5 differences cannot flip a keep/suppress decision between near-tied boxes."""
    import torch
    from ultralytics import YOLO

    from vision.detect import OnnxDetector

    det = OnnxDetector(boosted[0], expected_classes=CLASSES)
    x, _ = det.preprocess(_test_images(tiny, resize_wh))
    ours = _run_raw(det, x)
    net = YOLO(str(boosted[1])).model.float().eval()
    with torch.no_grad():
        theirs = net(torch.from_numpy(x))[0].numpy()
    assert ours.shape == theirs.shape
    assert np.abs(ours[:, :4] - theirs[:, :4]).max() < 2e-3  # box centres and sizes, input pixels
    assert np.abs(ours[:, 4:] - theirs[:, 4:]).max() < 1e-4  # class scores
    assert theirs[:, 4:].max() > 0.15, "no confident score: the comparison would prove little"


@pytest.mark.parametrize("resize_wh", RESIZES)
def test_onnx_postprocess_equals_ultralytics_nms_on_the_same_output(boosted, resize_wh, tiny):
    """Thresholds, per-class NMS and the letterbox back to the source image: ours against
    ultralytics' non_max_suppression + scale_boxes on the same raw output."""
    import torch
    from ultralytics.utils.nms import non_max_suppression
    from ultralytics.utils.ops import scale_boxes

    from vision.detect import OnnxDetector

    det = OnnxDetector(boosted[0], expected_classes=CLASSES)
    images = _test_images(tiny, resize_wh)
    x, lbs = det.preprocess(images)
    raw = _run_raw(det, x)
    compared = 0
    for img, out, lb in zip(images, raw, lbs):
        ours = det._postprocess(out, lb, CONF)
        theirs = non_max_suppression(torch.from_numpy(out[None].copy()), conf_thres=CONF,
                                     iou_thres=det.card.iou_threshold, max_det=300, max_time_img=60.0)[0].numpy()
        t_xyxy = scale_boxes(tuple(det.card.input_hw), theirs[:, :4].copy(), img.shape[:2])
        t_conf, t_cls = theirs[:, 4], theirs[:, 5].astype(int)
        # NMS on identical scores decides identically; only an IoU within float rounding of
        # the threshold could differ, so allow one box either way
        assert abs(len(ours) - len(t_conf)) <= 1
        dist = np.abs(t_xyxy[:, None, :] - ours.xyxy[None, :, :]).max(axis=2)
        dist[t_cls[:, None] != ours.class_id[None, :]] = np.inf
        # a barely trained model puts several anchors' boxes on the same pixels: match on both
        conf_diff = np.abs(t_conf[:, None] - ours.confidence[None, :])
        matched = int(((dist < 1e-2) & (conf_diff < 1e-6)).any(axis=1).sum())
        assert matched >= len(t_conf) - 1
        compared += matched
    assert compared >= 40, "too few boxes: the comparison would prove little"


def test_onnx_detector_agrees_with_ultralytics_predict_end_to_end(boosted, tiny):
    """The whole chain against ultralytics' predict (its own letterbox, torch, NMS). Near-tied
    boxes may resolve differently between engines, so this checks the best box and most of
    the rest; the two tests above pin each stage exactly."""
    from vision.detect import OnnxDetector

    det = OnnxDetector(boosted[0], expected_classes=CLASSES)
    for img in _test_images(tiny, (200, 150), n=2) + _test_images(tiny, None, n=2):
        theirs_xyxy, theirs_conf, theirs_cls = _ultralytics(boosted[1], img, det.card.input_hw,
                                                            det.card.iou_threshold)
        ours = det(img, conf=CONF)
        assert len(theirs_conf) and abs(len(ours) - len(theirs_conf)) <= max(2, 0.05 * len(theirs_conf))
        dist = np.abs(theirs_xyxy[:, None, :] - ours.xyxy[None, :, :]).max(axis=2)
        dist[theirs_cls[:, None] != ours.class_id[None, :]] = np.inf
        near = dist.min(axis=1) <= BOX_TOL_PX
        assert near[np.argmax(theirs_conf)]
        assert near.mean() >= 0.8


def test_onnx_detector_matches_ultralytics_on_the_trained_model_as_is(tiny):
    from vision.detect import OnnxDetector

    det = OnnxDetector(tiny["model"])
    best = tiny["work"] / "run" / "weights" / "best.pt"
    for path in sorted((tiny["data"] / "images" / "test").glob("*.png"))[:2]:
        img = cv2.imread(str(path))
        xyxy, conf, cls = _ultralytics(best, img, det.card.input_hw, det.card.iou_threshold)
        ours = det(img, conf=CONF)
        assert len(ours) == len(conf)
        if len(conf):
            assert np.allclose(np.sort(ours.confidence), np.sort(conf), atol=1e-3)


def test_detect_batch_on_a_fixed_batch_model_equals_single_images(tiny):
    from vision.detect import OnnxDetector

    det = OnnxDetector(tiny["model"])
    imgs = [cv2.imread(str(p)) for p in sorted((tiny["data"] / "images" / "val").glob("*.png"))[:3]]
    batch = det.detect_batch(imgs, conf=CONF)
    for img, b in zip(imgs, batch):
        one = det(img, conf=CONF)
        assert len(one) == len(b) and np.allclose(one.xyxy, b.xyxy) and np.allclose(one.confidence, b.confidence)


def test_broken_models_and_cards_give_a_clear_model_error(tiny, tmp_path):
    from vision.detect import ModelError, OnnxDetector
    from vision.detect.model_card import sha256_of

    with pytest.raises(ModelError, match="model file not found"):
        OnnxDetector(tmp_path / "none.onnx")

    corrupt = _copy_model(tiny, tmp_path / "corrupt")
    data = corrupt.read_bytes()
    corrupt.write_bytes(data[: len(data) // 3])  # truncated download
    card = json.loads(corrupt.with_name("m.card.json").read_text())
    with pytest.raises(ModelError, match="SHA-256 differs"):
        OnnxDetector(corrupt)
    card["sha256"] = sha256_of(corrupt)  # even with a matching card, the bytes are no model
    corrupt.with_name("m.card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        OnnxDetector(corrupt)

    wrong = _copy_model(tiny, tmp_path / "wrong")
    card = json.loads(wrong.with_name("m.card.json").read_text())
    card["classes"] = list(reversed(card["classes"]))
    wrong.with_name("m.card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="HullWatch expects"):
        OnnxDetector(wrong, expected_classes=CLASSES)

    swapped = _copy_model(tiny, tmp_path / "swapped")
    swapped.write_bytes(swapped.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="SHA-256 differs"):
        OnnxDetector(swapped)

    shape = _copy_model(tiny, tmp_path / "shape")
    card = json.loads(shape.with_name("m.card.json").read_text())
    card["input_hw"] = [128, 128]
    shape.with_name("m.card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="input is 96x128 but its card says 128x128"):
        OnnxDetector(shape)

