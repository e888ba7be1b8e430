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
