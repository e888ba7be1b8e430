"""A one-item slot between a fast producer and a slower consumer: the consumer always
gets the newest item and never a backlog, and every overwritten item is counted. This is
what keeps a detector on a live feed current instead of seconds behind."""
from __future__ import annotations

import threading


class SlotClosed(Exception):
    pass


class LatestSlot:
    def __init__(self):
        self._cond = threading.Condition()
        self._item = None
        self._seq = 0
        self._taken_seq = 0
        self._closed = False
        self.put_count = 0
        self.dropped = 0

    def put(self, item) -> None:
        with self._cond:
            if self._seq > self._taken_seq:
                self.dropped += 1  # the previous one was never taken
            self._item = item
            self._seq += 1
            self.put_count += 1
            self._cond.notify_all()

    def take(self, timeout_s: float):
        """The newest item not yet taken; None after `timeout_s` without one; SlotClosed once closed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or self._seq > self._taken_seq, timeout_s):
                return None
            if self._seq > self._taken_seq:
                self._taken_seq = self._seq
                item, self._item = self._item, None
                return item
            raise SlotClosed()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
