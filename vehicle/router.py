"""Hands incoming messages to whoever waits for them (commands, params, mission transfer).

The reader thread dispatches; waiters read their own bounded queue with a timeout, so no
wait can hang and nobody calls recv_match.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from typing import Callable, Iterable, Iterator


class MessageQueue:
    def __init__(self, types: frozenset[str], predicate: Callable | None, maxsize: int):
        self.types = types
        self.predicate = predicate
        self._queue: queue.Queue = queue.Queue(maxsize)
        self.overflowed = 0

    def offer(self, msg) -> None:
        if self.predicate is not None and not self.predicate(msg):
            return
        try:
            self._queue.put_nowait(msg)
        except queue.Full:
            self.overflowed += 1

    def get(self, timeout_s: float):
        """Next matching message, or None after timeout_s."""
        try:
            return self._queue.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            return None

    def get_nowait(self):
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None


class MessageRouter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_type: dict[str, tuple[MessageQueue, ...]] = {}

    def dispatch(self, msg) -> None:
        waiters = self._by_type.get(msg._type)
        if waiters:
            for w in waiters:
                w.offer(msg)

    @contextlib.contextmanager
    def waiter(self, types: Iterable[str], predicate: Callable | None = None,
               maxsize: int = 10000) -> Iterator[MessageQueue]:
        w = MessageQueue(frozenset(types), predicate, maxsize)
        with self._lock:
            for t in w.types:
                self._by_type[t] = self._by_type.get(t, ()) + (w,)
        try:
            yield w
        finally:
            with self._lock:
                for t in w.types:
                    rest = tuple(x for x in self._by_type.get(t, ()) if x is not w)
                    if rest:
                        self._by_type[t] = rest
                    else:
                        self._by_type.pop(t, None)
