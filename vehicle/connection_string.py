"""Connection URLs as users type them, parsed into link configurations.

Accepted forms (the first word names the transport):
  udpin:HOST:PORT      listen for a vehicle (BlueOS sends to 14550)   e.g. udpin:0.0.0.0:14550
  udp:HOST:PORT        same as udpin (MAVProxy/mavutil meaning)
  udpout:HOST:PORT     send to a vehicle that listens
  tcp:HOST:PORT        TCP client (ArduPilot SITL serves 5760)
  serial:DEVICE[:BAUD] serial port; a bare /dev/... or COMn path also works
  tlog:PATH[?speed=X]  replay a telemetry log (speed 1 = real time, 0 = as fast as possible)
  PATH.tlog            same as tlog:PATH
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import parse_qs

from .errors import ConnectionStringError

DEFAULT_SERIAL_BAUD = 115200
EXAMPLES = "udpin:0.0.0.0:14550, tcp:127.0.0.1:5760, serial:/dev/ttyACM0:115200, tlog:FILE.tlog"


@dataclasses.dataclass(frozen=True)
class LinkConfig:
    kind: str  # "udpin" | "udpout" | "tcp" | "serial" | "tlog"
    host: str = ""
    port: int = 0
    device: str = ""
    baud: int = DEFAULT_SERIAL_BAUD
    path: str = ""
    speed: float = 1.0  # tlog replay: 1 real time, 2 twice as fast, 0 as fast as possible

    @property
    def url(self) -> str:
        if self.kind in ("udpin", "udpout", "tcp"):
            return f"{self.kind}:{self.host}:{self.port}"
        if self.kind == "serial":
            return f"serial:{self.device}:{self.baud}"
        return f"tlog:{self.path}" + (f"?speed={self.speed:g}" if self.speed != 1.0 else "")


def _bad(url: str, why: str) -> ConnectionStringError:
    return ConnectionStringError(f"bad connection string {url!r}: {why}. Examples: {EXAMPLES}")


def _port(url: str, text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise _bad(url, f"port {text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise _bad(url, f"port {port} is outside 0..65535")
    return port


def _host_port(url: str, rest: str) -> tuple[str, int]:
    if rest.startswith("["):  # [::1]:14550
        host, sep, port = rest[1:].partition("]:")
        if not sep:
            raise _bad(url, "expected [IPv6]:PORT")
        return host, _port(url, port)
    host, sep, port = rest.rpartition(":")
    if not sep:
        raise _bad(url, "expected HOST:PORT")
    if not host:
        raise _bad(url, "the host is missing")
    return host, _port(url, port)


def parse_connection_string(url: str) -> LinkConfig:
    """Parse a connection URL; raises ConnectionStringError naming what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise _bad(str(url), "it is empty")
    text = url.strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if scheme in ("udpin", "udp"):
        host, port = _host_port(text, rest)
        return LinkConfig("udpin", host=host, port=port)
    if scheme in ("udpout", "udpbcast"):
        host, port = _host_port(text, rest)
        if port == 0:
            raise _bad(text, "udpout needs the vehicle's port, not 0")
        return LinkConfig("udpout", host=host, port=port)
    if scheme in ("tcp", "tcpout"):
        host, port = _host_port(text, rest)
        if port == 0:
            raise _bad(text, "tcp needs the vehicle's port, not 0")
        return LinkConfig("tcp", host=host, port=port)
    if scheme == "serial":
        return _serial(text, rest)
    if scheme == "tlog":
        return _tlog(text, rest)
    if text.startswith("/dev/") or text.upper().startswith("COM"):
        return _serial(text, text)
    if text.lower().split("?")[0].endswith(".tlog"):
        return _tlog(text, text)
    raise _bad(text, f"unknown transport {scheme!r}")


def _serial(url: str, rest: str) -> LinkConfig:
    device, baud = rest, DEFAULT_SERIAL_BAUD
    head, sep, tail = rest.rpartition(":")
    if sep and tail.isdigit():
        device, baud = head, int(tail)
    elif sep and tail and not tail.startswith("/"):
        raise _bad(url, f"baud rate {tail!r} is not a number")
    if not device:
        raise _bad(url, "the serial device is missing")
    if baud <= 0:
        raise _bad(url, "the baud rate must be positive")
    return LinkConfig("serial", device=device, baud=baud)


def _tlog(url: str, rest: str) -> LinkConfig:
    path, _, query = rest.partition("?")
    if not path:
        raise _bad(url, "the tlog path is missing")
    speed = 1.0
    if query:
        values = parse_qs(query)
        unknown = set(values) - {"speed"}
        if unknown:
            raise _bad(url, f"unknown option(s) {', '.join(sorted(unknown))}; only speed= is known")
        try:
            speed = float(values["speed"][-1])
        except (KeyError, ValueError):
            raise _bad(url, "speed must be a number (1 real time, 0 as fast as possible)") from None
        if speed < 0:
            raise _bad(url, "speed cannot be negative")
    return LinkConfig("tlog", path=str(Path(path).expanduser()), speed=speed)
