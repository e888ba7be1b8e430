"""The simulated Ping360 on the network: a UDP device speaking Blue Robotics' ping
protocol (framing, checksums and message layouts from the `bluerobotics-ping` package,
brping), as the Ping360's Ethernet interface does on port 12345.

What it answers (message ids from brping.definitions):
  general_request (6) for protocol_version (5), device_information (4) and device_data
    (2300: the current settings, no samples);
  transducer (2601): stores the settings; with transmit = 1 it turns the head to the
    angle, pings, and answers device_data with the samples; with transmit = 0 it answers
    device_data without samples (brping's set_* helpers wait for that);
  auto_transmit (2602): scans from start to stop angle by num_steps, sending
    auto_device_data (2301) for each ping until motor_off (2903), reset (2600) or
    another request;
  anything else known gets a nack naming it; checksum errors and bytes that are not
    ping-protocol frames are logged and dropped, as the device drops them.
Out-of-range settings are refused with a nack that names the field and its range.
The answer waits for the time the real head needs: its motor steps plus the echo's
round trip (number_of_samples x sample_period).
"""
from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from typing import Callable

import numpy as np

from sim.ping360_render import SAMPLE_PERIOD_TICK_S, BeamRequest

LOG = logging.getLogger(__name__)

PING360_UDP_PORT = 12345
DEVICE_TYPE_PING360 = 2
PROTOCOL_VERSION = (1, 0, 0)
FIRMWARE_VERSION = (3, 3, 1)
STEP_TIME_S = 0.0005  # per gradian of head rotation (a full turn in 0.2 s)
RECV_TIMEOUT_S = 0.2
JOIN_TIMEOUT_S = 3.0
LIMITS = {"angle": (0, 399), "number_of_samples": (200, 1200), "sample_period": (80, 40000),
          "transmit_frequency": (500, 1000), "transmit_duration": (1, 1000), "gain_setting": (0, 2)}

# (BeamRequest) -> samples (uint8), rendered at the vehicle's pose at call time
BeamRenderer = Callable[[BeamRequest], np.ndarray]


@dataclasses.dataclass
class HeadState:
    mode: int = 1
    gain_setting: int = 0
    angle: int = 0
    transmit_duration: int = 32  # microseconds
    sample_period: int = 80  # 25 ns ticks
    transmit_frequency: int = 740  # kHz
    number_of_samples: int = 1200


class Ping360Server:
    def __init__(self, render: BeamRenderer, host: str = "127.0.0.1", port: int = PING360_UDP_PORT,
                 device_id: int = 2, realtime: bool = True) -> None:
        from brping import definitions, pingmessage  # noqa: F401 - fail early if brping is missing

        self.render = render
        self.device_id = device_id
        self.realtime = realtime
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self._sock.settimeout(RECV_TIMEOUT_S)
        self.host, self.port = self._sock.getsockname()[:2]
        self.head = HeadState()
        self._parsers: dict = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._auto: tuple | None = None  # (peer, start, stop, step, delay_ms) while auto-transmitting
        self.pings = 0
        self.bad_checksums = 0
        self.garbage_bytes = 0
        self.nacks = 0
        self.last_error = ""

    def start(self) -> "Ping360Server":
        self._thread = threading.Thread(target=self._run, name="ping360-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = JOIN_TIMEOUT_S) -> bool:
        self._stop.set()
        joined = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            joined = not self._thread.is_alive()
        self._sock.close()
        return joined

    # ------------------------------------------------------------------ I/O loop
    def _run(self) -> None:
        while not self._stop.is_set():
            if self._auto is not None:
                try:
                    self._auto_step()
                except Exception as exc:  # noqa: BLE001 - stop scanning, keep answering
                    self._auto = None
                    self.last_error = f"auto-transmit stopped: {type(exc).__name__}: {exc}"
                    LOG.exception("ping360 sim: auto-transmit stopped")
                timeout = 0.0
            else:
                timeout = RECV_TIMEOUT_S
            try:
                self._sock.settimeout(timeout if timeout > 0 else 0.001)
                data, peer = self._sock.recvfrom(65535)
            except (TimeoutError, socket.timeout, BlockingIOError):
                continue
            except OSError as exc:
                if self._stop.is_set():
                    return
                self.last_error = f"UDP receive: {exc}"
                LOG.warning("ping360 sim: %s", self.last_error)
                self._stop.wait(RECV_TIMEOUT_S)
                continue
            try:
                self._on_datagram(data, peer)
            except Exception as exc:  # noqa: BLE001 - a bad request must not stop the device
                self.last_error = f"{peer[0]}:{peer[1]}: {type(exc).__name__}: {exc}"
                LOG.exception("ping360 sim: error handling a request from %s:%s", *peer)

    def _on_datagram(self, data: bytes, peer) -> None:
        from brping import pingmessage

        parser = self._parsers.get(peer)
        if parser is None:
            if len(self._parsers) > 64:
                self._parsers.clear()  # a port scan must not grow this without bound
            parser = self._parsers[peer] = pingmessage.PingParser()
        framed = 0  # bytes that ended up in a message or a partial frame
        for i, byte in enumerate(data):
            state = parser.parse_byte(byte)
            if state == pingmessage.PingParser.NEW_MESSAGE:
                framed = i + 1
                self._on_message(parser.rx_msg, peer)
            elif state == pingmessage.PingParser.ERROR:
                framed = i + 1
                self.bad_checksums += 1
                self.last_error = f"{peer[0]}:{peer[1]}: a ping-protocol message with a bad checksum"
                LOG.warning("ping360 sim: dropped a message with a bad checksum from %s:%s", *peer)
            elif state != pingmessage.PingParser.WAIT_START:
                framed = i + 1
        garbage = framed == 0 and parser.state == pingmessage.PingParser.WAIT_START
        if garbage:
            self.garbage_bytes += len(data)
            self.last_error = f"{peer[0]}:{peer[1]}: {len(data)} bytes that are not ping-protocol messages"
            LOG.warning("ping360 sim: ignored %d bytes from %s:%s that are not ping-protocol messages",
                        len(data), *peer)

    def _send(self, msg, peer) -> None:
        msg.src_device_id = self.device_id
        msg.dst_device_id = 0
        try:
            self._sock.sendto(bytes(msg.pack_msg_data()), peer)
        except OSError as exc:
            self.last_error = f"send to {peer[0]}:{peer[1]}: {exc}"

    # ------------------------------------------------------------------ protocol
    def _on_message(self, msg, peer) -> None:
        from brping import definitions as d

        mid = msg.message_id
        if mid == d.COMMON_GENERAL_REQUEST:
            self._on_request(int(msg.requested_id), peer)
        elif mid == d.PING360_TRANSDUCER:
            self._auto = None
            self._on_transducer(msg, peer)
        elif mid == d.PING360_AUTO_TRANSMIT:
            self._on_auto_transmit(msg, peer)
        elif mid in (d.PING360_MOTOR_OFF, d.PING360_RESET):
            self._auto = None
            self._ack(mid, peer)
        elif mid == d.PING360_SET_DEVICE_ID:
            if not 1 <= int(msg.id) <= 254:
                self._nack(mid, f"device id {msg.id} outside 1..254", peer)
                return
            self.device_id = int(msg.id)
            self._ack(mid, peer)
        else:
            self._nack(mid, f"message {getattr(msg, 'name', mid)} ({mid}) is not handled by a Ping360", peer)

    def _on_request(self, requested: int, peer) -> None:
        from brping import definitions as d
        from brping import pingmessage

        if requested == d.COMMON_PROTOCOL_VERSION:
            m = pingmessage.PingMessage(d.COMMON_PROTOCOL_VERSION)
            m.version_major, m.version_minor, m.version_patch = PROTOCOL_VERSION
            self._send(m, peer)
        elif requested == d.COMMON_DEVICE_INFORMATION:
            m = pingmessage.PingMessage(d.COMMON_DEVICE_INFORMATION)
            m.device_type, m.device_revision = DEVICE_TYPE_PING360, 1
            m.firmware_version_major, m.firmware_version_minor, m.firmware_version_patch = FIRMWARE_VERSION
            self._send(m, peer)
        elif requested == d.PING360_DEVICE_DATA:
            self._send(self._device_data(np.zeros(0, np.uint8)), peer)
        else:
            self._nack(d.COMMON_GENERAL_REQUEST, f"cannot send message {requested}", peer)

    def _validate(self, fields: dict) -> str | None:
        for name, value in fields.items():
            lo, hi = LIMITS[name]
            if not lo <= int(value) <= hi:
                return f"{name} {value} outside {lo}..{hi}"
        return None

    def _on_transducer(self, msg, peer) -> None:
        from brping import definitions as d

        fields = {k: int(getattr(msg, k)) for k in ("gain_setting", "angle", "transmit_duration", "sample_period",
                                                   "transmit_frequency", "number_of_samples")}
        problem = self._validate(fields)
        if problem:
            self._nack(d.PING360_TRANSDUCER, problem, peer)
            return
        old_angle = self.head.angle
        for k, v in fields.items():
            setattr(self.head, k, v)
        if not int(msg.transmit):
            self._send(self._device_data(np.zeros(0, np.uint8)), peer)
            return
        self._pace(old_angle, self.head.angle)
        self._send(self._device_data(self._ping()), peer)

    def _on_auto_transmit(self, msg, peer) -> None:
        from brping import definitions as d

        fields = {k: int(getattr(msg, k)) for k in ("gain_setting", "transmit_duration", "sample_period",
                                                   "transmit_frequency", "number_of_samples")}
        fields["angle"] = int(msg.start_angle)
        problem = self._validate(fields) or self._validate({"angle": int(msg.stop_angle)})
        if problem is None and not 1 <= int(msg.num_steps) <= 10:
            problem = f"num_steps {msg.num_steps} outside 1..10"
        if problem is None and int(msg.start_angle) > int(msg.stop_angle):
            problem = f"start_angle {msg.start_angle} is after stop_angle {msg.stop_angle}"
        if problem:
            self._nack(d.PING360_AUTO_TRANSMIT, problem, peer)
            return
        for k, v in fields.items():
            setattr(self.head, k, v)
        self._auto = (peer, int(msg.start_angle), int(msg.stop_angle), int(msg.num_steps), int(msg.delay), 1)

    def _auto_step(self) -> None:
        from brping import definitions as d

        peer, start, stop, step, delay_ms, direction = self._auto
        old = self.head.angle
        self._pace(old, old)
        if self._stop.wait(delay_ms / 1000.0):
            return
        msg = self._device_data(self._ping(), d.PING360_AUTO_DEVICE_DATA)
        msg.start_angle, msg.stop_angle, msg.num_steps, msg.delay = start, stop, step, delay_ms
        self._send(msg, peer)
        full_turn = (start, stop) == (0, 399)
        nxt = (old + direction * step) % 400 if full_turn else old + direction * step
        if not full_turn and not start <= nxt <= stop:  # a sector is swept back and forth
            direction = -direction
            nxt = min(max(old + direction * step, start), stop)
        self.head.angle = nxt
        if self._auto is not None:
            self._auto = (peer, start, stop, step, delay_ms, direction)

    def _pace(self, from_angle: int, to_angle: int) -> None:
        if not self.realtime:
            return
        turn = abs(to_angle - from_angle) % 400
        turn = min(turn, 400 - turn)
        echo_s = self.head.number_of_samples * self.head.sample_period * SAMPLE_PERIOD_TICK_S
        self._stop.wait(turn * STEP_TIME_S + echo_s)

    def _ping(self) -> np.ndarray:
        h = self.head
        request = BeamRequest(h.angle, h.number_of_samples, h.sample_period, h.gain_setting,
                              h.transmit_frequency * 1e3, h.transmit_duration * 1e-6)
        samples = np.asarray(self.render(request), dtype=np.uint8)
        if samples.shape != (h.number_of_samples,):
            raise ValueError(f"renderer returned {samples.shape} samples, expected ({h.number_of_samples},)")
        self.pings += 1
        return samples

    def _device_data(self, samples: np.ndarray, message_id: int | None = None):
        from brping import definitions as d
        from brping import pingmessage

        h = self.head
        mid = message_id or d.PING360_DEVICE_DATA
        m = pingmessage.PingMessage(mid, payload_dict=None if len(samples) else _without_vector(mid))
        m.payload_field_names = d.payload_dict_all[mid]["field_names"]  # its length comes from the vector
        m.mode, m.gain_setting, m.angle = h.mode, h.gain_setting, h.angle
        m.transmit_duration, m.sample_period, m.transmit_frequency = (h.transmit_duration, h.sample_period,
                                                                       h.transmit_frequency)
        m.number_of_samples = h.number_of_samples
        m.data = bytearray(samples.tobytes())
        m.data_length = len(m.data)  # brping does not fill the length field of a vector itself
        return m

    def _ack(self, acked: int, peer) -> None:
        from brping import definitions as d
        from brping import pingmessage

        m = pingmessage.PingMessage(d.COMMON_ACK)
        m.acked_id = acked
        self._send(m, peer)

    def _nack(self, nacked: int, text: str, peer) -> None:
        from brping import definitions as d
        from brping import pingmessage

        self.nacks += 1
        self.last_error = f"{peer[0]}:{peer[1]}: refused: {text}"
        LOG.warning("ping360 sim: refused a request from %s:%s: %s", peer[0], peer[1], text)
        # brping 0.2.5 cannot construct a nack (its text starts as an int and len() fails),
        # so the message object is filled in here and packed by brping as usual
        m = pingmessage.PingMessage.__new__(pingmessage.PingMessage)
        m.payload_dict = d.payload_dict_all
        m.message_id, m.request_id, m.checksum, m.msg_data = d.COMMON_NACK, None, 0, None
        m.name = m.payload_dict[d.COMMON_NACK]["name"]
        m.payload_field_names = m.payload_dict[d.COMMON_NACK]["field_names"]
        m.nacked_id = nacked
        m.nack_message = text.encode("ascii", "replace") + b"\x00"  # the device sends a C string
        self._send(m, peer)


def _without_vector(message_id: int) -> dict:
    """brping's payload table with the message's trailing vector dropped: brping cannot
    pack a vector of length 0, and an answer without samples is what the device sends."""
    from brping import definitions as d

    table = dict(d.payload_dict_all)
    entry = dict(table[message_id])
    entry["field_names"] = entry["field_names"][:-1]
    table[message_id] = entry
    return table
