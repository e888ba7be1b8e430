"""The station's Oculus multibeam source: TCP to the sonar (port 52100), one SimpleFire to
start it pinging, then a stream of SimplePingResult messages into a latest-ping slot.

    with OculusClient("192.168.2.3", range_m=10, gain_percent=50) as sonar:
        ping = sonar.read(timeout_s=2.0)      # SonarPing, t_s = time.monotonic() at arrival

A background thread owns the socket: it connects (with a timeout), sends the fire
message, splits the stream (OculusStreamSplitter) and parses each ping. When the consumer
is slower than the sonar the older ping is replaced and counted (`stats().pings_dropped`).
A dropped link is reported in `status` and retried every `reconnect_delay_s`; if a
connected sonar stays silent for `refire_after_s` the fire message is sent again (a sonar
that rebooted behind a switch keeps the TCP session but forgets its orders).
``raw_message_listeners`` are called on the reader thread with every whole message as
received (header + payload, before parsing: the recorder keeps the bytes as sent); a
listener that raises is logged once and the sonar goes on.

SimpleFire layout (little-endian, packed; from Blueprint Subsea's Oculus.h as published in
liboculus): 16-byte header (0x4F53, src, dst, msgId 0x15, version 0, payload 37, spare),
masterMode u8 (1 low / 2 high frequency), pingRate u8 (0 10 Hz, 1 15 Hz, 2 40 Hz, 3 5 Hz,
4 2 Hz, 5 standby), networkSpeed u8 (0xFF = link speed), gamma u8 (127 = 0.5),
flags u8 (0x01 range in metres, 0x02 16-bit, 0x04 send gains, 0x08 simple return,
0x10 gain assist, 0x40 512 beams), range f64, gainPercent f64, speedOfSound f64 (0 = from
salinity), salinity f64.
"""
from __future__ import annotations

import dataclasses
import logging
import socket
import struct
import threading
import time
from typing import Callable

from vision.sonar.oculus import (
    MAGIC,
    MSG_SIMPLE_PING_RESULT,
    OCULUS_TCP_PORT,
    OculusFormatError,
    OculusStreamSplitter,
    SonarPing,
    parse_oculus_ping,
)

LOG = logging.getLogger(__name__)

MSG_SIMPLE_FIRE = 0x15
SONAR_DEVICE_ID = 7892  # the destination id Oculus clients use (liboculus' SonarConfiguration)
PING_RATE_CODES = {10.0: 0, 15.0: 1, 40.0: 2, 5.0: 3, 2.0: 4}
PING_RATE_STANDBY = 5
MODE_LOW_FREQUENCY, MODE_HIGH_FREQUENCY = 1, 2
FLAG_RANGE_METRES, FLAG_16BIT, FLAG_SEND_GAIN, FLAG_SIMPLE_RETURN, FLAG_GAIN_ASSIST, FLAG_512_BEAMS = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x40)
_FIRE = struct.Struct("<HHHHHIH" "BBBBBdddd")
_STATUS = struct.Struct("<HHHHHIH" "IHHI6I3I6B9d")
OCULUS_STATUS_PORT = 52102
RECV_TIMEOUT_S = 0.2  # the reader checks for close() at least this often


def ping_rate_code(rate_hz: float) -> int:
    """The SimpleFire pingRate code whose maximum rate is the smallest >= rate_hz (0: standby)."""
    if rate_hz <= 0:
        return PING_RATE_STANDBY
    for hz in sorted(PING_RATE_CODES):
        if rate_hz <= hz:
            return PING_RATE_CODES[hz]
    return PING_RATE_CODES[40.0]


def encode_simple_fire(range_m: float, gain_percent: float = 50.0, *, master_mode: int = MODE_HIGH_FREQUENCY,
                       ping_rate: int = 0, flags: int = FLAG_RANGE_METRES | FLAG_SIMPLE_RETURN | FLAG_GAIN_ASSIST,
                       gamma: int = 127, network_speed: int = 0xFF, speed_of_sound_m_s: float = 0.0,
                       salinity_ppt: float = 35.0, dst_device_id: int = SONAR_DEVICE_ID) -> bytes:
    """A SimpleFire (v0) message asking the sonar for pings."""
    if master_mode not in (MODE_LOW_FREQUENCY, MODE_HIGH_FREQUENCY):
        raise ValueError(f"master_mode must be 1 (low) or 2 (high frequency), got {master_mode}")
    if not 0 <= ping_rate <= PING_RATE_STANDBY:
        raise ValueError(f"ping_rate code must be 0..5, got {ping_rate}")
    if not range_m > 0:
        raise ValueError(f"range_m must be > 0, got {range_m}")
    if not 0 <= gain_percent <= 100:
        raise ValueError(f"gain_percent must be within 0..100, got {gain_percent}")
    payload = _FIRE.size - 16
    return _FIRE.pack(MAGIC, 0, dst_device_id, MSG_SIMPLE_FIRE, 0, payload, 0, master_mode, ping_rate,
                      network_speed, gamma, flags, float(range_m), float(gain_percent),
                      float(speed_of_sound_m_s), float(salinity_ppt))


@dataclasses.dataclass(frozen=True)
class OculusStatus:
    """The sonar's 1 Hz UDP status (OculusStatusMsg): who it is and whom it serves."""

    device_id: int
    device_type: int
    part_number: int
    status: int
    ip_address: str
    connected_ip_address: str

    @property
    def running(self) -> bool:
        return self.status & 0x07 == 3  # master status: main application running


def parse_oculus_status(datagram: bytes) -> OculusStatus:
    if len(datagram) != _STATUS.size:
        raise OculusFormatError(f"Oculus status message must be {_STATUS.size} bytes, got {len(datagram)}")
    f = _STATUS.unpack(datagram)
    if f[0] != MAGIC:
        raise OculusFormatError(f"not an Oculus status message: magic 0x{f[0]:04X}")
    ip = socket.inet_ntoa(struct.pack("<I", f[17]))
    connected = socket.inet_ntoa(struct.pack("<I", f[19]))
    return OculusStatus(f[7], f[8], f[9], f[10], ip, connected)


@dataclasses.dataclass(frozen=True)
class OculusClientStats:
    pings_received: int = 0
    pings_read: int = 0
    pings_dropped: int = 0  # replaced in the slot before anyone read them
    bad_messages: int = 0  # whole messages that failed to parse
    other_messages: int = 0  # well-formed messages that are not pings
    skipped_bytes: int = 0  # bytes between messages (garbage)
    connects: int = 0
    fires_sent: int = 0
    last_error: str = ""
    status: str = ""


class OculusClient:
    def __init__(self, host: str, port: int = OCULUS_TCP_PORT, *, range_m: float = 10.0,
                 gain_percent: float = 50.0, master_mode: int = MODE_HIGH_FREQUENCY, ping_rate_hz: float = 10.0,
                 connect_timeout_s: float = 2.0, reconnect_delay_s: float = 1.0, refire_after_s: float = 3.0,
                 timeout_s: float = 5.0) -> None:
        self.host, self.port = host, int(port)
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_delay_s = reconnect_delay_s
        self.refire_after_s = refire_after_s
        self.timeout_s = timeout_s
        self._fire = encode_simple_fire(range_m, gain_percent, master_mode=master_mode,
                                        ping_rate=ping_rate_code(ping_rate_hz))
        self._fire_changed = threading.Event()
        self._cond = threading.Condition()
        self._slot: SonarPing | None = None
        self._latest: SonarPing | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._n = dict(pings_received=0, pings_read=0, pings_dropped=0, bad_messages=0, other_messages=0,
                       skipped_bytes=0, connects=0, fires_sent=0)
        self.last_error = ""
        self.status = "not started"
        self.connected = False
        # (raw message, t_mono_s, t_utc_s) for every whole message received; reader thread
        self.raw_message_listeners: list[Callable[[bytes, float, float], None]] = []
        self._failed_listeners: set[int] = set()  # ids of listeners already logged as failing

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "OculusClient":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"oculus:{self.host}:{self.port}", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout_s: float = 3.0) -> bool:
        """Stops the reader; True if it ended within timeout_s."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def __enter__(self) -> "OculusClient":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def set_fire(self, range_m: float, gain_percent: float = 50.0, *, master_mode: int = MODE_HIGH_FREQUENCY,
                 ping_rate_hz: float = 10.0) -> None:
        """New orders for the sonar; sent at once if connected, and after every reconnect."""
        self._fire = encode_simple_fire(range_m, gain_percent, master_mode=master_mode,
                                        ping_rate=ping_rate_code(ping_rate_hz))
        self._fire_changed.set()

    # -- consumer side -----------------------------------------------------------------
    def read(self, timeout_s: float | None = None) -> SonarPing:
        """The next ping not yet read; TimeoutError naming the link state if none comes."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._slot is None:
                if self._thread is None:
                    raise RuntimeError("OculusClient.read() before start()")
                if self._stop.is_set():
                    raise RuntimeError(f"Oculus client for {self.host}:{self.port} is closed")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no Oculus ping from {self.host}:{self.port} within {timeout:.1f} s "
                                       f"({self.status})")
                self._cond.wait(remaining)
            ping, self._slot = self._slot, None
            self._n["pings_read"] += 1
            return ping

    def latest(self) -> SonarPing | None:
        return self._latest

    def stats(self) -> OculusClientStats:
        return OculusClientStats(**self._n, last_error=self.last_error, status=self.status)

    # -- reader thread -----------------------------------------------------------------
    def _set_status(self, text: str, level: int = logging.INFO) -> None:
        if text != self.status:
            LOG.log(level, "oculus %s:%s: %s", self.host, self.port, text)
        self.status = text

    def _run(self) -> None:
        where = f"{self.host}:{self.port}"
        while not self._stop.is_set():
            self._set_status(f"connecting to {where}")
            try:
                sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
            except OSError as exc:
                self.last_error = f"connect to {where}: {exc}"
                self._set_status(f"cannot connect to {where} ({exc}); retrying in {self.reconnect_delay_s:g} s",
                                 logging.WARNING)
                if self._stop.wait(self.reconnect_delay_s):
                    return
                continue
            self._n["connects"] += 1
            try:
                reason = self._session(sock)
            finally:
                self.connected = False
                sock.close()
            if self._stop.is_set():
                self._set_status("closed")
                return
            self.last_error = reason
            self._set_status(f"link to {where} lost ({reason}); reconnecting in {self.reconnect_delay_s:g} s",
                             logging.WARNING)
            if self._stop.wait(self.reconnect_delay_s):
                return

    def _session(self, sock: socket.socket) -> str:
        """Reads one connection until it fails; returns why it ended."""
        sock.settimeout(RECV_TIMEOUT_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        splitter = OculusStreamSplitter()
        try:
            self._send_fire(sock)
        except OSError as exc:
            return f"sending the fire message failed: {exc}"
        self.connected = True
        self._set_status(f"connected to {self.host}:{self.port}, waiting for pings")
        last_data = time.monotonic()
        while not self._stop.is_set():
            if self._fire_changed.is_set():
                try:
                    self._send_fire(sock)
                except OSError as exc:
                    return f"sending the fire message failed: {exc}"
            try:
                chunk = sock.recv(1 << 20)
            except (TimeoutError, socket.timeout):
                if time.monotonic() - last_data > self.refire_after_s:
                    try:  # silent sonar: repeat the orders rather than wait forever
                        self._send_fire(sock)
                    except OSError as exc:
                        return f"sending the fire message failed: {exc}"
                    last_data = time.monotonic()
                continue
            except OSError as exc:
                return f"receive failed: {exc}"
            if not chunk:
                return "the sonar closed the connection"
            last_data = time.monotonic()
            before = splitter.skipped_bytes
            for message in splitter.feed(chunk):
                self._notify_raw(message)
                self._on_message(message)
            self._n["skipped_bytes"] += splitter.skipped_bytes - before
            if splitter.skipped_bytes > before:
                self.last_error = (f"skipped {splitter.skipped_bytes - before} bytes that are not Oculus messages "
                                   f"from {self.host}:{self.port}")
                LOG.warning("oculus %s:%s: %s", self.host, self.port, self.last_error)
        return "closed"

    def _send_fire(self, sock: socket.socket) -> None:
        self._fire_changed.clear()
        sock.sendall(self._fire)
        self._n["fires_sent"] += 1

    def _notify_raw(self, message: bytes) -> None:
        t_mono_s, t_utc_s = time.monotonic(), time.time()
        for listener in list(self.raw_message_listeners):
            try:
                listener(message, t_mono_s, t_utc_s)
            except Exception:  # noqa: BLE001 - a failing listener must not stop the sonar
                if id(listener) not in self._failed_listeners:
                    self._failed_listeners.add(id(listener))
                    LOG.exception("oculus %s:%s: raw message listener %r failed (logged once)",
                                  self.host, self.port, listener)

    def _on_message(self, message: bytes) -> None:
        t_rx = time.monotonic()
        msg_id = struct.unpack_from("<H", message, 6)[0]
        if msg_id != MSG_SIMPLE_PING_RESULT:
            self._n["other_messages"] += 1
            return
        try:
            ping = parse_oculus_ping(message, t_s=t_rx)
        except OculusFormatError as exc:
            self._n["bad_messages"] += 1
            self.last_error = f"bad ping from {self.host}:{self.port}: {exc}"
            LOG.warning("oculus %s:%s: %s", self.host, self.port, self.last_error)
            return
        with self._cond:
            self._n["pings_received"] += 1
            if self._slot is not None:
                self._n["pings_dropped"] += 1
            self._slot = ping
            self._latest = ping
            self._cond.notify_all()
        if not self.status.startswith("receiving"):
            self._set_status(f"receiving pings from {self.host}:{self.port}")
