"""`hullwatch evaluate`'s core: the YOLO data-set reader, per-class scores and false alarms."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.vision.test_train import tiny_model
from vision.classes import CLASS_ID, CLASSES
from vision.evaluation.evaluate_dataset import (DatasetError, evaluate_detections, evaluate_model, label_path_for,
                                                read_dataset, read_labels)


@pytest.fixture
def tiny(ultralytics_offline, no_network, tmp_path_factory):
    return tiny_model(tmp_path_factory)


def _ground_truth(data, split):
    import cv2

    ds = read_dataset(data)
    gts = []
    for p in ds.split_images(split):
        h, w = cv2.imread(str(p)).shape[:2]
        gts.append(read_labels(label_path_for(p), w, h, len(ds.names)))
    return gts


def test_evaluate_the_tiny_model_on_its_test_split(tiny, tmp_path):
    card = json.loads((tiny["data"] / "card.json").read_text())
    ev = evaluate_model(tiny["model"], tiny["data"], split="test")
    assert ev.images == card["frames"]["test"] and len(ev.rows) == len(CLASSES)
    for r in ev.rows:
        assert r.instances == card["labels"]["test"].get(r.class_name, 0)
        assert (r.instances == 0) == math.isnan(r.map50)
        assert 0 <= r.images <= r.instances
    assert ev.mean["instances"] == sum(card["labels"]["test"].values())
    assert ev.false_alarms.empty_images == card["empty_images"]["test"] and ev.false_alarms.fps == 10.0
    table = ev.table()
    assert table.splitlines()[0].split() == ["class", "thr", "images", "inst", "P", "R@thr", "mAP50", "mAP50-95"]
    assert "all (mean)" in table and "false alarms" in table
    doc = ev.to_dict()
    json.dumps(doc, allow_nan=False)  # NaN written as null
    assert doc["per_class"]["parasitic_container"]["instances"] == card["labels"]["test"]["parasitic_container"]
    # --conf replaces the per-class thresholds
    ev2 = evaluate_model(tiny["model"], tiny["data"], split="val", conf=0.5, fps=25)
    assert all(r.threshold == 0.5 for r in ev2.rows) and ev2.false_alarms.fps == 25


def test_ground_truth_as_predictions_scores_map_1(tiny):
    gts = _ground_truth(tiny["data"], "test") + _ground_truth(tiny["data"], "val")
    preds = [(gb, np.ones(len(gk)), gk) for gb, gk in gts]
    rows, mean, fa = evaluate_detections(preds, gts, CLASSES, [0.25] * len(CLASSES))
    present = [r for r in rows if r.instances]
    assert present and all(r.map50 == pytest.approx(1.0) and r.map50_95 == pytest.approx(1.0) for r in present)
    assert all(r.recall == 1.0 and r.precision == 1.0 for r in present)
    assert mean["map50"] == pytest.approx(1.0) and fa.alarms == 0
    # and the reader can fail: boxes shifted by half their width no longer score
    shifted = [(gb + np.c_[(gb[:, 2] - gb[:, 0]) / 2, 0 * gb[:, 1], (gb[:, 2] - gb[:, 0]) / 2, 0 * gb[:, 1]],
                np.ones(len(gk)), gk) for gb, gk in gts]
    _, mean, _ = evaluate_detections(shifted, gts, CLASSES, [0.25] * len(CLASSES))
    assert mean["map50_95"] < 0.5


def test_false_alarms_are_counted_on_object_free_images_only():
    box = np.array([[10.0, 10.0, 30.0, 30.0]])
    pc, na, grating = CLASS_ID["parasitic_container"], CLASS_ID["niche_anomaly"], CLASS_ID["sea_chest_grating"]
    empty_gt = (np.zeros((0, 4)), np.zeros(0, int))
    full_gt = (box, np.array([pc]))
    preds = [
        (np.repeat(box, 4, 0), np.array([0.9, 0.6, 0.2, 0.95]), np.array([pc, na, pc, grating])),  # 2 alarms
        (np.repeat(box, 2, 0), np.array([0.7, 0.3]), np.array([na, na])),  # 1 alarm (0.3 < 0.4)
        (box + 100, np.array([0.99]), np.array([pc])),  # not an empty image: a FP, not a false alarm here
        (np.zeros((0, 4)), np.zeros(0), np.zeros(0, int)),  # empty image, nothing found
    ]
    thr = [0.25] * len(CLASSES)
    thr[na] = 0.4
    rows, _, fa = evaluate_detections(preds, [empty_gt, empty_gt, full_gt, empty_gt], CLASSES, thr, fps=10)
    assert fa.empty_images == 3 and fa.alarms == 3
    assert fa.per_class == {"parasitic_container": 1, "niche_anomaly": 2}
    assert fa.per_image == pytest.approx(1.0) and fa.per_minute == pytest.approx(600.0)
    assert rows[pc].instances == 1 and rows[pc].images == 1


def test_reader_handles_other_yolo_layouts(tmp_path):
    import cv2

    root = tmp_path / "set"
    (root / "imgs" / "images").mkdir(parents=True)
    (root / "imgs" / "labels").mkdir(parents=True)
    cv2.imwrite(str(root / "imgs" / "images" / "a.png"), np.zeros((50, 100, 3), np.uint8))
    cv2.imwrite(str(root / "imgs" / "images" / "b.png"), np.zeros((50, 100, 3), np.uint8))
    (root / "imgs" / "labels" / "a.txt").write_text("3 0.5 0.5 0.2 0.4\n")
    (root / "test.txt").write_text("imgs/images/a.png\nimgs/images/b.png\n")
    names = "".join(f"  - {c}\n" for c in CLASSES)
    (root / "data.yaml").write_text(f"path: /no/longer/there\ntrain: test.txt\nval: test.txt\ntest: test.txt\n"
                                    f"names:\n{names}")
    ds = read_dataset(root)
    assert ds.names == CLASSES and ds.root == root
    imgs = ds.split_images("test")
    assert [p.name for p in imgs] == ["a.png", "b.png"]
    gb, gk = read_labels(label_path_for(imgs[0]), 100, 50, len(CLASSES))
    assert gk.tolist() == [3] and np.allclose(gb, [[40, 15, 60, 35]])
    assert read_labels(label_path_for(imgs[1]), 100, 50, len(CLASSES))[1].size == 0  # no label file: background
    (root / "imgs" / "labels" / "a.txt").write_text("9 0.5 0.5 0.2 0.4\n")
    with pytest.raises(DatasetError, match="class 9 is outside"):
        read_labels(label_path_for(imgs[0]), 100, 50, len(CLASSES))


def test_dataset_errors(tiny, tmp_path):
    with pytest.raises(DatasetError, match="no such data set folder"):
        read_dataset(tmp_path / "nope")
    with pytest.raises(DatasetError, match="no data.yaml"):
        read_dataset(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "data.yaml").write_text("train: images/train\nnames: [a, b]\n")
    with pytest.raises(DatasetError, match="differ from the model's classes"):
        evaluate_model(tiny["model"], bad)
    with pytest.raises(DatasetError, match="no 'test' split"):
        read_dataset(bad).split_images("test")
