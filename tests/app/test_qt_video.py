"""QtVideoView and the burned-in overlay on real frames: camera views of a planted container
rendered by the embedded world, run through the shipped camera model and the live
detection pipeline's detector -> tracker -> alarms."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtGui import QColor

from app.qt_theme import colour
from app.qt_video import QtVideoView
from app.video_overlay import burn_overlay, draw_detections, overlay_band_rect
from resources import resource_path
from sim.embedded_world import build_world
from vision.annotate import ALARM_BGR
from vision.classes import CLASSES
from vision.video.source import VideoFrame

CAMERA_MODEL = resource_path("models", "camera.onnx")
SAVE_TO = os.environ.get("HULLWATCH_SAVE_GRABS")  # a folder: keep the grabs to look at
T0_S = 1000.0


def _frame(image: np.ndarray, t_s: float, index: int = 0) -> VideoFrame:
    img = np.array(image, copy=True)
    img.setflags(write=False)
    return VideoFrame(index, t_s, t_s, img)


@pytest.fixture(scope="module")
def camera_result():
    """(frame, DetectionResult) with a tracked parasitic_container: a torpedo container seen
    from 1.6 m over four frames (fresh sensor noise each), through the live pipeline's steps."""
    from sim.camera_render import CameraConfig
    from sim.world import SensorPose
    from vision.detect import OnnxDetector
    from vision.detect.pipeline import DetectionPipeline, FrameIn

    ship = build_world()
    pipeline = DetectionPipeline(OnnxDetector(CAMERA_MODEL, expected_classes=CLASSES), source="camera")
    rng = np.random.default_rng(0)
    for obj in ship.scenario.objects:
        if obj.class_name != "parasitic_container" or obj.kind == "sea_chest_package":
            continue
        pos = np.asarray(obj.center_h) + np.asarray(obj.normal_h) * 1.6
        f = np.asarray(obj.center_h) - pos
        f /= np.linalg.norm(f)
        up = np.array([0.0, 0.0, 1.0]) if abs(f[2]) < 0.95 else np.array([1.0, 0.0, 0.0])
        for k in range(4):
            image = ship.world.render_camera(SensorPose(pos, f, up), CameraConfig(light_power=15.0), rng).image
            result = pipeline.process(FrameIn(image, T0_S + 0.1 * k, k))
        det = result.detections
        if np.any((det.class_id == 0) & (det.tracker_id > 0)):
            return _frame(image, T0_S + 0.3, 3), result
    pytest.fail("the shipped camera model confirmed no container track on the embedded world's containers")


def _view(qtbot, **kw) -> QtVideoView:
    view = QtVideoView(**kw)
    qtbot.addWidget(view)
    view.resize(960, 600)  # wider than the 4:3 frames: letterboxed left and right
    view.show()
    qtbot.waitExposed(view)
    return view


def _grab(view, name: str = ""):
    view.repaint()
    img = view.grab().toImage()
    if SAVE_TO and name:
        img.save(f"{SAVE_TO}/{name}.png")
    return img


def _close(c: QColor, ref: QColor, tol: int) -> bool:
    return abs(c.red() - ref.red()) <= tol and abs(c.green() - ref.green()) <= tol and abs(c.blue() - ref.blue()) <= tol


def _alarm_index(result) -> int:
    det = result.detections
    return int(np.flatnonzero((det.class_id == 0) & (det.tracker_id > 0))[0])


def _edge_points(view, box):
    """Widget pixels on the middle of each edge of a frame-pixel box."""
    r = view.image_rect()
    s = r.width() / view._frame.width
    x0, y0, x1, y1 = (float(v) for v in box)
    X = lambda x: int(round(r.x() + x * s))  # noqa: E731
    Y = lambda y: int(round(r.y() + y * s))  # noqa: E731
    return [(X((x0 + x1) / 2), Y(y0)), (X((x0 + x1) / 2), Y(y1)), (X(x0), Y((y0 + y1) / 2)), (X(x1), Y((y0 + y1) / 2))]


def test_alarm_box_drawn_where_the_detection_maps_with_banner(qtbot, camera_result):
    frame, result = camera_result
    view = _view(qtbot)
    view.show_frame(frame)
    rect = view.image_rect()
    assert rect.height() == pytest.approx(600) and rect.width() == pytest.approx(800)  # 640x480 scaled, aspect kept
    assert rect.x() == pytest.approx(80)
    before = _grab(view)
    view.show_result(result)
    img = _grab(view, "video_alarm")
    i = _alarm_index(result)
    red = colour("alarm")
    for x, y in _edge_points(view, result.detections.xyxy[i]):
        assert _close(img.pixelColor(x, y), red, 10), f"no alarm-red box edge at ({x}, {y})"
        assert not _close(before.pixelColor(x, y), red, 40)
    assert view.alarm_in_view() == "parasitic_container"
    # the banner across the bottom of the picture, in the alarm's red (either flash phase)
    bx, by = int(rect.x() + 6), int(rect.bottom() - 6)
    c = img.pixelColor(bx, by)
    assert c.red() > 120 and c.green() < 40 and c.blue() < 40
    assert not _close(before.pixelColor(bx, by), c, 20)
    # letterbox bars stay black
    assert img.pixelColor(20, 300) == QColor(0, 0, 0)


def test_boxes_of_a_result_older_than_a_second_are_not_drawn(qtbot, camera_result):
    frame, result = camera_result
    view = _view(qtbot)
    later = _frame(frame.image, result.frame.t_s + 1.5, 9)
    view.show_frame(later)
    view.show_result(result)
    img = _grab(view)
    assert view.drawn_detections() is None and view.alarm_in_view() is None
    red = colour("alarm")
    assert not any(_close(img.pixelColor(x, y), red, 10) for x, y in _edge_points(view, result.detections.xyxy[0]))


def test_stalled_video_says_so(qtbot, camera_result):
    frame, _ = camera_result
    view = _view(qtbot, stale_after_s=0.3)
    view.show_frame(frame)
    fresh = _grab(view)
    assert view.status_text() == ""
    qtbot.waitUntil(lambda: view.status_text().startswith("video stalled"), timeout=3000)
    img = _grab(view, "video_stalled")
    stale = colour("stale")
    r = view.image_rect()
    band = [(x, y) for x in range(int(r.center().x()) - 120, int(r.center().x()) + 120)
            for y in range(int(r.center().y()) - 12, int(r.center().y()) + 12)]
    grey_now = sum(_close(img.pixelColor(x, y), stale, 6) for x, y in band)
    grey_before = sum(_close(fresh.pixelColor(x, y), stale, 6) for x, y in band)
    assert grey_now > 40 and grey_now > 5 * grey_before, (grey_now, grey_before)
    # the frozen picture is dimmed
    corner = (int(r.x() + 30), int(r.bottom() - 30))
    assert img.pixelColor(*corner).value() < fresh.pixelColor(*corner).value()
    view.show_frame(_frame(frame.image, frame.t_capture_s + 1.0, frame.index + 1))
    assert view.status_text() == ""


def test_no_signal_message_replaces_the_picture(qtbot, camera_result):
    frame, _ = camera_result
    view = _view(qtbot)
    view.show_frame(frame)
    text = "no video — waiting for the camera stream on udp 5600"
    view.set_no_signal(text)
    img = _grab(view)
    assert view.status_text() == text and view.snapshot() is None
    pixels = [img.pixelColor(x, y) for x in range(0, img.width(), 3) for y in range(0, img.height(), 3)]
    assert sum(_close(c, colour("stale"), 6) for c in pixels) > 10  # the grey message
    # no picture: only black and the grey text's shades (the frame is blue-green water)
    assert all(max(c.red(), c.green(), c.blue()) - min(c.red(), c.green(), c.blue()) <= 2 for c in pixels)


def test_burn_overlay_changes_only_its_band(camera_result):
    frame, _ = camera_result
    lines = ["depth 2.0 m  hdg 093  standoff 1.4 m", "2026-11-29 05:40:12 UTC"]
    for corner in ("top-left", "bottom-right"):
        out = burn_overlay(frame.image, lines, corner=corner)
        x0, y0, x1, y1 = overlay_band_rect(frame.image.shape, lines, corner=corner)
        assert 0 < x1 - x0 < frame.width and 0 < y1 - y0 < frame.height / 3
        changed = np.any(out != frame.image, axis=2)
        inside = np.zeros_like(changed)
        inside[y0:y1, x0:x1] = True
        assert not changed[~inside].any(), f"{corner}: pixels changed outside the band"
        band, orig = out[y0:y1, x0:x1].astype(int), frame.image[y0:y1, x0:x1].astype(int)
        assert (band.min(axis=2) >= 240).sum() > 100  # white text
        assert np.median(band) < np.median(orig)  # darkened behind it
        assert frame.image.flags.writeable is False  # drawn on a copy


def test_snapshot_burns_boxes_addresses_and_overlay(qtbot, camera_result):
    frame, result = camera_result
    view = _view(qtbot)
    view.show_frame(frame)
    view.show_result(result)
    view.set_overlay(["depth 2.0 m  hdg 093  standoff 1.4 m"])
    i = _alarm_index(result)
    tid = int(result.detections.tracker_id[i])
    view.set_addresses({tid: "starboard, 61.2 m from stern, 3.1 m deep"})
    shot = view.snapshot()
    assert shot.shape == frame.image.shape
    x0, y0, x1, y1 = (int(round(v)) for v in result.detections.xyxy[i])
    assert tuple(shot[y1, (x0 + x1) // 2]) == ALARM_BGR
    boxes_only = draw_detections(frame.image, result.detections, CLASSES)
    with_address = draw_detections(frame.image, result.detections, CLASSES,
                                   addresses={tid: "starboard, 61.2 m from stern, 3.1 m deep"})
    below = np.any(with_address != boxes_only, axis=2)
    ys, _ = np.nonzero(below)
    assert len(ys) > 50 and ys.min() > y1  # the address sits under the box
    bx0, by0, bx1, by1 = overlay_band_rect(shot.shape, ["depth 2.0 m  hdg 093  standoff 1.4 m"])
    assert np.median(shot[by0:by1, bx0:bx1]) < np.median(with_address[by0:by1, bx0:bx1])
    view.set_overlay_visible(False)
    assert np.array_equal(view.snapshot(), with_address)


def test_recording_dot_and_stats_in_the_corner(qtbot, camera_result):
    frame, _ = camera_result
    view = _view(qtbot)
    view.show_frame(frame)
    plain = _grab(view)
    view.set_stats(29.8, 12, 9.6)
    view.set_recording(True)
    img = _grab(view, "video_rec")
    w = img.width()
    region = [(x, y) for x in range(w - 260, w) for y in range(0, 70)]
    red = colour("alarm")
    assert sum(_close(img.pixelColor(x, y), red, 10) for x, y in region) > 30  # the REC dot and text
    assert sum(img.pixelColor(x, y) != plain.pixelColor(x, y) for x, y in region) > 200  # the stats text
