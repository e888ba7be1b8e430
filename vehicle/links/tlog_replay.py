"""Replays a telemetry log as if a vehicle were talking: a link like any other (QGC's LogReplayLink)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from ..errors import LinkError
from .base import Link, LinkClosed


class TlogReplayLink(Link):
    """Delivers each recorded packet at its recorded time divided by `speed` (0 = no waiting).

    `now_s()` is the log's own clock, so heartbeat age and rates mean what they meant
    when the log was recorded, whatever the replay speed.
    """

    is_replay = True

    def __init__(self, path: str | Path, speed: float = 1.0):
        super().__init__(f"tlog:{path}")
        self.path = Path(path)
        self.speed = float(speed)
        self._records = None
        self._stats = None
        self._log_t0_s: float | None = None
        self._wall_t0_s = 0.0
        self._log_now_s = 0.0
        self._paused = threading.Event()
        self._closed = threading.Event()
        self.finished = False

    def open(self) -> None:
        from ..tlog import TlogError, TlogReadStats, iter_tlog

        if not self.path.is_file():
            raise LinkError(f"telemetry log {self.path} does not exist")
        self._stats = TlogReadStats()
        try:
            self._records = iter_tlog(self.path, stats=self._stats)
            self._pending = next(self._records, None)
        except TlogError as exc:
            raise LinkError(str(exc)) from None
        if self._pending is None:
            raise LinkError(f"telemetry log {self.path} holds no MAVLink packets")
        self._log_t0_s = self._pending.t_unix_us / 1e6
        self._log_now_s = self._log_t0_s
        self._wall_t0_s = time.monotonic()

    @property
    def read_stats(self):
        return self._stats

    def now_s(self) -> float:
        return self._log_now_s

    def set_speed(self, speed: float) -> None:
        """Change speed without a jump: re-anchor the wall clock at the current log time."""
        self._wall_t0_s = time.monotonic()
        self._log_t0_s = self._log_now_s
        self.speed = max(0.0, float(speed))

    def read(self, timeout_s: float) -> bytes:
        from ..tlog import TlogError

        if self._closed.is_set():
            raise LinkClosed(f"{self.description} is closed")
        rec = self._pending
        if rec is None:
            self.finished = True
            raise LinkClosed(f"end of telemetry log {self.path.name}")
        if self.speed > 0:
            due_wall = self._wall_t0_s + (rec.t_unix_us / 1e6 - self._log_t0_s) / self.speed
            wait_s = due_wall - time.monotonic()
            if wait_s > 0:
                if self._closed.wait(min(wait_s, timeout_s)) or wait_s > timeout_s:
                    return b""
        # batch every packet already due so fast replays are not one packet per call
        out = bytearray()
        now_wall = time.monotonic()
        try:
            while rec is not None and len(out) < 65536:
                if self.speed > 0:
                    due_wall = self._wall_t0_s + (rec.t_unix_us / 1e6 - self._log_t0_s) / self.speed
                    if due_wall > now_wall:
                        break
                out += rec.packet
                self._log_now_s = rec.t_unix_us / 1e6
                rec = next(self._records, None)
        except TlogError as exc:
            raise LinkError(str(exc)) from None
        self._pending = rec
        self.bytes_received += len(out)
        return bytes(out)

    def _write(self, data: bytes) -> None:
        self.writes_dropped += 1  # a recording cannot be commanded

    def close(self) -> None:
        self._closed.set()
