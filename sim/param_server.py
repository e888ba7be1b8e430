"""Parameter store and the MAVLink parameter protocol as ArduPilot serves it."""
from __future__ import annotations

import math
import struct
import threading
from typing import Callable

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.ardusub_params import default_parameters

PARAM_STREAM_RATE_HZ = 500.0  # ArduPilot paces the list; a burst would overflow radios

_INT_RANGES = {
    mavlink.MAV_PARAM_TYPE_INT8: (-128, 127),
    mavlink.MAV_PARAM_TYPE_INT16: (-32768, 32767),
    mavlink.MAV_PARAM_TYPE_INT32: (-2147483648, 2147483647),
}


def _to_float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", float(value)))[0]


def coerce(value: float, param_type: int) -> float:
    """Store a value as the param's C type would hold it."""
    if not math.isfinite(value):
        raise ValueError("non-finite parameter value")
    limits = _INT_RANGES.get(param_type)
    if limits is None:
        return _to_float32(value)
    low, high = limits
    return float(min(high, max(low, int(round(value)))))


class ParamStore:
    """Named values with types; thread-safe; keeps ArduPilot's sorted index order."""

    def __init__(self, overrides: dict[str, float] | None = None) -> None:
        self._lock = threading.Lock()
        rows = default_parameters()
        self._names = [name for name, _, _ in rows]
        self._index = {name: i for i, name in enumerate(self._names)}
        self._types = {name: ptype for name, _, ptype in rows}
        self._values = {name: coerce(value, ptype) for name, value, ptype in rows}
        for name, value in (overrides or {}).items():
            if name not in self._values:
                raise KeyError(f"unknown ArduSub parameter in overrides: {name}")
            self._values[name] = coerce(value, self._types[name])

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def get(self, name: str) -> float:
        with self._lock:
            return self._values[name]

    def get_int(self, name: str) -> int:
        return int(self.get(name))

    def set(self, name: str, value: float) -> float:
        with self._lock:
            stored = coerce(value, self._types[name])
            self._values[name] = stored
            return stored

    def by_index(self, index: int) -> tuple[str, float, int]:
        name = self._names[index]
        with self._lock:
            return name, self._values[name], self._types[name]

    def index_of(self, name: str) -> int:
        return self._index[name]

    def type_of(self, name: str) -> int:
        return self._types[name]

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._values)


SendFn = Callable[[object, object | None], None]  # (message, peer or None for all)


class ParamServer:
    """Answers PARAM_REQUEST_LIST / _READ / PARAM_SET; streams the list paced."""

    def __init__(self, store: ParamStore, send: SendFn,
                 on_change: Callable[[str, float], None] | None = None) -> None:
        self.store = store
        self._send = send
        self._on_change = on_change
        self._pending: list[tuple[object, int]] = []  # (peer, next index)
        self._budget = 0.0

    def value_message(self, index: int) -> object:
        name, value, ptype = self.store.by_index(index)
        return mavlink.MAVLink_param_value_message(
            name.encode(), value, ptype, len(self.store), index)

    def handle(self, msg: object, peer: object, sysid: int, compid: int) -> bool:
        kind = msg.get_type()
        if kind not in ("PARAM_REQUEST_LIST", "PARAM_REQUEST_READ", "PARAM_SET"):
            return False
        if msg.target_system not in (0, sysid):
            return True
        if kind == "PARAM_REQUEST_LIST":
            self._pending = [p for p in self._pending if p[0] is not peer]
            self._pending.append((peer, 0))
        elif kind == "PARAM_REQUEST_READ":
            index = self._resolve(msg.param_id, msg.param_index)
            if index is not None:
                self._send(self.value_message(index), peer)
        else:
            index = self._resolve(msg.param_id, -1)
            if index is None or not math.isfinite(msg.param_value):
                return True  # ArduPilot silently ignores unknown names
            name = self.store.by_index(index)[0]
            stored = self.store.set(name, msg.param_value)
            if self._on_change is not None:
                self._on_change(name, stored)
            self._send(self.value_message(index), None)
        return True

    def _resolve(self, raw_id: object, index: int) -> int | None:
        if index >= 0:
            return index if index < len(self.store) else None
        name = raw_id.decode(errors="ignore") if isinstance(raw_id, bytes) else str(raw_id)
        name = name.split("\x00", 1)[0]
        return self.store.index_of(name) if name in self.store else None

    def tick(self, dt_s: float) -> None:
        """Send the next slice of any list in progress, at PARAM_STREAM_RATE_HZ."""
        if not self._pending:
            self._budget = 0.0
            return
        self._budget += dt_s * PARAM_STREAM_RATE_HZ
        while self._budget >= 1.0 and self._pending:
            peer, index = self._pending[0]
            self._send(self.value_message(index), peer)
            self._budget -= 1.0
            if index + 1 >= len(self.store):
                self._pending.pop(0)
            else:
                self._pending[0] = (peer, index + 1)
