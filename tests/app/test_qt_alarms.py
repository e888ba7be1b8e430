"""The alarms panel with real alarms: the shipped camera model and tracker run on frames the
embedded world renders of a planted container, and the AlarmBook's alarms (with their
snapshot crops) go into the review and the panel."""
from __future__ import annotations

import dataclasses
import datetime
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialogButtonBox

from app.alarm_review import AlarmReview
from app.qt_alarms import COLUMNS, FLASH_PERIOD_MS, QtAlarms
from app.qt_theme import colour
from resources import resource_path

CAMERA_MODEL = resource_path("models", "camera.onnx")
SEED = 4242


def _look_at(target, normal, standoff_m):
    from sim.world import SensorPose

    pos = np.asarray(target) + np.asarray(normal) * standoff_m
    forward = (np.asarray(target) - pos) / standoff_m
    up = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.95 else np.array([1.0, 0.0, 0.0])
    return SensorPose(pos, forward, up)


@pytest.fixture(scope="module")
def real_alarms():
    """(alarms, hull model, draft, planted object centre per alarm): the camera pipeline's
    own alarms from a slow pass past planted containers."""
    from hull.model import HullModel
    from hull.parametric import HullDimensions
    from hull.placement import Placement
    from sim.camera_render import CameraConfig
    from sim.scenario import generate_scenario
    from sim.world import World
    from vision.classes import CLASSES
    from vision.detect import OnnxDetector
    from vision.detect.pipeline import DetectionPipeline, FrameIn

    model = HullModel.parametric_hull(HullDimensions(length_m=90.0, beam_m=16.0, draft_m=6.0, depth_m=9.0,
                                                     block_coefficient=0.7))
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0.0, draft_m=6.0,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=12.0)
    scenario = generate_scenario(model, placement, seed=SEED, water="clear", containers=8, anomalies=0,
                                 distractors=0)
    world = World.from_scenario(scenario, model)
    pipeline = DetectionPipeline(OnnxDetector(CAMERA_MODEL, expected_classes=CLASSES))
    rng = np.random.default_rng(SEED)
    alarms, centres, t_s = [], [], 0.0
    objects = [o for o in scenario.objects if o.class_name == "parasitic_container" and o.kind != "sea_chest_package"]
    for obj in objects:
        n = np.asarray(obj.normal_h)
        along = np.cross(n, [0.0, 0.0, 1.0])
        along = along / np.linalg.norm(along) if np.linalg.norm(along) > 0.1 else np.array([1.0, 0.0, 0.0])
        for k in range(12):  # gliding past at 0.1 m a frame, 10 fps
            frame = world.render_camera(_look_at(np.asarray(obj.center_h) + along * (-0.6 + 0.1 * k), n, 1.8),
                                        CameraConfig(light_power=15.0), rng)
            result = pipeline.process(FrameIn(frame.image, t_s, k))
            t_s += 0.1
            for alarm in result.new_alarms:
                alarms.append(alarm)
                centres.append(np.asarray(obj.center_h))
        t_s += 10.0  # the next object is a new track, not a rejoin
        if alarms:
            break
    assert alarms, f"seed {SEED}: the shipped camera model raised no alarm on {len(objects)} planted containers"
    return alarms, model, placement.draft_m, centres


def _panel(qtbot, review, reviewer="Ana Diver"):
    view = QtAlarms(review, lambda: reviewer)
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    qtbot.waitExposed(view)
    return view


def _cell_pixel(view, row, column) -> QColor:
    """Colour of the cell near its right edge (away from the text), as drawn."""
    rect = view.table.visualRect(view.table.model().index(row, column))
    image = view.table.viewport().grab().toImage()
    return image.pixelColor(rect.right() - 3, rect.center().y())


def _double_click(qtbot, view, pos) -> None:
    # what a real double click delivers: press/release, then the double-click event
    qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, pos=pos)
    qtbot.mouseDClick(view.table.viewport(), Qt.LeftButton, pos=pos)


def _cell(view, row, name) -> str:
    return view.table.item(row, COLUMNS.index(name)).text()


def test_a_new_alarm_flashes_with_its_snapshot_until_acknowledged(qtbot, real_alarms):
    alarms, *_ = real_alarms
    alarm = alarms[0]
    review = AlarmReview()
    view = _panel(qtbot, review)
    with qtbot.waitSignal(view.alarm_raised, timeout=5000) as raised:
        # the pipeline's bridge adds alarms from its own thread
        threading.Thread(target=review.add, args=(alarm,)).start()
    assert raised.args == [alarm.alarm_id]
    assert view.table.rowCount() == 1
    assert _cell(view, 0, "Class") == alarm.class_name.replace("_", " ")
    assert _cell(view, 0, "Source") == "camera"
    assert _cell(view, 0, "Place on hull") == "locating…"
    assert _cell(view, 0, "Status") == "new"
    assert _cell(view, 0, "Confidence") == f"{alarm.confidence:.0%}"
    raised_at = datetime.datetime.strptime(_cell(view, 0, "Time (UTC)"), "%H:%M:%S").time()
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - now.replace(hour=raised_at.hour, minute=raised_at.minute, second=raised_at.second)
                ).total_seconds()) < 10
    assert view.sound.mode in ("sound", "beep") and view.sound.active  # offscreen CI has no audio device: the beep

    # the thumbnail is the snapshot: its drawn colours match the crop's (BGR -> RGB)
    rect = view.table.visualRect(view.table.model().index(0, 0))
    image = view.table.viewport().grab().toImage()
    pixmap = view.table.item(0, 0).data(Qt.DecorationRole)
    assert pixmap is not None and not pixmap.isNull()
    w, h = pixmap.width(), pixmap.height()
    assert max(w, h) >= 60
    cx, cy = rect.center().x(), rect.center().y()
    drawn = np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(cx - w // 4, cx + w // 4)]
                      for y in range(cy - h // 4, cy + h // 4)], float)
    snap = alarm.snapshot[..., ::-1].astype(float)
    sh, sw = snap.shape[:2]
    centre_of_snap = snap[sh // 4: sh - sh // 4, sw // 4: sw - sw // 4]
    assert np.abs(drawn.mean(axis=(0, 1)) - centre_of_snap.mean(axis=(0, 1))).max() < 25
    assert drawn.std() > 3  # a picture, not a flat fill

    alarm_red = colour("alarm")
    qtbot.waitUntil(lambda: _cell_pixel(view, 0, COLUMNS.index("Source")) == alarm_red, timeout=3000)
    qtbot.waitUntil(lambda: _cell_pixel(view, 0, COLUMNS.index("Source")) != alarm_red, timeout=3000)  # it flashes
    assert view.flashing_ids() == {alarm.alarm_id}

    view.acknowledge()  # what the gamepad's acknowledge button calls
    assert view.flashing_ids() == set() and not view.sound.active
    assert review.unacknowledged() == [] and _cell(view, 0, "Status") == "acknowledged"
    for _ in range(6):  # several flash periods: the row stays unlit
        qtbot.wait(FLASH_PERIOD_MS // 2)
        assert _cell_pixel(view, 0, COLUMNS.index("Source")) != alarm_red
    entry = review.entries(alarm.alarm_id)[-1]
    assert (entry.kind, entry.reviewer) == ("acknowledged", "Ana Diver")


def test_decisions_are_appended_with_reviewer_time_and_reason(qtbot, real_alarms):
    alarms, *_ = real_alarms
    alarm = alarms[0]
    review = AlarmReview()
    review.add(alarm)
    view = _panel(qtbot, review)
    assert view.table.rowCount() == 1 and _cell(view, 0, "Status") == "new"
    assert not view.buttons["confirm"].isEnabled()  # nothing selected yet
    view.select_alarm(alarm.alarm_id)

    before = datetime.datetime.now(datetime.timezone.utc)
    qtbot.mouseClick(view.buttons["confirm"], Qt.LeftButton)
    first = review.decision(alarm.alarm_id)
    assert (first.kind, first.reviewer) == ("confirmed", "Ana Diver")
    assert before <= first.t_utc <= datetime.datetime.now(datetime.timezone.utc)
    assert _cell(view, 0, "Status") == "confirmed" and review.unacknowledged() == []

    qtbot.mouseClick(view.buttons["dismiss"], Qt.LeftButton)
    dialog = view.dialog
    assert dialog is not None and dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.Ok)
    assert not ok.isEnabled()  # no reason yet: it cannot be dismissed
    dialog.reasons.setCurrentText("marine growth")
    qtbot.keyClicks(dialog.details, "barnacle cluster")
    assert ok.isEnabled()
    qtbot.mouseClick(ok, Qt.LeftButton)
    second = review.decision(alarm.alarm_id)
    assert (second.kind, second.text) == ("dismissed", "marine growth; barnacle cluster")
    assert _cell(view, 0, "Status") == "dismissed"
    assert "barnacle" in view.table.item(0, COLUMNS.index("Status")).toolTip()

    qtbot.mouseClick(view.buttons["note"], Qt.LeftButton)
    qtbot.keyClicks(view.dialog.editor, "diver to check at 10:40")
    qtbot.mouseClick(view.dialog.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)

    qtbot.mouseClick(view.buttons["confirm"], Qt.LeftButton)  # second thoughts: a new entry, not an edit
    kinds = [e.kind for e in review.entries(alarm.alarm_id)]
    assert kinds == ["confirmed", "dismissed", "note", "confirmed"]
    assert review.entries(alarm.alarm_id)[2].text == "diver to check at 10:40"
    assert review.status(alarm.alarm_id) == "confirmed" and _cell(view, 0, "Status") == "confirmed"

    with pytest.raises(ValueError, match="needs a reason"):
        review.decide(alarm.alarm_id, "dismissed", "Ana Diver", reason="  ")
    assert review.status(alarm.alarm_id) == "confirmed" and len(review.entries(alarm.alarm_id)) == 4


def test_recorder_listener_sees_every_change(real_alarms):
    alarms, *_ = real_alarms
    review = AlarmReview()
    seen = []
    unsubscribe = review.listeners(seen.append)
    review.add(alarms[0])
    review.decide(alarms[0].alarm_id, "confirmed", "Bo")
    review.note(alarms[0].alarm_id, "photo taken", "Bo")
    unsubscribe()
    review.acknowledge()
    assert [e.kind for e in seen] == ["added", "confirmed", "note"]
    assert seen[1].entry.reviewer == "Bo" and seen[1].alarm is alarms[0]
    sonar_twin = dataclasses.replace(alarms[0], source="sonar")
    with pytest.raises(ValueError, match="already a camera alarm"):
        review.add(sonar_twin)  # two pipelines' books both count from 1: never merge their alarms


def test_a_located_alarm_shows_its_place_and_can_be_flown_to(qtbot, real_alarms):
    alarms, model, draft_m, centres = real_alarms
    alarm = alarms[0]
    review = AlarmReview()
    view = _panel(qtbot, review, reviewer="")
    review.add(alarm)
    qtbot.waitUntil(lambda: view.table.rowCount() == 1, timeout=2000)
    rect = view.table.visualRect(view.table.model().index(0, COLUMNS.index("Class")))
    with qtbot.assertNotEmitted(view.fly_to_requested):
        _double_click(qtbot, view, rect.center())
    assert "not located" in view.status.text()

    address = model.queries.surface_address(centres[0], draft_m)
    review.update(dataclasses.replace(alarm, address=address))
    qtbot.waitUntil(lambda: _cell(view, 0, "Place on hull") == address.describe(), timeout=2000)
    assert "m from the stern" in address.describe()
    with qtbot.waitSignal(view.fly_to_requested, timeout=2000) as fly:
        _double_click(qtbot, view, rect.center())
    assert fly.args == [alarm.alarm_id]

    view.select_alarm(alarm.alarm_id)
    qtbot.mouseClick(view.buttons["confirm"], Qt.LeftButton)  # no operator name set: refused, said inline
    assert "reviewer" in view.status.text() and review.decision(alarm.alarm_id) is None
