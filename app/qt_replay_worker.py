"""The replay's decoder: one plain thread that turns "show time t" into the video frame, the
sonar fan, the recorded detections and the telemetry overlay of t, posted back through a
queued signal.

Only the newest request is kept: while the thread decodes, newer requests replace the
waiting one, so at 16x (or while a reviewer drags the timeline) frames are skipped and the
screen shows the newest picture, never a backlog. The readers (one decoder each) are
opened on this thread and never leave it.
"""
from __future__ import annotations

import dataclasses
import threading

import numpy as np
from PySide6.QtCore import QObject, Signal

from vision.classes import CLASSES

WAIT_S = 0.5  # the thread looks at its stop flag at least this often
STOP_TIMEOUT_S = 5.0
FAN_SIZE = (640, 360)  # the live sonar detector's input size: recorded sonar boxes are in these pixels


@dataclasses.dataclass(frozen=True)
class ReplayFrame:
    """What the screen shows at t_s (UTC). video: a VideoFrame whose index is the record's
    frame number and t_capture_s its UTC time; *_result: DetectionResults of the recorded
    boxes (None: none recorded near t_s)."""

    t_s: float
    video: object | None = None
    video_result: object | None = None
    fan: object | None = None
    sonar_result: object | None = None
    ping: int = -1
    overlay: tuple[str, ...] = ()


def _rows(recorded) -> list[dict]:
    """One dict per box, from a recorded detections list (per box, or whole events)."""
    rows = []
    for d in recorded or ():
        xyxy = d.get("xyxy") or []
        if xyxy and isinstance(xyxy[0], (list, tuple)):
            for i, box in enumerate(xyxy):
                def at(key, i=i):
                    v = d.get(key)
                    return v[i] if isinstance(v, (list, tuple)) else v
                rows.append({"xyxy": box, "confidence": at("confidence"), "class_name": at("class_name"),
                             "track_id": at("track_id"), "frame_index": d.get("frame_index")})
        elif len(xyxy) == 4:
            rows.append(d)
    return rows


def detection_result(recorded, image: np.ndarray, t_s: float, index: int, meta=None):
    """A DetectionResult drawing the recorded boxes over `image` (None without any)."""
    from vision.detect.pipeline import DetectionResult, FrameIn
    from vision.detections import Detections

    rows = [r for r in _rows(recorded) if r.get("class_name") in CLASSES]
    if not rows:
        return None
    tids = [r.get("track_id") for r in rows]
    det = Detections(np.array([r["xyxy"] for r in rows], np.float32),
                     np.array([float(r.get("confidence") or 0.0) for r in rows], np.float32),
                     np.array([CLASSES.index(r["class_name"]) for r in rows], np.int32),
                     None if all(t is None for t in tids) else np.array([-1 if t is None else t for t in tids]))
    return DetectionResult(FrameIn(image, t_s, index, meta), det, (), {}, 0.0)


class ReplayWorker(QObject):
    """decoded(ReplayFrame) for the newest request(t_s); failed(str) once per kind of error."""

    decoded = Signal(object)
    failed = Signal(str)

    def __init__(self, session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._cond = threading.Condition()
        self._pending: float | None = None
        self._stop = False
        self._thread: threading.Thread | None = None
        self.decodes = 0  # video frames decoded (tests: skipping shows as fewer decodes than frames)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="replay decode", daemon=True)
            self._thread.start()

    def request(self, t_s: float) -> None:
        with self._cond:
            self._pending = float(t_s)
            self._cond.notify()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Stop the thread; False if it is still busy after timeout_s (it ends on its own)."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        t, self._thread = self._thread, None
        if t is not None:
            t.join(timeout_s)
            return not t.is_alive()
        return True

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        video = sonar = None
        try:
            video = self.session.open_video_reader() if self.session.has_video else None
        except Exception as exc:  # noqa: BLE001 - told to the reviewer; telemetry still replays
            self._fail(f"the video cannot be read: {exc}")
        try:
            sonar = self.session.open_sonar_reader() if self.session.has_sonar else None
        except Exception as exc:  # noqa: BLE001
            self._fail(f"the sonar cannot be read: {exc}")
        cache = {"frame": (None, None), "ping": (None, None)}
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or self._pending is not None, timeout=WAIT_S)
                if self._stop:
                    return
                t, self._pending = self._pending, None
            if t is None:
                continue
            try:
                out = self._frame_at(t, video, sonar, cache)
            except Exception as exc:  # noqa: BLE001 - a damaged frame must not end the replay
                self._fail(f"replay at {t:.2f}: {exc}")
                continue
            try:
                self.decoded.emit(out)
            except RuntimeError:
                return  # the window was deleted meanwhile

    def _fail(self, message: str) -> None:
        try:
            self.failed.emit(message)
        except RuntimeError:
            pass

    def _frame_at(self, t: float, video, sonar, cache: dict) -> ReplayFrame:
        from vision.video.source import VideoFrame

        s = self.session
        frame = result = fan = sonar_result = None
        i = s.video_frame_at(t) if video is not None else -1
        if i >= 0:
            if cache["frame"][0] != i:
                image = video.decode(i)
                image.setflags(write=False)
                self.decodes += 1
                cache["frame"] = (i, VideoFrame(i, s.frame_t_s(i), 0.0, image))
            frame = cache["frame"][1]
            result = detection_result(s.detections_at("camera", t), frame.image, frame.t_capture_s, i)
        k = s.sonar_ping_at(t) if sonar is not None else -1
        if k >= 0:
            if cache["ping"][0] != k:
                from vision.sonar.fan import fan_image

                cache["ping"] = (k, fan_image(sonar.ping(k), width_px=FAN_SIZE[0], height_px=FAN_SIZE[1]))
            fan = cache["ping"][1]
            sonar_result = detection_result(s.detections_at("sonar", t), fan.image, t, k, meta=fan)
        return ReplayFrame(t, frame, result, fan, sonar_result, k, tuple(s.overlay_lines(t)))
