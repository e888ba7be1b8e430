"""The latest-frame slot under a fast producer, and alarms from confirmed tracks."""
import threading
import time

import numpy as np
import pytest

from vision.alarms import AlarmBook
from vision.classes import CLASSES
from vision.detections import Detections
from vision.latest_slot import LatestSlot, SlotClosed
from vision.tracking import ByteTracker


def test_slow_consumer_gets_the_newest_item_and_drops_are_counted():
    slot = LatestSlot()
    got = []

    def consumer():
        while True:
            try:
                item = slot.take(timeout_s=1.0)
            except SlotClosed:
                return
            if item is not None:
                got.append(item)
                time.sleep(0.02)  # slower than the producer

    t = threading.Thread(target=consumer)
    t.start()
    for i in range(200):
        slot.put(i)
        time.sleep(0.001)
    time.sleep(0.1)
    slot.close()
    t.join(2)
    assert not t.is_alive()
    assert got == sorted(got) and got[-1] == 199  # never stale, ends on the newest
    assert len(got) < 100
    assert slot.dropped + len(got) == 200


def test_take_times_out_and_close_wakes_a_waiter():
    slot = LatestSlot()
    t0 = time.monotonic()
    assert slot.take(timeout_s=0.05) is None
    assert time.monotonic() - t0 < 1.0
    threading.Timer(0.05, slot.close).start()
    with pytest.raises(SlotClosed):
        slot.take(timeout_s=5.0)


def test_confirmed_container_raises_one_alarm_with_the_best_snapshot():
    tracker, book = ByteTracker(), AlarmBook(CLASSES, "camera")
    img = np.zeros((480, 640, 3), np.uint8)
    raised = []
    for k in range(10):
        conf = 0.6 + 0.03 * k
        img[:] = k  # each frame's pixels tell which frame the snapshot came from
        det = Detections([[100 + 2 * k, 100, 160 + 2 * k, 150], [300, 300, 340, 340]], [conf, 0.9],
                         [CLASSES.index("parasitic_container"), CLASSES.index("rudder")])
        raised += book.update(tracker.update(det), float(k), img)
    assert len(raised) == 1 and raised[0].class_name == "parasitic_container"
    alarm = raised[0]
    assert alarm.first_t_s == 2.0 and alarm.last_t_s == 9.0 and alarm.frames == 8
    assert alarm.confidence == pytest.approx(0.87) and alarm.snapshot[0, 0, 0] == 9
    assert alarm.snapshot.shape[0] > 50  # the box plus context around it


def test_a_track_that_breaks_on_the_same_object_joins_its_alarm():
    """A glare hides the bag for a few frames, longer than a tentative track survives: the
    restarted track is the same object and must not raise a second alarm. Another bag of
    the same class elsewhere, and the same place much later, still do."""
    from vision.tracking import TrackerConfig

    tracker, book = ByteTracker(TrackerConfig(max_lost_frames=2)), AlarmBook(CLASSES, "camera")
    bag = CLASSES.index("parasitic_container")
    raised = []
    t = 0.0
    for k in range(40):
        t = k * 0.1
        boxes, confs = [], []
        if not 8 <= k < 14:  # hidden for 0.6 s: the first track is dropped after 2 lost frames
            boxes.append([200 + k, 200, 260 + k, 250])
            confs.append(0.8)
        if k >= 30:  # a second bag far from the first
            boxes.append([450, 50, 500, 90])
            confs.append(0.8)
        det = Detections(np.array(boxes, float).reshape(-1, 4), confs, [bag] * len(boxes))
        raised += book.update(tracker.update(det), t, None)
    first = book.alarms[raised[0].alarm_id]
    assert len(first.track_ids) == 2, "the restarted track joined the first alarm"
    assert len(raised) == 2 and raised[1].box_xyxy[0] == 450
    assert first.frames == 40 - 6 - 2 - 2  # every confirmed sighting of both tracks
    tracker.reset()  # a later pass (track ids keep counting)
    for k in range(3):  # the same place long after: a new alarm (someone may have put something back)
        det = Detections([[240, 200, 300, 250]], [0.8], [bag])
        raised += book.update(tracker.update(det), t + 10.0 + k * 0.1, None)
    assert len(raised) == 3


def test_the_other_alarm_class_on_the_same_object_joins_its_alarm():
    """A bag in a thruster tunnel scores as both parasitic_container and niche_anomaly: one
    object, one alarm, named after its most confident view."""
    tracker, book = ByteTracker(), AlarmBook(CLASSES, "camera")
    bag, anomaly = CLASSES.index("parasitic_container"), CLASSES.index("niche_anomaly")
    raised = []
    for k in range(10):
        det = Detections([[100 + k, 100, 160 + k, 150], [102 + k, 98, 158 + k, 152]], [0.6, 0.5 + 0.04 * k],
                         [bag, anomaly])
        raised += book.update(tracker.update(det), k * 0.1, None)
    assert len(raised) == 1 and len(book.alarms) == 1
    alarm = raised[0]
    assert len(alarm.track_ids) == 2 and alarm.class_name == "niche_anomaly"  # 0.86 beat 0.6
    assert alarm.confidence == pytest.approx(0.86)


def test_an_alarm_waits_for_enough_evidence_whatever_the_frame_rate():
    """0.3 confidence-seconds: a steady bag at 0.6 alarms after about 0.5 s of confirmed
    sightings at 10 and at 25 frames/s alike; a track that flickers at 0.4 for 0.4 s does not."""
    bag = CLASSES.index("parasitic_container")

    def first_alarm_s(fps: float, conf: float, seconds: float):
        from vision.tracking import TrackerConfig

        tracker = ByteTracker(TrackerConfig(high_conf=0.3, low_conf=0.15, new_track_conf=0.3))
        book = AlarmBook(CLASSES, "camera", evidence_conf_s={"parasitic_container": 0.3})
        for k in range(int(seconds * fps)):
            det = Detections([[100.0 + k, 100, 160 + k, 150]], [conf], [bag])
            if book.update(tracker.update(det), k / fps, None):
                return k / fps
        return None

    confirmed_10, confirmed_25 = 2 / 10, 2 / 25  # the tracker confirms on the third frame
    at_10, at_25 = first_alarm_s(10, 0.6, 3.0), first_alarm_s(25, 0.6, 3.0)
    assert at_10 - confirmed_10 == pytest.approx(0.5, abs=0.11)
    assert at_25 - confirmed_25 == pytest.approx(0.5, abs=0.05)
    assert first_alarm_s(10, 0.4, 0.6) is None  # 0.4 x 0.3 s after confirmation = 0.12 < 0.3
    assert first_alarm_s(10, 0.4, 1.2) is not None  # seen long enough, even at 0.4


def test_evidence_levels_must_name_known_classes():
    with pytest.raises(ValueError, match="bagg"):
        AlarmBook(CLASSES, "camera", evidence_conf_s={"bagg": 0.3})
    with pytest.raises(ValueError, match="niche_anomaly"):
        AlarmBook(CLASSES, "camera", evidence_conf_s={"niche_anomaly": -1})


def test_an_alarm_box_that_is_a_fitting_is_dropped_and_a_bag_on_the_fitting_is_kept():
    from vision.fittings import drop_alarms_on_fittings

    bag, anode = CLASSES.index("parasitic_container"), CLASSES.index("anode")
    det = Detections([[100, 100, 200, 160],   # the anode as a "container", less sure than as an anode
                      [101, 99, 199, 161],    # the anode
                      [150, 140, 190, 175],   # a bag strapped to its end: a box of its own
                      [400, 300, 460, 340],   # a bag far away
                      [402, 301, 459, 341]],  # ... that also scores as an anode, less surely
                     [0.45, 0.6, 0.5, 0.8, 0.4], [bag, anode, bag, bag, anode])
    kept = drop_alarms_on_fittings(det, CLASSES, 0.7)
    assert kept.xyxy[:, 0].tolist() == [101, 150, 400, 402]
    assert len(drop_alarms_on_fittings(det, CLASSES, None)) == 5  # a card without the level drops nothing
