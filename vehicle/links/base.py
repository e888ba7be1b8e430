"""A link carries bytes only; framing and messages belong to the protocol (QGC's layering)."""
from __future__ import annotations

import abc
import threading
import time


class LinkClosed(Exception):
    """The transport ended for good (peer closed, replay finished, device gone)."""


class Link(abc.ABC):
    """One transport. `read` runs on the link's reader thread only; `write` is thread-safe."""

    #: links that replay a recording: writes go nowhere and time comes from the file
    is_replay = False

    def __init__(self, description: str):
        self.description = description
        self._write_lock = threading.Lock()
        self.bytes_sent = 0
        self.bytes_received = 0
        self.writes_dropped = 0

    @abc.abstractmethod
    def open(self) -> None:
        """Acquire the transport; raises LinkError with the OS reason."""

    @abc.abstractmethod
    def read(self, timeout_s: float) -> bytes:
        """Bytes received within timeout_s (b'' when none); raises LinkClosed or LinkError."""

    @abc.abstractmethod
    def _write(self, data: bytes) -> None:
        """Send bytes; called under the write lock."""

    def write(self, data: bytes) -> None:
        with self._write_lock:
            self._write(data)

    @abc.abstractmethod
    def close(self) -> None:
        """Release the transport; idempotent, safe from any thread."""

    def now_s(self) -> float:
        """The link's clock: monotonic wall time, or the recording's time for a replay."""
        return time.monotonic()

    def reopen_possible(self) -> bool:
        """Whether the reader should try open() again after the link is lost."""
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"
