"""The other end of a link for edge cases the simulator does not produce on its own:
a vehicle that never answers, refuses, or misbehaves. It is a real UDP socket speaking
real MAVLink (pymavlink), driven by per-message handlers the test sets."""
from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict

from pymavlink.dialects.v20 import ardupilotmega as mavlink


class ScriptedPeer:
    def __init__(self, station_port: int, system_id: int = 1, component_id: int = 1,
                 heartbeat: bool = True, mav_type: int = mavlink.MAV_TYPE_SUBMARINE):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.station = ("127.0.0.1", station_port)
        self.mav = mavlink.MAVLink(None, system_id, component_id)
        self.mav.robust_parsing = True
        self.heartbeat = heartbeat
        self.mav_type = mav_type
        self.custom_mode = 19
        self.base_mode = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
        self.handlers: dict[str, callable] = {}
        self.received: dict[str, list] = defaultdict(list)
        self.receive_times: dict[str, list] = defaultdict(list)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._rx, daemon=True),
                         threading.Thread(target=self._hb, daemon=True)]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(2)
        self.sock.close()

    def send(self, msg) -> None:
        with self._lock:
            buf = msg.pack(self.mav)
            self.mav.seq = (self.mav.seq + 1) % 256
        self.sock.sendto(buf, self.station)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.station)

    def _hb(self) -> None:
        while not self._stop.is_set():
            if self.heartbeat:
                self.send(mavlink.MAVLink_heartbeat_message(self.mav_type, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                                                            self.base_mode, self.custom_mode, 4, 3))
            self._stop.wait(1.0)

    def _rx(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            for msg in self.mav.parse_buffer(data) or []:
                mtype = msg.get_type()
                self.received[mtype].append(msg)
                self.receive_times[mtype].append(time.monotonic())
                handler = self.handlers.get(mtype)
                if handler is not None:
                    handler(msg)

    def ack(self, command: int, result: int) -> None:
        self.send(mavlink.MAVLink_command_ack_message(command, result, 0, 0, 255, 190))

    def statustext(self, severity: int, text: str) -> None:
        self.send(mavlink.MAVLink_statustext_message(severity, text.encode(), 0, 0))
