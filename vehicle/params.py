"""Parameters: fetch all (and fill the gaps), get, set with confirmation, .params files."""
from __future__ import annotations

import math
import os
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Mapping

from .dialect import mavlink
from .errors import ParameterError
from .events import TransferProgress

_INT_TYPES = {mavlink.MAV_PARAM_TYPE_UINT8, mavlink.MAV_PARAM_TYPE_INT8, mavlink.MAV_PARAM_TYPE_UINT16,
              mavlink.MAV_PARAM_TYPE_INT16, mavlink.MAV_PARAM_TYPE_UINT32, mavlink.MAV_PARAM_TYPE_INT32}
GAP_REQUEST_BATCH = 20


def _name(raw) -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", errors="replace")
    return raw.rstrip("\x00")


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


class ParameterManager:
    """Cache of the vehicle's parameters. Methods block up to their timeouts; call from
    a worker thread (or through Vehicle.submit) when on the GUI thread."""

    def __init__(self, vehicle):
        self._v = vehicle
        self._lock = threading.Lock()
        self._values: dict[str, float] = {}
        self._types: dict[str, int] = {}
        self._index: dict[str, int] = {}
        self.count: int | None = None
        self.complete = False

    # -- cache ----------------------------------------------------------------
    def handle_param_value(self, m) -> None:
        """Called on the link thread for every PARAM_VALUE from the vehicle."""
        name = _name(m.param_id)
        with self._lock:
            self._values[name] = float(m.param_value)
            self._types[name] = m.param_type
            if m.param_index != 65535:
                self._index[name] = m.param_index
            if m.param_count:
                self.count = m.param_count

    @property
    def values(self) -> Mapping[str, float]:
        with self._lock:
            return dict(self._values)

    def cached(self, name: str) -> float | None:
        with self._lock:
            return self._values.get(name.upper())

    def param_type(self, name: str) -> int | None:
        with self._lock:
            return self._types.get(name.upper())

    # -- protocol -------------------------------------------------------------
    def fetch_all(self, timeout_s: float | None = None) -> dict[str, float]:
        """PARAM_REQUEST_LIST, then re-request by index whatever did not arrive."""
        v, tmo = self._v, self._v.timeouts
        timeout_s = tmo.param_list_total_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        sysid, compid = v.target()
        seen: set[int] = set()
        count: int | None = None
        with v.router.waiter(["PARAM_VALUE"]) as q:
            v.connection.send(mavlink.MAVLink_param_request_list_message(sysid, compid))
            idle_deadline = time.monotonic() + max(tmo.param_list_idle_s, tmo.param_read_s * 2)
            rounds = 0
            last_progress = 0.0
            while True:
                now = time.monotonic()
                if now > deadline:
                    break
                m = q.get(min(idle_deadline, deadline) - now)
                if m is not None:
                    if m.param_count:
                        count = m.param_count
                    if m.param_index != 65535:
                        seen.add(m.param_index)
                    idle_deadline = time.monotonic() + tmo.param_list_idle_s
                    if count and time.monotonic() - last_progress > 0.2:
                        last_progress = time.monotonic()
                        v.events.emit(TransferProgress("params", len(seen), count))
                    if count and len(seen) >= count:
                        break
                    continue
                # silence: either never started (resend the list) or gaps to fill
                if count is None:
                    if rounds >= tmo.param_retries:
                        raise ParameterError("the vehicle sent no parameters (PARAM_REQUEST_LIST "
                                             f"unanswered {rounds + 1} times); check the link")
                    v.connection.send(mavlink.MAVLink_param_request_list_message(sysid, compid))
                else:
                    missing = [i for i in range(count) if i not in seen]
                    if rounds >= tmo.param_retries * 3:
                        break
                    for i in missing[:GAP_REQUEST_BATCH]:
                        v.connection.send(mavlink.MAVLink_param_request_read_message(sysid, compid, b"", i))
                rounds += 1
                idle_deadline = time.monotonic() + max(tmo.param_read_s, 0.2)
        if count is None:
            raise ParameterError("no parameters received before the timeout")
        v.events.emit(TransferProgress("params", len(seen), count))
        if len(seen) < count:
            missing = count - len(seen)
            raise ParameterError(f"parameter download incomplete: {missing} of {count} missing after "
                                 f"retries; the link is losing too much (try again)")
        self.complete = True
        return self.values

    def get(self, name: str, *, refresh: bool = False) -> float:
        name = name.upper()
        if not refresh:
            value = self.cached(name)
            if value is not None:
                return value
        v, tmo = self._v, self._v.timeouts
        sysid, compid = v.target()
        with v.router.waiter(["PARAM_VALUE"], lambda m: _name(m.param_id) == name) as q:
            for _ in range(1 + tmo.param_retries):
                v.connection.send(mavlink.MAVLink_param_request_read_message(
                    sysid, compid, name.encode(), -1))
                m = q.get(tmo.param_read_s)
                if m is not None:
                    return float(m.param_value)
        raise ParameterError(f"parameter {name} not answered by the vehicle (does it exist on this firmware?)")

    def set(self, name: str, value: float) -> float:
        """PARAM_SET and wait for the PARAM_VALUE echo; returns the value the vehicle stored."""
        name = name.upper()
        if len(name) > 16:
            raise ParameterError(f"parameter name {name!r} is longer than 16 characters")
        if not math.isfinite(value):
            raise ParameterError(f"{name}: value {value!r} is not a finite number")
        v, tmo = self._v, self._v.timeouts
        ptype = self.param_type(name)
        if ptype is None:
            self.get(name)  # learn its type, and that it exists
            ptype = self.param_type(name) or mavlink.MAV_PARAM_TYPE_REAL32
        want = float(round(value)) if ptype in _INT_TYPES else _f32(value)
        sysid, compid = v.target()
        last: float | None = None
        with v.router.waiter(["PARAM_VALUE"], lambda m: _name(m.param_id) == name) as q:
            for _ in range(1 + tmo.param_retries):
                v.connection.send(mavlink.MAVLink_param_set_message(sysid, compid, name.encode(), want, ptype))
                deadline = time.monotonic() + tmo.param_read_s
                # an older PARAM_VALUE (e.g. from a running fetch) may come first: wait for the echo
                while (m := q.get(deadline - time.monotonic())) is not None:
                    last = float(m.param_value)
                    if math.isclose(last, want, rel_tol=1e-6, abs_tol=1e-6):
                        return last
        if last is not None:
            raise ParameterError(f"{name}: the vehicle kept {last:g} instead of {want:g} "
                                 f"(value out of range or read-only?)")
        raise ParameterError(f"{name}: no confirmation from the vehicle after {1 + tmo.param_retries} tries")

    # -- files ----------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        with self._lock:
            items = sorted(self._values.items())
            types = dict(self._types)
        sysid, compid = self._v.target() if self._v.state.discovered else (1, 1)
        write_params_file(path, items, types, sysid, compid)

    def apply(self, values: Mapping[str, float]) -> dict[str, float]:
        """Set every parameter that differs from the cache; returns what was changed."""
        changed = {}
        for name, value in values.items():
            current = self.cached(name)
            if current is not None and math.isclose(current, value, rel_tol=1e-6, abs_tol=1e-6):
                continue
            changed[name] = self.set(name, value)
        return changed


def write_params_file(path, items, types: Mapping[str, int] | None = None, sysid: int = 1,
                      compid: int = 1) -> None:
    """QGC's tab-separated format (also read by Mission Planner and MAVProxy), written atomically."""
    types = types or {}
    lines = ["# Onboard parameters for Vehicle %d" % sysid, "#", "# Stack: ArduPilot",
             "# Vehicle-Type: ArduSub", "#", "# Vehicle-Id Component-Id Name Value Type"]
    for name, value in items:
        ptype = types.get(name, mavlink.MAV_PARAM_TYPE_REAL32)
        text = str(int(value)) if ptype in _INT_TYPES else repr(float(value))
        lines.append(f"{sysid}\t{compid}\t{name}\t{text}\t{ptype}")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_params_file(path: str | Path) -> dict[str, float]:
    """QGC (tab: sysid compid name value type), Mission Planner (NAME,VALUE) or
    MAVProxy (NAME VALUE) formats; errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise ParameterError(f"parameter file {path} does not exist") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{path} is not a text parameter file") from None
    except OSError as exc:
        raise ParameterError(f"cannot read {path}: {exc.strerror}") from None
    values: dict[str, float] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t") if "\t" in line else line.replace(",", " ").split()
        if len(fields) >= 4 and fields[0].isdigit() and fields[1].isdigit():
            name, value = fields[2], fields[3]
        elif len(fields) >= 2:
            name, value = fields[0], fields[1]
        else:
            raise ParameterError(f"{path}:{lineno}: expected NAME and VALUE, got {raw!r}")
        name = name.strip().upper()
        if not name or len(name) > 16 or not all(c.isalnum() or c == "_" for c in name):
            raise ParameterError(f"{path}:{lineno}: {name!r} is not a parameter name")
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(f"{path}:{lineno}: value {value!r} of {name} is not a number") from None
        if not math.isfinite(number):
            raise ParameterError(f"{path}:{lineno}: value of {name} is not finite")
        values[name] = number
    if not values:
        raise ParameterError(f"{path} holds no parameters")
    return values
