"""ByteTrack-style tracker on box sequences with known truth."""
import numpy as np

from vision.detections import Detections
from vision.tracking import ByteTracker, TrackerConfig


def _dets(boxes, conf, cls=None):
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    return Detections(boxes, np.asarray(conf, float), np.zeros(len(boxes)) if cls is None else cls)


def test_moving_box_gets_one_id_after_confirmation():
    tr = ByteTracker(TrackerConfig(min_hits=3))
    ids = []
    for k in range(20):
        x = 100 + 6 * k
        out = tr.update(_dets([[x, 200, x + 60, 240]], [0.9]))
        ids.append(int(out.tracker_id[0]))
    assert ids[:2] == [-1, -1], "confirmed before min_hits"
    assert len(set(ids[2:])) == 1 and ids[2] > 0


def test_two_crossing_objects_keep_their_ids():
    tr = ByteTracker()
    seen = {}
    for k in range(30):
        a = [50 + 10 * k, 100, 90 + 10 * k, 140]
        b = [350 - 10 * k, 110, 390 - 10 * k, 150]
        out = tr.update(_dets([a, b], [0.9, 0.85]))
        if k >= 3:
            seen.setdefault("a", set()).add(int(out.tracker_id[0]))
            seen.setdefault("b", set()).add(int(out.tracker_id[1]))
    assert len(seen["a"]) == 1 and len(seen["b"]) == 1
    assert seen["a"] != seen["b"]


def test_short_occlusion_keeps_the_id_and_weak_detections_continue_a_track():
    tr = ByteTracker(TrackerConfig(max_lost_frames=10))
    box = lambda k: [200 + 4 * k, 200, 260 + 4 * k, 250]
    first = None
    for k in range(8):
        first = int(tr.update(_dets([box(k)], [0.9])).tracker_id[0])
    for k in range(8, 13):  # hidden: nothing detected
        assert len(tr.update(Detections.empty())) == 0
    again = tr.update(_dets([box(13)], [0.9]))
    assert int(again.tracker_id[0]) == first
    weak = tr.update(_dets([box(14)], [0.2]))  # half hidden behind a grating: low score
    assert int(weak.tracker_id[0]) == first


def test_single_frame_false_alarm_never_confirms_and_weak_detections_start_nothing():
    tr = ByteTracker()
    tr.update(_dets([[10, 10, 50, 50]], [0.95]))
    for _ in range(5):
        tr.update(Detections.empty())
    assert tr.confirmed_tracks() == []
    for _ in range(5):
        out = tr.update(_dets([[300, 300, 340, 340]], [0.3]))
        assert out.tracker_id[0] == -1
    assert tr.tracks == []


def test_classes_do_not_swap_between_overlapping_tracks():
    tr = ByteTracker()
    for k in range(6):
        out = tr.update(_dets([[100, 100, 200, 200], [105, 105, 205, 205]], [0.9, 0.8], cls=[0, 3]))
    ids = {int(c): int(t) for c, t in zip(out.class_id, out.tracker_id)}
    for k in range(6):  # the detector reports them in the other order
        out = tr.update(_dets([[106, 105, 206, 205], [101, 100, 201, 200]], [0.8, 0.9], cls=[3, 0]))
        assert {int(c): int(t) for c, t in zip(out.class_id, out.tracker_id)} == ids


def test_per_class_thresholds_from_a_card_decide_what_starts_and_continues_a_track():
    """for_thresholds: a detection at or above its class's threshold starts a track; down to
    half of it, it only continues one. Class 0 at 0.3, class 1 at 0.8."""
    tr = ByteTracker(TrackerConfig.for_thresholds([0.3, 0.8], min_hits=2))
    assert tr.config.detect_conf() == 0.15
    # class 1 at 0.5: under its threshold, never starts a track
    for _ in range(5):
        out = tr.update(_dets([[0, 0, 50, 50]], [0.5], np.array([1])))
        assert out.tracker_id[0] == -1
    assert tr.tracks == []
    # class 0 at 0.35 starts and confirms; at 0.2 (weak: >= 0.15) it continues the track
    ids = [int(tr.update(_dets([[100 + k, 100, 150 + k, 150]], [0.35], np.array([0]))).tracker_id[0])
           for k in range(3)]
    weak = [int(tr.update(_dets([[103 + k, 100, 153 + k, 150]], [0.2], np.array([0]))).tracker_id[0])
            for k in range(5)]
    assert ids[0] == -1 and ids[1] > 0 and set(weak) == {ids[1]}
    # at 0.1 (under half the threshold) the detection is ignored and the track only coasts
    out = tr.update(_dets([[108, 100, 158, 150]], [0.1], np.array([0])))
    assert out.tracker_id[0] == -1 and tr.tracks[0].lost_frames == 1


def test_track_frame_runs_the_detector_down_to_the_weak_level_and_shows_only_what_counts(
        ultralytics_offline, no_network, tmp_path_factory, tmp_path):
    """A real ONNX model whose card puts every class at 0.5: track_frame asks it for boxes down
    to 0.25, the tracker sees them all, and the output holds the boxes >= 0.5 plus weak ones
    that continue a confirmed track."""
    import shutil

    import cv2
    import pytest

    from tests.vision.biased_models import biased_model
    from tests.vision.test_train import tiny_model
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.model_card import sha256_of
    from vision.tracking import track_frame, tracker_for
    from vision.training.model_card_writer import card_document, write_card

    tiny = tiny_model(tmp_path_factory)
    onnx, _ = biased_model(tiny, tmp_path_factory, 5.0)
    model = tmp_path / "m.onnx"
    shutil.copy(onnx, model)
    img = cv2.imread(str(sorted((tiny["data"] / "images" / "test").glob("*.png"))[0]))
    scores = np.sort(OnnxDetector(onnx)(img, conf=1e-3).confidence)[::-1]
    thr = float(scores[min(4, len(scores) - 1)])  # about five boxes at or above the card's threshold
    card = card_document(name="m", kind="camera", classes=CLASSES, input_hw=OnnxDetector(onnx).card.input_hw,
                         sha256=sha256_of(model), class_thresholds={c: thr for c in CLASSES})
    write_card(tmp_path / "m.card.json", card)
    det = OnnxDetector(model, expected_classes=CLASSES)
    tracker = tracker_for(det)
    assert tracker.config.detect_conf() == pytest.approx(thr / 2, rel=1e-3)
    every = det(img, conf=thr / 2)
    strong = every.confidence >= det.card.threshold(CLASSES[0]) - 1e-6
    assert (~strong).any() and strong.any(), f"the image must give both kinds: {scores[:20]}"
    shown = [track_frame(det, tracker, img) for _ in range(4)]  # the same frame: tracks confirm on the 3rd
    assert len(shown[0]) == int(strong.sum()) and np.all(shown[0].confidence >= thr - 1e-6)
    assert len(shown[3][shown[3].tracker_id > 0]) >= 1
    assert np.all(shown[3].confidence[shown[3].tracker_id <= 0] >= thr - 1e-6)
