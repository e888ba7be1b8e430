"""The station's sensor readers for the headless station: the camera's RTP stream and
the Oculus multibeam, summarised once a second beside the telemetry line."""
from __future__ import annotations

import time


class SensorMonitor:
    def __init__(self, video_url: str | None = None, oculus: tuple[str, int] | None = None,
                 oculus_range_m: float = 20.0):
        from vision.sonar.oculus_client import OculusClient
        from vision.video.source import VideoSource

        self.video = VideoSource(video_url).start() if video_url else None
        self.oculus = OculusClient(oculus[0], oculus[1], range_m=oculus_range_m).start() if oculus else None
        self._last = (time.monotonic(), 0, 0)

    @property
    def video_port(self) -> int | None:
        return self.video.local_port if self.video is not None else None

    def status(self) -> str:
        """'video 9.8 fps 640x480 | sonar 4.9 pings/s echo 5.1 m': rates since the last call."""
        now = time.monotonic()
        frames = self.video.stats().frames_decoded if self.video else 0
        pings = self.oculus.stats().pings_received if self.oculus else 0
        t0, f0, p0 = self._last
        dt = max(now - t0, 1e-3)
        self._last = (now, frames, pings)
        parts = []
        if self.video is not None:
            latest = self.video.latest()
            size = f" {latest.width}x{latest.height}" if latest is not None else " (waiting for the first frame)"
            parts.append(f"video {(frames - f0) / dt:.1f} fps{size}")
        if self.oculus is not None:
            ping = self.oculus.latest()
            echo = ""
            if ping is not None:
                # strongest return along the centre beam: the standoff the sonar sees
                mid = ping.intensities.shape[1] // 2
                centre = ping.intensities[:, max(0, mid - 4):mid + 5].mean(axis=1)
                if centre.max() > 0:
                    echo = f" echo {int(centre.argmax()) * ping.range_resolution_m:.1f} m"
            parts.append(f"sonar {(pings - p0) / dt:.1f} pings/s{echo}" if ping is not None
                         else f"sonar {self.oculus.stats().status or 'connecting'}")
        return " | ".join(parts)

    def close(self) -> None:
        for part in (self.video, self.oculus):
            if part is not None:
                part.close()
