"""One link, its protocol and its reader thread; the tlog sees every packet both ways."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from .errors import LinkError
from .links import Link, LinkClosed
from .links.udp import UdpInLink, UdpOutLink
from .protocol import LinkStats, MavlinkProtocol

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.1
REOPEN_INTERVAL_S = 1.0


class Connection:
    """Owns a link: opens it, reads it on one thread, reopens TCP/serial after a drop.

    `on_message(msg, t_s)` and `on_problem(text)` / `on_closed(text)` run on the reader thread.
    """

    def __init__(self, link: Link, protocol: MavlinkProtocol | None = None, tlog=None):
        self.link = link
        self.protocol = protocol or MavlinkProtocol()
        self.tlog = tlog
        self._datagram = isinstance(link, (UdpInLink, UdpOutLink))
        self.on_message: Callable[[object, float], None] = lambda msg, t: None
        self.on_problem: Callable[[str], None] = lambda text: None
        self.on_restored: Callable[[], None] = lambda: None
        self.on_closed: Callable[[str], None] = lambda text: None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed_reason: str | None = None

    def open(self) -> None:
        """Open the transport now, so a bad port or device fails here with a clear message."""
        self.link.open()
        self._thread = threading.Thread(target=self._run, name=f"link {self.link.description}", daemon=True)
        self._thread.start()

    def now_s(self) -> float:
        return self.link.now_s()

    def send(self, msg) -> None:
        data = self.protocol.pack(msg)
        if not self.link.is_replay:
            self.link.write(data)
            if self.tlog is not None:
                self.tlog.write(data)

    def stats(self) -> LinkStats:
        return self.protocol.stats()

    def _run(self) -> None:
        link, protocol, stop = self.link, self.protocol, self._stop
        while not stop.is_set():
            try:
                data = link.read(READ_TIMEOUT_S)
            except LinkClosed as exc:
                if stop.is_set():
                    break
                if not link.reopen_possible():
                    self.closed_reason = str(exc)
                    self.on_closed(str(exc))
                    return
                self.on_problem(str(exc))
                if not self._reopen():
                    break
                continue
            except (LinkError, OSError) as exc:
                if stop.is_set():
                    break
                self.on_problem(str(exc))
                stop.wait(REOPEN_INTERVAL_S)
                continue
            if not data:
                continue
            t_s = link.now_s()
            tlog = self.tlog if not link.is_replay else None
            for msg in protocol.parse(data, datagram=self._datagram):
                if tlog is not None:
                    # one record per packet: a tlog record is a timestamp and ONE packet
                    tlog.write(bytes(msg.get_msgbuf()))
                try:
                    self.on_message(msg, t_s)
                except Exception:  # noqa: BLE001 - a handler bug must not kill the link
                    log.exception("message handler failed on %s", msg.get_type())

    def _reopen(self) -> bool:
        last_error = ""
        while not self._stop.wait(REOPEN_INTERVAL_S):
            try:
                self.link.open()
            except LinkError as exc:
                if str(exc) != last_error:
                    last_error = str(exc)
                    self.on_problem(last_error)
                continue
            self.on_restored()
            return True
        return False

    def close(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        self.link.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
