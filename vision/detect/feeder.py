"""Threads that pull frames from a live source (the RTP video source, the Oculus client)
and push them into a detection pipeline's latest-frame slot. The source keeps its own
latest-frame policy, the pipeline its own: nothing queues anywhere in between."""
from __future__ import annotations

import logging
import threading
import time

from .pipeline import FrameIn

log = logging.getLogger(__name__)


class SourceFeeder:
    """`read(timeout_s)` returns the next frame or raises TimeoutError; `convert(item)`
    gives the FrameIn. Timeouts are normal (a quiet link) and only counted."""

    def __init__(self, read, convert, pipeline, *, name: str = "feeder", poll_s: float = 0.5):
        self._read, self._convert, self._pipeline = read, convert, pipeline
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.fed = 0
        self.timeouts = 0
        self.last_error = ""

    def start(self) -> "SourceFeeder":
        self._thread.start()
        return self

    def close(self, timeout_s: float = 3.0) -> bool:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._read(self._poll_s)
            except TimeoutError:
                self.timeouts += 1
                continue
            except (RuntimeError, EOFError) as exc:  # source closed or ended
                self.last_error = str(exc)
                return
            try:
                self._pipeline.submit(self._convert(item))
                self.fed += 1
            except Exception as exc:  # one bad frame must not stop the feed
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("feeder: dropped a frame it could not convert: %s", self.last_error)


def video_frame_in(frame) -> FrameIn:
    """vision.video.VideoFrame -> FrameIn."""
    return FrameIn(frame.image, frame.t_capture_s, frame.index)


def sonar_frame_in(fan_size=(640, 360)):
    """A converter from vision.sonar.SonarPing to FrameIn holding the fan image (and the
    FanImage as meta, for range and bearing)."""
    from ..sonar.fan import fan_image

    count = [0]

    def convert(ping) -> FrameIn:
        fan = fan_image(ping, width_px=fan_size[0], height_px=fan_size[1])
        count[0] += 1
        # a ping without a receive time (a file) is timed now, not at 0: latency and alarm times stay sane
        t = ping.t_s if ping.t_s is not None else time.monotonic()
        return FrameIn(fan.image, t, count[0] - 1, meta=fan)

    return convert
