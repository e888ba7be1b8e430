"""UDP links: listen for a vehicle (BlueOS default) or send to one."""
from __future__ import annotations

import errno
import socket

from ..errors import LinkError
from .base import Link

_MAX_DATAGRAM = 65535


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class UdpInLink(Link):
    """Binds HOST:PORT and answers whoever sent the last datagram (as QGC does)."""

    def __init__(self, host: str, port: int):
        super().__init__(f"udpin:{host}:{port}")
        self.host, self.port = host, port
        self.peer: tuple | None = None
        self._sock: socket.socket | None = None

    def open(self) -> None:
        sock = socket.socket(_family(self.host), socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise LinkError(f"UDP port {self.port} on {self.host} is already in use: close the "
                                f"other ground station (QGC, MAVProxy) or use another port") from None
            raise LinkError(f"cannot listen on UDP {self.host}:{self.port}: {exc.strerror or exc}") from None
        self.port = sock.getsockname()[1]
        self.description = f"udpin:{self.host}:{self.port}"
        self._sock = sock

    @property
    def bound_address(self) -> tuple[str, int]:
        return self.host, self.port

    def read(self, timeout_s: float) -> bytes:
        sock = self._sock
        if sock is None:
            raise LinkError("UDP link is closed")
        sock.settimeout(timeout_s)
        try:
            data, addr = sock.recvfrom(_MAX_DATAGRAM)
        except socket.timeout:
            return b""
        except OSError as exc:
            if self._sock is None:
                raise LinkError("UDP link is closed") from None
            # ICMP port-unreachable from a vanished peer surfaces here on Linux; not fatal
            if exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
                return b""
            raise LinkError(f"UDP receive failed: {exc.strerror or exc}") from None
        self.peer = addr
        self.bytes_received += len(data)
        return data

    def _write(self, data: bytes) -> None:
        sock, peer = self._sock, self.peer
        if sock is None or peer is None:
            self.writes_dropped += 1  # nobody to answer yet: the vehicle has not spoken
            return
        try:
            sock.sendto(data, peer)
            self.bytes_sent += len(data)
        except OSError:
            self.writes_dropped += 1

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


class UdpOutLink(Link):
    """Sends to a vehicle's HOST:PORT from an ephemeral local port."""

    def __init__(self, host: str, port: int):
        super().__init__(f"udpout:{host}:{port}")
        self.host, self.port = host, port
        self._sock: socket.socket | None = None

    def open(self) -> None:
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise LinkError(f"cannot resolve {self.host!r}: {exc.strerror}") from None
        family, _, _, _, addr = infos[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
        self._addr = addr
        self._sock = sock

    def read(self, timeout_s: float) -> bytes:
        sock = self._sock
        if sock is None:
            raise LinkError("UDP link is closed")
        sock.settimeout(timeout_s)
        try:
            data, _ = sock.recvfrom(_MAX_DATAGRAM)
        except socket.timeout:
            return b""
        except OSError as exc:
            if self._sock is None:
                raise LinkError("UDP link is closed") from None
            if exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EINVAL):
                # nothing listens there yet (or we have not sent): wait like a timeout
                import time
                time.sleep(min(timeout_s, 0.05))
                return b""
            raise LinkError(f"UDP receive failed: {exc.strerror or exc}") from None
        self.bytes_received += len(data)
        return data

    def _write(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            self.writes_dropped += 1
            return
        try:
            sock.sendto(data, self._addr)
            self.bytes_sent += len(data)
        except OSError:
            self.writes_dropped += 1

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
