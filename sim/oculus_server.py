"""The simulated Oculus M-series multibeam on the network, as the station meets a real one.

A client connects to TCP port 52100 and sends a SimpleFire message (msgId 0x15: master
mode, ping rate, gain, range, ...). The sonar then pings at the requested rate and sends
one SimplePingResult (0x23, built by sim.oculus_encode) per ping, with the requested range
and gain, until the client changes the request, asks for standby or goes away. Once a
second it broadcasts an OculusStatusMsg on UDP 52102 (so viewers can find it).

Layouts (little-endian, packed) from Blueprint Subsea's Oculus.h as published in
liboculus (apl-ocean-engineering/liboculus, thirdparty/Oculus/Oculus.h, Constants.h):
  SimpleFire: header(16) masterMode u8, pingRate u8 (0 normal 10 Hz, 1 high 15 Hz,
    2 highest 40 Hz, 3 low 5 Hz, 4 lowest 2 Hz, 5 standby), networkSpeed u8, gamma u8,
    flags u8, range f64, gainPercent f64, speedOfSound f64, salinity f64 (37 bytes after
    the header; SimpleFire2 appends 36 more, which are ignored here).
  OculusStatusMsg (142 bytes): header, deviceId u32, deviceType u16 (1 = imaging sonar),
    partNumber u16, status u32 (bits 0-2: master status, 3 = main application running),
    six u32 of firmware versions and dates, ipAddr, ipMask, connectedIpAddr (u32, network
    byte order), 6 MAC bytes, 8 temperatures and the pressure (f64). Receivers check
    only its size and magic (Blueprint's own viewer and liboculus do), so its msgId is 0.
Modes: 1 = low frequency (1.2 MHz on an M1200d: 130 deg x 20 deg, up to 40 m), 2 = high
frequency (2.1 MHz: 60 deg x 12 deg, up to 10 m).

Only 8-bit images are sent (a request for 16-bit data is answered with 8-bit pings whose
dataSize field says so); the full PingResult (0x22) of Blueprint's own software is not
simulated.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import select
import socket
import struct
import threading
import time
from typing import Callable

from sim.oculus_encode import OCULUS_MAGIC, SOURCE_DEVICE_ID, encode_frame
from sim.sonar_render import MultibeamConfig

LOG = logging.getLogger(__name__)

OCULUS_TCP_PORT = 52100
OCULUS_STATUS_PORT = 52102
MSG_SIMPLE_FIRE = 0x15
_HEADER = struct.Struct("<HHHHHIH")
_FIRE = struct.Struct("<BBBBBdddd")
_STATUS_BODY = struct.Struct("<IHHI6I3I6B9d")
PING_RATE_HZ = {0: 10.0, 1: 15.0, 2: 40.0, 3: 5.0, 4: 2.0, 5: 0.0}
PING_RATE_STANDBY = 5
PART_NUMBER_M1200D = 1042
DEVICE_TYPE_IMAGING_SONAR = 1
MASTER_STATUS_MAIN_RUN = 3
FLAG_512_BEAMS = 0x40
MAX_FIRE_PAYLOAD = 1024  # a SimpleFire (2) is 37 (73) bytes: anything far larger is garbage
MAX_PENDING_BYTES = 64 * 1024
MAX_CLIENTS = 4
ACCEPT_TIMEOUT_S = 0.2
SEND_TIMEOUT_S = 2.0
JOIN_TIMEOUT_S = 3.0
STATUS_PERIOD_S = 1.0


@dataclasses.dataclass(frozen=True)
class FireRequest:
    master_mode: int = 2
    ping_rate: int = 0
    network_speed: int = 0xFF
    gamma: int = 127
    flags: int = 0x19
    range_m: float = 10.0
    gain_percent: float = 50.0
    speed_of_sound_m_s: float = 0.0
    salinity_ppt: float = 0.0


@dataclasses.dataclass(frozen=True)
class ModeSpec:
    frequency_hz: float
    swath_deg: float
    vertical_aperture_deg: float
    max_range_m: float


MODES = {1: ModeSpec(1.2e6, 130.0, 20.0, 40.0), 2: ModeSpec(2.1e6, 60.0, 12.0, 10.0)}


class FireFormatError(ValueError):
    pass


def decode_fire(message: bytes) -> FireRequest:
    """A whole SimpleFire message (header included) -> FireRequest; raises FireFormatError."""
    if len(message) < _HEADER.size + _FIRE.size:
        raise FireFormatError(f"SimpleFire too short: {len(message)} bytes, needs {_HEADER.size + _FIRE.size}")
    mode, rate, speed, gamma, flags, rng, gain, sos, sal = _FIRE.unpack_from(message, _HEADER.size)
    if mode not in MODES:
        raise FireFormatError(f"SimpleFire masterMode {mode} unknown (1 = low, 2 = high frequency)")
    if rate not in PING_RATE_HZ:
        raise FireFormatError(f"SimpleFire pingRate {rate} unknown (0..5)")
    if not (math.isfinite(rng) and rng > 0):
        raise FireFormatError(f"SimpleFire range {rng!r} is not a positive number")
    if not (math.isfinite(gain) and 0 <= gain <= 100):
        raise FireFormatError(f"SimpleFire gain {gain!r} % outside 0..100")
    return FireRequest(mode, rate, speed, gamma, flags, float(rng), float(gain), float(sos), float(sal))


class FireSplitter:
    """Finds SimpleFire messages in what a client sends; everything else is counted as
    garbage (a real sonar ignores what it does not understand)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.garbage_bytes = 0
        self.other_messages = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buf += chunk
        out = []
        buf = self._buf
        magic = struct.pack("<H", OCULUS_MAGIC)
        while True:
            i = buf.find(magic)
            if i < 0:
                keep = 1 if buf[-1:] == magic[:1] else 0
                self.garbage_bytes += len(buf) - keep
                del buf[:len(buf) - keep]
                break
            if i:
                self.garbage_bytes += i
                del buf[:i]
            if len(buf) < _HEADER.size:
                break
            _m, _s, _d, msg_id, _v, payload, _p = _HEADER.unpack_from(buf, 0)
            if payload > MAX_FIRE_PAYLOAD:
                self.garbage_bytes += 2
                del buf[:2]
                continue
            total = _HEADER.size + payload
            if len(buf) < total:
                break
            if msg_id == MSG_SIMPLE_FIRE:
                out.append(bytes(buf[:total]))
            else:
                self.other_messages += 1
            del buf[:total]
        if len(buf) > MAX_PENDING_BYTES:
            self.garbage_bytes += len(buf)
            buf.clear()
        return out


def encode_status(*, device_id: int, connected_ip: str | None, ip: str = "127.0.0.1",
                  mask: str = "255.0.0.0", temperature_c: float = 15.0, pressure_bar: float = 1.0) -> bytes:
    def ip_u32(text: str) -> int:
        return struct.unpack("<I", socket.inet_aton(text))[0]  # keeps the network byte order on the wire

    body = _STATUS_BODY.pack(device_id, DEVICE_TYPE_IMAGING_SONAR, PART_NUMBER_M1200D, MASTER_STATUS_MAIN_RUN,
                             0x01020000, 0, 0x01020000, 0, 0x00010000, 0,
                             ip_u32(ip), ip_u32(mask), ip_u32(connected_ip) if connected_ip else 0,
                             0x02, 0x00, 0x00, 0x00, 0x1E, 0xD4,  # a locally administered MAC
                             *([temperature_c] * 8), pressure_bar)
    header = _HEADER.pack(OCULUS_MAGIC, device_id & 0xFFFF, 0, 0, 0, len(body), PART_NUMBER_M1200D)
    return header + body


# renders one ping at the vehicle's pose now: (MultibeamConfig) -> sim.sonar_render.SonarFrame
PingRenderer = Callable[[MultibeamConfig], object]


def multibeam_config(fire: FireRequest, base: MultibeamConfig) -> MultibeamConfig:
    """What the simulated transducer does for a request: mode sets frequency and aperture,
    range is clamped to the mode's maximum, gain 50 % is the base config's gain."""
    spec = MODES[fire.master_mode]
    range_m = min(max(fire.range_m, 0.5), spec.max_range_m)
    beams = 512 if fire.flags & FLAG_512_BEAMS else 256
    return dataclasses.replace(base, beams=beams, swath_deg=spec.swath_deg,
                               vertical_aperture_deg=spec.vertical_aperture_deg,
                               max_range_m=range_m, min_range_m=min(base.min_range_m, range_m / 10),
                               gain=base.gain * fire.gain_percent / 50.0)


class OculusServer:
    """Serves pings rendered by `render(config) -> SonarFrame` to TCP clients."""

    def __init__(self, render: PingRenderer, host: str = "127.0.0.1", port: int = OCULUS_TCP_PORT,
                 max_ping_rate_hz: float = 5.0, base_config: MultibeamConfig | None = None,
                 status_target: tuple[str, int] | None = None, device_id: int = SOURCE_DEVICE_ID) -> None:
        self.render = render
        self.max_ping_rate_hz = float(max_ping_rate_hz)
        self.base_config = base_config or MultibeamConfig(range_bins=512)
        self.status_target = status_target
        self.device_id = device_id
        self._sock = socket.create_server((host, port))
        self._sock.settimeout(ACCEPT_TIMEOUT_S)
        self.host, self.port = self._sock.getsockname()[:2]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: dict[int, socket.socket] = {}
        self._lock = threading.Lock()
        self._next_ping_id = 0
        self.pings_sent = 0
        self.garbage_bytes = 0
        self.clients_served = 0
        self.last_error = ""

    def start(self) -> "OculusServer":
        self._spawn(self._accept_loop, "oculus-accept")
        if self.status_target is not None:
            self._spawn(self._status_loop, "oculus-status")
        return self

    def stop(self, timeout_s: float = JOIN_TIMEOUT_S) -> bool:
        """Closes the listening socket and every client; True if all threads ended."""
        self._stop.set()
        with self._lock:
            clients = list(self._clients.values())
        for c in clients:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout_s
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))
        self._sock.close()
        return not any(t.is_alive() for t in self._threads)

    @property
    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    def _spawn(self, target, name: str, *args) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            if self.client_count >= MAX_CLIENTS:
                LOG.warning("oculus sim: refusing %s:%s, already %d clients", peer[0], peer[1], MAX_CLIENTS)
                conn.close()
                continue
            conn.settimeout(SEND_TIMEOUT_S)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._clients[id(conn)] = conn
                self.clients_served += 1
            LOG.info("oculus sim: client %s:%s connected", peer[0], peer[1])
            self._spawn(self._serve, f"oculus-client-{peer[1]}", conn, peer)

    def _serve(self, conn: socket.socket, peer) -> None:
        who = f"{peer[0]}:{peer[1]}"
        splitter = FireSplitter()
        fire: FireRequest | None = None
        next_ping = time.monotonic()
        try:
            while not self._stop.is_set():
                rate = self._rate_hz(fire)
                wait = 0.2 if rate <= 0 else max(0.0, next_ping - time.monotonic())
                readable, _, _ = select.select([conn], [], [], min(wait, 0.2))
                if readable:
                    chunk = conn.recv(65536)
                    if not chunk:
                        LOG.info("oculus sim: client %s disconnected", who)
                        return
                    before = splitter.garbage_bytes
                    for message in splitter.feed(chunk):
                        try:
                            new = decode_fire(message)
                        except FireFormatError as exc:
                            self.last_error = f"{who}: {exc}"
                            LOG.warning("oculus sim: ignored a bad SimpleFire from %s: %s", who, exc)
                            continue
                        if fire is None or self._rate_hz(fire) <= 0:
                            next_ping = time.monotonic()  # start (or wake) at once
                        fire = new
                    if splitter.garbage_bytes > before:
                        self.garbage_bytes += splitter.garbage_bytes - before
                        self.last_error = f"{who}: {splitter.garbage_bytes - before} bytes that are not Oculus messages"
                        LOG.warning("oculus sim: ignored %d bytes from %s that are not Oculus messages",
                                    splitter.garbage_bytes - before, who)
                    continue
                rate = self._rate_hz(fire)
                if rate <= 0 or time.monotonic() < next_ping:
                    continue
                # never queue: a slow render pushes the next ping back instead of bunching them
                next_ping = max(next_ping + 1.0 / rate, time.monotonic())
                conn.sendall(self._ping(fire))
        except (ConnectionResetError, BrokenPipeError):
            LOG.info("oculus sim: client %s left", who)  # a station closing its socket: normal
        except (OSError, ValueError) as exc:
            if not self._stop.is_set():
                self.last_error = f"{who}: {exc}"
                LOG.warning("oculus sim: dropped client %s: %s", who, exc)
        except Exception as exc:  # noqa: BLE001 - one client's render fault must not kill the server
            self.last_error = f"{who}: {type(exc).__name__}: {exc}"
            LOG.exception("oculus sim: error serving %s", who)
        finally:
            with self._lock:
                self._clients.pop(id(conn), None)
            conn.close()

    def _rate_hz(self, fire: FireRequest | None) -> float:
        if fire is None:
            return 0.0  # a real Oculus stays silent until it is told how to fire
        return min(PING_RATE_HZ[fire.ping_rate], self.max_ping_rate_hz)

    def _ping(self, fire: FireRequest) -> bytes:
        cfg = multibeam_config(fire, self.base_config)
        frame = self.render(cfg)
        with self._lock:
            ping_id = self._next_ping_id
            self._next_ping_id += 1
        message = bytearray(encode_frame(frame, cfg, ping_id=ping_id))
        # the encoder writes a fixed fire echo; a real sonar echoes what it was asked for
        message[_HEADER.size:_HEADER.size + 4] = bytes([fire.master_mode, fire.ping_rate,
                                                        fire.network_speed & 0xFF, fire.gamma & 0xFF])
        struct.pack_into("<d", message, _HEADER.size + 5 + 8, fire.gain_percent)
        freq_offset = _HEADER.size + _FIRE.size + 8  # after pingId and status
        struct.pack_into("<d", message, freq_offset, MODES[fire.master_mode].frequency_hz)
        self.pings_sent += 1
        return bytes(message)

    def _status_loop(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            while not self._stop.wait(STATUS_PERIOD_S):
                with self._lock:
                    peers = [c.getpeername()[0] for c in self._clients.values() if _connected(c)]
                try:
                    sock.sendto(encode_status(device_id=self.device_id, connected_ip=peers[0] if peers else None),
                                self.status_target)
                except OSError as exc:  # nobody listening (ICMP refused) is normal for a broadcast
                    self.last_error = f"status broadcast: {exc}"
        finally:
            sock.close()


def _connected(conn: socket.socket) -> bool:
    try:
        conn.getpeername()
        return True
    except OSError:
        return False
