"""ArduSub failsafes: pilot input, GCS heartbeat, leak and battery, driven by the
FS_* / BATT_FS_* parameters and acting for real (disarm, depth hold, surface)."""
from __future__ import annotations

from typing import Protocol

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.modes import Mode

M = mavlink
LEAK_TEXT_PERIOD_S = 20.0
GCS_WARN_PERIOD_S = 30.0

FS_PILOT_DISABLED, FS_PILOT_WARN, FS_PILOT_DISARM = 0, 1, 2
FS_GCS_DISABLED, FS_GCS_WARN, FS_GCS_DISARM, FS_GCS_HOLD, FS_GCS_SURFACE = 0, 1, 2, 3, 4
FS_LEAK_DISABLED, FS_LEAK_WARN, FS_LEAK_SURFACE = 0, 1, 2
FS_BATT_NONE, FS_BATT_WARN, FS_BATT_DISARM, FS_BATT_SURFACE = 0, 1, 2, 3


class FailsafeActions(Protocol):
    def param(self, name: str) -> float: ...
    def is_armed(self) -> bool: ...
    def disarm_from_failsafe(self) -> None: ...
    def set_mode_from_failsafe(self, mode: Mode) -> None: ...
    def neutral_pilot_input(self) -> None: ...
    def send_text(self, severity: int, text: str) -> None: ...


class Failsafes:
    def __init__(self) -> None:
        self.last_pilot_input_s: float | None = None
        self.last_gcs_seen_s: float | None = None   # None until a GCS has been heard
        self.leak_detected = False
        self.pilot_input = False
        self.gcs = False
        self.leak = False
        self.battery = False
        self._last_leak_text_s = -1e9
        self._last_gcs_text_s = -1e9
        self._battery_low_since_s: float | None = None

    def active(self) -> tuple[str, ...]:
        names = (("pilot_input", self.pilot_input), ("gcs", self.gcs),
                 ("leak", self.leak), ("battery", self.battery))
        return tuple(name for name, on in names if on)

    def on_armed(self, now_s: float) -> None:
        # A GCS-commanded arm gets a full timeout before the pilot failsafe can fire.
        self.last_pilot_input_s = now_s

    def check(self, now_s: float, voltage_v: float, consumed_mah: float, v: FailsafeActions) -> None:
        self._check_pilot(now_s, v)
        self._check_gcs(now_s, v)
        self._check_leak(now_s, v)
        self._check_battery(now_s, voltage_v, consumed_mah, v)

    def _check_pilot(self, now_s: float, v: FailsafeActions) -> None:
        action = int(v.param("FS_PILOT_INPUT"))
        timeout_s = v.param("FS_PILOT_TIMEOUT")
        last = self.last_pilot_input_s
        if action == FS_PILOT_DISABLED or (last is not None and now_s - last < timeout_s):
            self.pilot_input = False
            return
        if not v.is_armed() or self.pilot_input:
            return
        self.pilot_input = True
        v.neutral_pilot_input()
        v.send_text(M.MAV_SEVERITY_CRITICAL, "Lost manual control")
        if action == FS_PILOT_DISARM:
            v.disarm_from_failsafe()

    def _check_gcs(self, now_s: float, v: FailsafeActions) -> None:
        action = int(v.param("FS_GCS_ENABLE"))
        last = self.last_gcs_seen_s
        if action == FS_GCS_DISABLED or last is None or now_s - last < v.param("FS_GCS_TIMEOUT"):
            if self.gcs and last is not None:
                v.send_text(M.MAV_SEVERITY_INFO, "GCS Failsafe Cleared")
            self.gcs = False
            return
        if not v.is_armed():
            return
        if self.gcs:
            if action == FS_GCS_WARN and now_s - self._last_gcs_text_s > GCS_WARN_PERIOD_S:
                self._last_gcs_text_s = now_s
                v.send_text(M.MAV_SEVERITY_WARNING, "GCS Failsafe")
            return
        self.gcs = True
        self._last_gcs_text_s = now_s
        v.send_text(M.MAV_SEVERITY_WARNING, "GCS Failsafe")
        if action == FS_GCS_DISARM:
            v.disarm_from_failsafe()
        elif action == FS_GCS_HOLD:
            v.set_mode_from_failsafe(Mode.ALT_HOLD)
        elif action == FS_GCS_SURFACE:
            v.set_mode_from_failsafe(Mode.SURFACE)

    def _check_leak(self, now_s: float, v: FailsafeActions) -> None:
        action = int(v.param("FS_LEAK_ENABLE"))
        if not self.leak_detected or action == FS_LEAK_DISABLED:
            self.leak = False
            return
        first = not self.leak
        self.leak = True
        if now_s - self._last_leak_text_s >= LEAK_TEXT_PERIOD_S:
            self._last_leak_text_s = now_s
            v.send_text(M.MAV_SEVERITY_CRITICAL, "Leak Detected")
        if first and action == FS_LEAK_SURFACE and v.is_armed():
            v.set_mode_from_failsafe(Mode.SURFACE)

    def _check_battery(self, now_s: float, voltage_v: float, consumed_mah: float,
                       v: FailsafeActions) -> None:
        low_v = v.param("BATT_LOW_VOLT")
        low_mah = v.param("BATT_LOW_MAH")
        capacity = v.param("BATT_CAPACITY")
        low = (low_v > 0 and voltage_v < low_v) or (low_mah > 0 and capacity - consumed_mah < low_mah)
        if not low:
            self._battery_low_since_s = None
            return
        if self._battery_low_since_s is None:
            self._battery_low_since_s = now_s
        if self.battery or now_s - self._battery_low_since_s < v.param("BATT_LOW_TIMER"):
            return
        self.battery = True
        v.send_text(M.MAV_SEVERITY_WARNING, f"Battery 1 is low {voltage_v:.2f}V used {consumed_mah:.0f} mAh")
        action = int(v.param("BATT_FS_LOW_ACT"))
        if not v.is_armed():
            return
        if action == FS_BATT_DISARM:
            v.disarm_from_failsafe()
        elif action == FS_BATT_SURFACE:
            v.set_mode_from_failsafe(Mode.SURFACE)
