"""The vehicle's camera as a BlueOS vehicle sends it: rendered from the vehicle's true pose
and streamed as H.264 over RTP/UDP (default 127.0.0.1:5600).

One thread samples the truth, renders and sends; nothing is queued. Each frame's RTP
timestamp is the moment its pose was sampled (the capture time), so the station can match
it with telemetry. When rendering is slower than the frame rate, frames are skipped
(counted) and the next starts at once, rather than building up a backlog.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import numpy as np

LOG = logging.getLogger(__name__)
JOIN_TIMEOUT_S = 3.0


class CameraStream:
    """capture() -> (BGR image, capture time on time.monotonic()) is called at `fps`."""

    def __init__(self, capture: Callable[[], tuple[np.ndarray, float]], host: str = "127.0.0.1",
                 port: int = 5600, fps: float = 10.0, width: int = 640, height: int = 480,
                 gop: int | None = None) -> None:
        from sim.video_stream import RtpH264Sender

        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.capture = capture
        self.fps = float(fps)
        # an IDR every second: a station that joins late waits at most that long
        self.sender = RtpH264Sender(host, port, width=width, height=height, fps=fps,
                                    gop=gop or max(1, int(round(fps))))
        self.address = (host, port)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_sent = 0
        self.frames_skipped = 0
        self.render_s_last = 0.0
        self.last_error = ""
        self.last_send_t_s: float | None = None  # monotonic time the last frame left (for benchmarks)

    def start(self) -> "CameraStream":
        self._thread = threading.Thread(target=self._run, name="camera-stream", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = JOIN_TIMEOUT_S) -> bool:
        self._stop.set()
        joined = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            joined = not self._thread.is_alive()
        if joined:
            self.sender.close()
        return joined

    def _run(self) -> None:
        period = 1.0 / self.fps
        next_t = time.monotonic()
        while not self._stop.is_set():
            delay = next_t - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            t0 = time.monotonic()
            try:
                image, t_capture = self.capture()
                self.render_s_last = time.monotonic() - t0
                self.sender.send(image, t_s=t_capture)
                self.last_send_t_s = time.monotonic()
                self.frames_sent += 1
            except Exception as exc:  # noqa: BLE001 - keep streaming; the next frame may work
                self.last_error = f"{type(exc).__name__}: {exc}"
                LOG.exception("camera stream: frame failed")
                if self._stop.wait(period):
                    return
            next_t += period
            behind = time.monotonic() - next_t
            if behind > 0:  # rendering overran: drop the ticks it covered, start the next frame at once
                missed = int(behind // period)
                self.frames_skipped += missed
                next_t += missed * period
