"""Events the vehicle layer announces, and the hub that delivers them.

Callbacks run on the thread that raised the event (usually the link thread): keep them
short, or hand over to your own thread (the Qt bridge re-emits them as signals).
"""
from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from typing import Callable

from .state import StatusText

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class VehicleDiscovered:
    system_id: int
    component_id: int
    vehicle_type: str
    autopilot: str


@dataclasses.dataclass(frozen=True)
class LinkLost:
    reason: str


@dataclasses.dataclass(frozen=True)
class LinkRestored:
    after_s: float


@dataclasses.dataclass(frozen=True)
class LinkProblem:
    """A transport error the station is recovering from (device gone, port closed)."""

    message: str


@dataclasses.dataclass(frozen=True)
class ArmedChanged:
    armed: bool


@dataclasses.dataclass(frozen=True)
class ModeChanged:
    mode: str
    custom_mode: int | None


@dataclasses.dataclass(frozen=True)
class StatusTextReceived:
    status: StatusText


@dataclasses.dataclass(frozen=True)
class FailsafeRaised:
    kind: str  # "leak", "gcs", "pilot_input", "battery", "ekf"
    text: str


@dataclasses.dataclass(frozen=True)
class ManualControlChanged:
    """Manual control started, stopped by the deadman, or resumed."""

    active: bool
    reason: str


@dataclasses.dataclass(frozen=True)
class TransferProgress:
    operation: str  # "params", "mission upload", "mission download"
    done: int
    total: int


@dataclasses.dataclass(frozen=True)
class TlogFailed:
    """The telemetry log stopped recording (disk full, device removed); the link goes on."""

    message: str


@dataclasses.dataclass(frozen=True)
class ReplayFinished:
    path: str


class EventHub:
    def __init__(self) -> None:
        self._callbacks: list[Callable[[object], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[object], None]) -> Callable[[], None]:
        """Register a callback for every event; returns the function that unsubscribes it."""
        with self._lock:
            self._callbacks = self._callbacks + [callback]

        def unsubscribe() -> None:
            with self._lock:
                self._callbacks = [c for c in self._callbacks if c is not callback]

        return unsubscribe

    def emit(self, event: object) -> None:
        for callback in self._callbacks:  # copy-on-write list: no lock needed to iterate
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - one bad listener must not kill the link thread
                log.exception("event listener failed on %r", event)

    def listen(self, maxsize: int = 1000) -> "EventQueue":
        return EventQueue(self, maxsize)


class EventQueue:
    """Events collected into a bounded queue (oldest dropped when full); a context manager."""

    def __init__(self, hub: EventHub, maxsize: int):
        self._queue: queue.Queue = queue.Queue(maxsize)
        self.dropped = 0
        self._unsubscribe = hub.subscribe(self._put)

    def _put(self, event: object) -> None:
        while True:
            try:
                self._queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout_s: float) -> object | None:
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def drain(self) -> list:
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self._unsubscribe()

    def __enter__(self) -> "EventQueue":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
