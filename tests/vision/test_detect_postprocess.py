"""Letterbox, NMS and model cards: the detector's pieces that do not need a network."""
import json

import numpy as np
import pytest

from vision.classes import CLASSES
from vision.detect.letterbox import letterbox
from vision.detect.model_card import ModelError, load_card
from vision.detect.nms import batched_nms, nms
from vision.detections import Detections, box_iou


def test_letterbox_round_trip_maps_boxes_back_exactly():
    img = np.zeros((480, 640, 3), np.uint8)
    img[100:200, 300:420] = 255
    out, lb = letterbox(img, (320, 320))
    assert out.shape == (320, 320, 3)
    ys, xs = np.nonzero(out[:, :, 0] > 128)
    back = lb.boxes_to_source(np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32))[0]
    assert np.allclose(back, [300, 100, 420, 200], atol=2.0)
    assert out[0, 0, 0] == 114 and out[-1, -1, 0] == 114  # padded rows top and bottom


def test_letterbox_4_3_into_rectangular_input_needs_no_padding():
    out, lb = letterbox(np.zeros((480, 640, 3), np.uint8), (384, 512))
    assert out.shape == (384, 512, 3) and lb.pad_x == 0 and lb.pad_y == 0


def test_nms_keeps_best_of_overlaps_and_distinct_classes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    assert list(nms(boxes, scores, 0.5)) == [0, 2]
    keep = batched_nms(boxes, scores, np.array([0, 0, 0, 1]), 0.5)
    assert sorted(keep.tolist()) == [0, 2, 3]


def test_detections_filtering_and_iou():
    d = Detections([[0, 0, 10, 10], [5, 5, 15, 15]], [0.9, 0.2], [0, 1])
    assert len(d[d.confidence > 0.5]) == 1
    assert d[1].class_id.tolist() == [1]
    assert box_iou(d.xyxy, d.xyxy)[0, 1] == pytest.approx(25 / 175)
    with pytest.raises(ValueError, match="2 boxes but 1 confidences"):
        Detections([[0, 0, 1, 1], [0, 0, 1, 1]], [0.5], [0, 0])


def _card(tmp_path, **over):
    doc = {"format": "hullwatch-model-card", "version": 1, "name": "m", "kind": "camera",
           "classes": list(CLASSES), "input_hw": [480, 640], "sha256": "0" * 64}
    doc.update(over)
    (tmp_path / "m.card.json").write_text(json.dumps(doc))
    return tmp_path / "m.onnx"


def test_model_card_errors_name_the_problem(tmp_path):
    with pytest.raises(ModelError, match="model card not found"):
        load_card(tmp_path / "none.onnx")
    (tmp_path / "bad.card.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_card(tmp_path / "bad.onnx")
    p = _card(tmp_path, classes=["cat", "dog"])
    with pytest.raises(ModelError, match="HullWatch expects"):
        load_card(p, CLASSES)
    p = _card(tmp_path, input_hw=[100, 640])
    with pytest.raises(ModelError, match="multiples of 32"):
        load_card(p)
    p = _card(tmp_path, class_thresholds={"whale": 0.3})
    with pytest.raises(ModelError, match="whale"):
        load_card(p)
    p = _card(tmp_path, alarm_evidence_conf_s={"parasitic_container": "lots"})
    with pytest.raises(ModelError, match="alarm_evidence_conf_s"):
        load_card(p)
    card = load_card(_card(tmp_path, class_thresholds={"propeller": 0.6}, metrics={"map50": 0.8},
                           alarm_evidence_conf_s={"parasitic_container": 0.4}), CLASSES)
    assert card.threshold("propeller") == 0.6 and card.threshold("rudder") == 0.25
    assert card.alarm_evidence() == {"parasitic_container": 0.4}
    assert card.extra["metrics"] == {"map50": 0.8}


def test_sonar_fan_boxes_map_back_to_range_and_bearing():
    from vision.detect.sonar_geometry import fan_detections_to_polar
    from vision.sonar.fan import fan_image
    from vision.sonar.oculus import parse_oculus_ping
    from pathlib import Path

    raw = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sonar_oculus" / "one_ping_8bit.raw"
    if not raw.exists():
        pytest.skip("../shared/data/sonar_oculus is not present")
    fan = fan_image(parse_oculus_ping(raw.read_bytes()))
    targets = [(1.2, -20.0), (1.8, 0.0), (0.6, 25.0)]
    boxes = []
    for r, b in targets:
        x, y = fan.polar_to_pixel(r, b)
        boxes.append([x - 4, y - 4, x + 4, y + 4])
    polar = fan_detections_to_polar(Detections(boxes, [0.9] * 3, [0] * 3), fan)
    mpp = fan.metres_per_pixel
    for i, (r, b) in enumerate(targets):
        assert polar.range_m[i] == pytest.approx(r, abs=mpp)
        assert polar.bearing_deg[i] == pytest.approx(b, abs=np.degrees(mpp / r) + 1e-6)
        assert polar.near_range_m[i] < r < polar.near_range_m[i] + polar.range_extent_m[i]
