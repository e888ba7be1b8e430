"""mAP against hand-worked cases and against ultralytics' own AP on the same matches."""
import numpy as np
import pytest

from vision.evaluation.map_metrics import average_precision, evaluate, match_image


def test_perfect_and_missing_detections():
    gt = ([[0, 0, 10, 10], [20, 20, 30, 30]], [0, 0])
    perfect = ([[0, 0, 10, 10], [20, 20, 30, 30]], [0.9, 0.8], [0, 0])
    m = evaluate([perfect], [gt], ["bag"], [0.5])[0]
    assert m.ap50 == pytest.approx(1.0) and m.ap50_95 == pytest.approx(1.0)
    assert m.recall_at_threshold == 1.0 and m.precision_at_threshold == 1.0
    half = ([[0, 0, 10, 10]], [0.9], [0])
    m = evaluate([half], [gt], ["bag"], [0.5])[0]
    assert m.ap50 == pytest.approx(0.5, abs=0.01) and m.recall_at_threshold == 0.5


def test_wrong_class_and_duplicates_are_false_positives():
    tp = match_image(np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float), np.array([0.9, 0.8, 0.7]),
                     np.array([1, 0, 0]), np.array([[0, 0, 10, 10]], float), np.array([0]))
    assert tp[:, 0].tolist() == [False, True, False]


def test_loose_box_counts_at_50_but_not_at_95():
    tp = match_image(np.array([[0, 0, 10, 13]], float), np.array([0.9]), np.array([0]),
                     np.array([[0, 0, 10, 10]], float), np.array([0]))  # IoU 0.77
    assert tp[0, :6].all() and not tp[0, 6:].any()


def test_average_precision_agrees_with_ultralytics(monkeypatch, tmp_path):
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path))
    metrics = pytest.importorskip("ultralytics.utils.metrics", reason="the train extra (ultralytics) is not installed")
    rng = np.random.default_rng(7)
    n = 300
    tp = rng.random((n, 10)) < np.linspace(0.8, 0.2, 10)[None, :]
    conf = rng.random(n)
    cls = rng.integers(0, 3, n)
    target = rng.integers(0, 3, 250)
    theirs = metrics.ap_per_class(tp, conf, cls, target)[5]  # (classes present, 10)
    ours = np.array([average_precision(tp[cls == c], conf[cls == c], int((target == c).sum())) for c in range(3)])
    # ultralytics integrates with the trapezoid rule, COCO averages 101 samples: close, not equal
    assert np.allclose(ours, theirs, atol=0.02)
    assert abs(ours.mean() - theirs.mean()) < 0.01
