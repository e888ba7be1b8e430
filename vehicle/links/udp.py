"""UDP links: listen for a vehicle (BlueOS default) or send to one."""
from __future__ import annotations

import errno
import socket

from ..errors import LinkError
from .base import Link

_MAX_DATAGRAM = 65535
# ICMP errors from a peer that is not (yet) listening surface on the next recv on Linux;
# they mean "nobody there right now", not a broken link
_TRANSIENT = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH)


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class _UdpLink(Link):
    def __init__(self, description: str):
        super().__init__(description)
        self._sock: socket.socket | None = None
        self._peer: tuple | None = None

    def read(self, timeout_s: float) -> bytes:
        sock = self._sock
        if sock is None:
            raise LinkError("UDP link is closed")
        try:
            sock.settimeout(timeout_s)  # inside the try: close() on another thread may race us
            data, addr = sock.recvfrom(_MAX_DATAGRAM)
        except socket.timeout:
            return b""
        except OSError as exc:
            if self._sock is None:
                raise LinkError("UDP link is closed") from None
            if exc.errno in _TRANSIENT:
                return b""
            raise LinkError(f"UDP receive failed: {exc.strerror or exc}") from None
        self._received_from(addr)
        self.bytes_received += len(data)
        return data

    def _received_from(self, addr: tuple) -> None:
        pass

    def _write(self, data: bytes) -> None:
        sock, peer = self._sock, self._peer
        if sock is None or peer is None:
            self.writes_dropped += 1  # nobody to send to yet
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


class UdpInLink(_UdpLink):
    """Binds HOST:PORT and answers whoever sent the last datagram (as QGC does)."""

    def __init__(self, host: str, port: int):
        super().__init__(f"udpin:{host}:{port}")
        self.host, self.port = host, port

    @property
    def peer(self) -> tuple | None:
        return self._peer

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

    def _received_from(self, addr: tuple) -> None:
        self._peer = addr


class UdpOutLink(_UdpLink):
    """Sends to a vehicle's HOST:PORT from an ephemeral local port."""

    def __init__(self, host: str, port: int):
        super().__init__(f"udpout:{host}:{port}")
        self.host, self.port = host, port

    def open(self) -> None:
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise LinkError(f"cannot resolve {self.host!r}: {exc.strerror}") from None
        family, _, _, _, addr = infos[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))  # recv works before the first send
        self._peer = addr
        self._sock = sock
