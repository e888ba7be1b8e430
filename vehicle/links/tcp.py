"""TCP client link (ArduPilot SITL serves MAVLink on 5760)."""
from __future__ import annotations

import socket

from ..errors import LinkError
from .base import Link, LinkClosed

CONNECT_TIMEOUT_S = 3.0


class TcpLink(Link):
    def __init__(self, host: str, port: int, connect_timeout_s: float = CONNECT_TIMEOUT_S):
        super().__init__(f"tcp:{host}:{port}")
        self.host, self.port = host, port
        self.connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None
        self._closed = False

    def open(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except socket.timeout:
            raise LinkError(f"TCP {self.host}:{self.port}: no answer within {self.connect_timeout_s:.0f} s; "
                            f"is the vehicle or simulator running and reachable?") from None
        except ConnectionRefusedError:
            raise LinkError(f"TCP {self.host}:{self.port}: connection refused; nothing listens there "
                            f"(start the simulator with `hullwatch sim` or check the port)") from None
        except OSError as exc:
            raise LinkError(f"TCP {self.host}:{self.port}: {exc.strerror or exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._closed = False

    def read(self, timeout_s: float) -> bytes:
        sock = self._sock
        if sock is None:
            raise LinkClosed(f"{self.description} is closed")
        try:
            sock.settimeout(timeout_s)  # inside the try: close() on another thread may race us
            data = sock.recv(65536)
        except socket.timeout:
            return b""
        except OSError as exc:
            self._drop()
            raise LinkClosed(f"{self.description}: {exc.strerror or exc}") from None
        if not data:
            self._drop()
            raise LinkClosed(f"{self.description}: the vehicle closed the connection")
        self.bytes_received += len(data)
        return data

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _write(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            self.writes_dropped += 1
            return
        try:
            sock.settimeout(1.0)  # a stuck peer must not hang the sender
            sock.sendall(data)
            self.bytes_sent += len(data)
        except OSError:
            self.writes_dropped += 1

    def close(self) -> None:
        self._closed = True
        self._drop()

    def reopen_possible(self) -> bool:
        return not self._closed
