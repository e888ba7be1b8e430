"""A minimal GCS for the simulator tests: pymavlink's encoder/decoder over a plain
socket, one reader thread that files every message by type."""
from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.vehicle_server import SimVehicle

M = mavlink
GCS_SYSID = 255
GCS_COMPID = 190


class TestGcs:
    """Talks to the sim over UDP (default) or TCP; thread-safe message log."""

    __test__ = False

    def __init__(self, sim: SimVehicle, transport: str = "udp") -> None:
        self.sim = sim
        self.mav = M.MAVLink(None, srcSystem=GCS_SYSID, srcComponent=GCS_COMPID)
        self.parser = M.MAVLink(None)
        self.parser.robust_parsing = True
        self.transport = transport
        if transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.dest = sim.udp_address
        else:
            self.sock = socket.create_connection(("127.0.0.1", sim.tcp_port), timeout=2.0)
            self.dest = None
        self.sock.settimeout(0.05)
        self._cond = threading.Condition()
        self.messages: dict[str, list[tuple[float, object]]] = defaultdict(list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            for msg in self.parser.parse_buffer(data) or []:
                with self._cond:
                    self.messages[msg.get_type()].append((time.monotonic(), msg))
                    self._cond.notify_all()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self.sock.close()

    # -- sending -----------------------------------------------------------
    def send(self, msg: object) -> None:
        data = msg.pack(self.mav)
        if self.dest is not None:
            self.sock.sendto(data, self.dest)
        else:
            self.sock.sendall(data)

    def send_raw(self, data: bytes) -> None:
        if self.dest is not None:
            self.sock.sendto(data, self.dest)
        else:
            self.sock.sendall(data)

    def heartbeat(self) -> None:
        self.send(self.mav.heartbeat_encode(M.MAV_TYPE_GCS, M.MAV_AUTOPILOT_INVALID, 0, 0, 0))

    def command_long(self, command: int, *params: float) -> None:
        p = list(params) + [0.0] * (7 - len(params))
        self.send(self.mav.command_long_encode(1, 1, command, 0, *p))

    def manual_control(self, x: int = 0, y: int = 0, z: int = 500, r: int = 0, buttons: int = 0,
                       target: int = 1) -> None:
        self.send(self.mav.manual_control_encode(target, x, y, z, r, buttons))

    # -- waiting -----------------------------------------------------------
    def count(self, kind: str, since: float = 0.0) -> int:
        with self._cond:
            return sum(1 for t, _ in self.messages[kind] if t >= since)

    def all(self, kind: str, since: float = 0.0) -> list[object]:
        with self._cond:
            return [m for t, m in self.messages[kind] if t >= since]

    def wait_for(self, kind: str, predicate=lambda m: True, timeout_s: float = 3.0, since: float | None = None):
        since = time.monotonic() if since is None else since
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for t, m in self.messages[kind]:
                    if t >= since and predicate(m):
                        return m
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def command(self, command: int, *params: float, timeout_s: float = 3.0) -> int | None:
        """Send COMMAND_LONG; return the ACK's result (or None on timeout)."""
        since = time.monotonic()
        self.command_long(command, *params)
        ack = self.wait_for("COMMAND_ACK", lambda m: m.command == command, timeout_s, since)
        return None if ack is None else ack.result

    def set_mode(self, custom_mode: int) -> int | None:
        return self.command(M.MAV_CMD_DO_SET_MODE, M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, custom_mode)

    def arm(self, force: bool = False) -> int | None:
        return self.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1, 21196 if force else 0)

    def disarm(self) -> int | None:
        return self.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 0)

    def text_seen(self, fragment: str, since: float = 0.0) -> bool:
        return any(fragment in m.text for m in self.all("STATUSTEXT", since))


class PilotLoop:
    """Sends GCS heartbeats (1 Hz) and MANUAL_CONTROL (25 Hz) like a station does."""

    def __init__(self, gcs: TestGcs) -> None:
        self.gcs = gcs
        self.x = self.y = self.r = 0
        self.z = 500
        self.buttons = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PilotLoop":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1.0)

    def _run(self) -> None:
        last_hb = 0.0
        while not self._stop.wait(0.04):
            now = time.monotonic()
            if now - last_hb >= 1.0:
                self.gcs.heartbeat()
                last_hb = now
            self.gcs.manual_control(self.x, self.y, self.z, self.r, self.buttons)


