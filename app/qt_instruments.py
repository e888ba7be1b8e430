"""The pilot's instruments panel: what the vehicle is doing, read at a glance in sunlight.

The main window calls update_state() from a timer (<= 20 Hz) with the newest immutable
VehicleState; the panel only sets texts and colours and repaints, so it stays cheap. When
the link is lost the last values stay on screen, greyed, under a LINK LOST banner.
Failsafes and high-severity status texts get banners above everything else, the leak
first and biggest.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from vehicle.state import VehicleState

from .battery_estimate import BatteryEstimator
from .qt_gauges import AttitudeIndicator, CompassTape, DepthStrip
from .qt_theme import big_font, colour
from .station_map import cam_tilt_deg

HEARTBEAT_STALE_S = 2.5  # older than this, the values on screen are history
HEARTBEAT_WARN_S = 1.5
LOSS_WARN_PCT = 5.0
LOSS_ALARM_PCT = 20.0
STANDOFF_WARN_M = 0.5
STANDOFF_ALARM_M = 0.3
BATTERY_WARN_PCT = 30.0
BATTERY_ALARM_PCT = 15.0
TIME_LEFT_WARN_S = 20 * 60.0
TIME_LEFT_ALARM_S = 10 * 60.0
CLIMB_DEADBAND_M_S = 0.02
STATUS_TEXT_SHOW_S = 60.0  # an alert stays in its banner this long after it arrived
ESTIMATE_EVERY_S = 1.0  # the battery fit runs once a second, not at the panel's rate
FAILSAFE_NAMES = (("gcs", "GCS"), ("pilot_input", "PILOT INPUT"), ("battery", "BATTERY"), ("ekf", "EKF"))
DASH = "—"


def _fmt(value: float | None, fmt: str, unit: str = "") -> str:
    return DASH if value is None else f"{value:{fmt}}{unit}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _level(value: float | None, warn: float, alarm: float, *, below: bool = False) -> str | None:
    """'alarm' / 'warning' / 'ok' for a value against thresholds (None when unknown)."""
    if value is None:
        return None
    if below:
        return "alarm" if value < alarm else "warning" if value < warn else "ok"
    return "alarm" if value >= alarm else "warning" if value >= warn else "ok"


class QtInstruments(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._battery = BatteryEstimator()
        self._time_left_s: float | None = None
        self._estimated_at: float | None = None
        self._battery_t_s: float | None = None
        self._stale: bool | None = None
        self._roles: dict[QLabel, str | None] = {}
        self._banners: dict[QLabel, tuple[str, str] | None] = {}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        self.leak_banner = self._banner("leak_banner", "LEAK", 30)
        self.link_banner = self._banner("link_banner", "LINK LOST", 20)
        self.failsafe_banner = self._banner("failsafe_banner", "", 16)
        self.text_banner = self._banner("text_banner", "", 13)
        for b in (self.leak_banner, self.link_banner, self.failsafe_banner, self.text_banner):
            outer.addWidget(b)
        # the link's own health is live even while the link is lost, so it is never greyed
        link_row = QHBoxLayout()
        self.heartbeat = self._value("heartbeat_value")
        self.loss = self._value("loss_value")
        link_row.addWidget(self.heartbeat, 1)
        link_row.addWidget(self.loss, 1)
        outer.addLayout(link_row)

        self.values = QWidget(self)
        grid = QGridLayout(self.values)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        outer.addWidget(self.values)
        outer.addStretch(1)

        self.mode = self._value("mode_value", big=26)
        self.armed = self._value("armed_value", big=26)
        grid.addWidget(self.mode, 0, 0)
        grid.addWidget(self.armed, 0, 1)
        self.system_status = self._value("system_status_value")
        self.ekf = self._value("ekf_value")
        grid.addWidget(self.system_status, 1, 0)
        grid.addWidget(self.ekf, 1, 1)
        self.position_warning = self._value("position_warning", text="no position estimate: GUIDED/AUTO unavailable")
        self.position_warning.setWordWrap(True)
        grid.addWidget(self.position_warning, 2, 0, 1, 2)

        depth_box = QVBoxLayout()
        depth_box.addWidget(self._caption("Depth"))
        self.depth = self._value("depth_value", big=28)
        self.climb = self._value("climb_value")
        depth_box.addWidget(self.depth)
        depth_box.addWidget(self.climb)
        grid.addLayout(depth_box, 3, 0)
        self.depth_strip = DepthStrip(self.values)
        grid.addWidget(self.depth_strip, 3, 1)

        self.compass = CompassTape(self.values)
        grid.addWidget(self.compass, 4, 0, 1, 2)

        self.attitude = AttitudeIndicator(self.values)
        grid.addWidget(self.attitude, 5, 0)
        side = QVBoxLayout()
        side.addWidget(self._caption("Standoff to hull"))
        self.standoff = self._value("standoff_value", big=26)
        side.addWidget(self.standoff)
        self.roll_pitch = self._value("roll_pitch_value")
        side.addWidget(self.roll_pitch)
        self.cam_tilt = self._value("cam_tilt_value")
        side.addWidget(self.cam_tilt)
        side.addStretch(1)
        grid.addLayout(side, 5, 1)

        grid.addWidget(self._caption("Battery"), 6, 0, 1, 2)
        batt = QHBoxLayout()
        self.voltage = self._value("voltage_value", big=18)
        self.remaining = self._value("remaining_value", big=18)
        self.current = self._value("current_value", big=18)
        for w in (self.voltage, self.remaining, self.current):
            batt.addWidget(w)
        grid.addLayout(batt, 7, 0, 1, 2)
        self.time_left = self._value("time_left_value")
        grid.addWidget(self.time_left, 8, 0, 1, 2)

        self.lights = self._value("lights_value")
        self.gain = self._value("gain_value")
        grid.addWidget(self.lights, 9, 0)
        grid.addWidget(self.gain, 9, 1)
        self.water_temp = self._value("water_temp_value")
        grid.addWidget(self.water_temp, 10, 0, 1, 2)
        self.update_state(VehicleState(), 0.0, 0.0)

    # --- building -------------------------------------------------------------------
    def _banner(self, name: str, text: str, point_size: int) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setAlignment(Qt.AlignCenter)
        label.setFont(big_font(self.font(), point_size))
        label.setWordWrap(True)
        label.setAutoFillBackground(True)
        label.setMinimumHeight(44)
        label.hide()
        return label

    def _value(self, name: str, *, big: int | None = None, text: str = DASH) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        if big is not None:
            label.setFont(big_font(self.font(), big))
        self._colour(label, None)
        return label

    def _caption(self, text: str) -> QLabel:
        return QLabel(text, self)

    def _set_banner(self, label: QLabel, text: str | None, role: str = "alarm") -> None:
        shown = (text, role) if text else None
        if self._banners.get(label, False) == shown:
            return
        self._banners[label] = shown
        if shown is None:
            label.hide()
            return
        label.setText(text)
        pal = QPalette()
        pal.setColor(QPalette.Window, colour(role))
        # white reads best on red, black on amber
        pal.setColor(QPalette.WindowText, QColor(0, 0, 0) if role == "warning" else QColor(255, 255, 255))
        label.setPalette(pal)
        label.show()

    def _colour(self, label: QLabel, role: str | None) -> None:
        """Text in a status colour (None: the palette's); greyed whenever the panel is
        disabled, i.e. the link is lost."""
        if label in self._roles and self._roles[label] == role:
            return
        self._roles[label] = role
        pal = QPalette()
        if role is not None:
            for group in (QPalette.Active, QPalette.Inactive):
                pal.setColor(group, QPalette.WindowText, colour(role))
        pal.setColor(QPalette.Disabled, QPalette.WindowText, colour("stale"))
        label.setPalette(pal)

    def _show(self, label: QLabel, text: str, role: str | None = None) -> None:
        if label.text() != text:
            label.setText(text)
        self._colour(label, role)

    # --- the slot -------------------------------------------------------------------
    def update_state(self, state: VehicleState, now_s: float, link_loss_pct: float,
                     standoff_m: float | None = None) -> None:
        age = state.heartbeat_age_s(now_s)
        stale = not state.link_ok or age is None or age > HEARTBEAT_STALE_S
        self._set_stale(stale, state.last_heartbeat_s is not None)

        self._show(self.mode, state.mode or DASH)
        self._show(self.armed, "ARMED" if state.armed else "DISARMED", "alarm" if state.armed else None)
        critical = state.system_status in ("CRITICAL", "EMERGENCY")
        self._show(self.system_status, f"status {state.system_status or DASH}", "alarm" if critical else None)
        self._show_ekf(state)

        self._show(self.depth, _fmt(state.depth_m, ".2f", " m"))
        climb = state.depth.climb_m_s
        arrow = "" if climb is None or abs(climb) < CLIMB_DEADBAND_M_S else ("↑ " if climb > 0 else "↓ ")
        self._show(self.climb, f"{arrow}{_fmt(None if climb is None else abs(climb), '.2f', ' m/s')}")
        self.depth_strip.add(now_s, state.depth_m)
        self.compass.set_heading(state.heading_deg)
        att_known = state.attitude.t_s is not None
        self.attitude.set_attitude(state.attitude.roll_deg if att_known else None,
                                   state.attitude.pitch_deg if att_known else None)
        self._show(self.roll_pitch, f"roll {state.attitude.roll_deg:+.1f}°  pitch {state.attitude.pitch_deg:+.1f}°"
                   if att_known else f"roll {DASH}  pitch {DASH}")
        near = standoff_m is not None and standoff_m < STANDOFF_WARN_M
        self._show(self.standoff, _fmt(standoff_m, ".2f", " m"),
                   _level(standoff_m, STANDOFF_WARN_M, STANDOFF_ALARM_M, below=True) if near else None)
        tilt = state.cam_tilt
        self._show(self.cam_tilt, f"camera tilt {_fmt(None if tilt is None else cam_tilt_deg(tilt), '+.0f', '°')}")

        self._show_battery(state, now_s)
        self._show(self.heartbeat, f"heartbeat {_fmt(age, '.1f', ' s')}",
                   _level(age, HEARTBEAT_WARN_S, HEARTBEAT_STALE_S) if age is not None else "alarm")
        self._show(self.loss, f"link loss {link_loss_pct:.1f} %", _level(link_loss_pct, LOSS_WARN_PCT, LOSS_ALARM_PCT))
        lights, gain = state.lights1, state.pilot_gain
        self._show(self.lights, f"lights {_fmt(None if lights is None else lights * 100, '.0f', ' %')}")
        self._show(self.gain, f"pilot gain {_fmt(None if gain is None else gain * 100, '.0f', ' %')}")
        temp = state.depth.water_temp_c
        self.water_temp.setVisible(temp is not None)
        self._show(self.water_temp, f"water {_fmt(temp, '.1f', ' °C')}")
        self._show_banners(state, now_s)

    def _set_stale(self, stale: bool, ever_heard: bool) -> None:
        self._set_banner(self.link_banner, ("LINK LOST" if ever_heard else "NO LINK: waiting for the vehicle")
                         if stale else None)
        if stale == self._stale:
            return
        self._stale = stale
        self.values.setEnabled(not stale)  # labels take the Disabled (stale grey) colours
        for gauge in (self.compass, self.attitude, self.depth_strip):
            gauge.set_stale(stale)

    def _show_ekf(self, state: VehicleState) -> None:
        e = state.ekf
        if e.t_s is None:
            self._show(self.ekf, f"EKF {DASH}")
        else:
            missing = [n for n, ok in (("att", e.attitude_ok), ("vel", e.velocity_ok),
                                       ("pos", e.position_rel_ok or e.position_abs_ok)) if not ok]
            self._show(self.ekf, "EKF no " + ", ".join(missing) if missing else "EKF ok",
                       "warning" if missing or e.const_pos_mode else "ok")
        self.position_warning.setVisible(not state.has_position)
        self._colour(self.position_warning, "warning")

    def _show_battery(self, state: VehicleState, now_s: float) -> None:
        b = state.battery
        if b.t_s is not None and b.t_s != self._battery_t_s:  # the panel runs faster than BATTERY_STATUS
            self._battery_t_s = b.t_s
            self._battery.add(b.t_s, b.remaining_pct, b.consumed_mah, b.current_a)
        if self._estimated_at is None or not 0.0 <= now_s - self._estimated_at < ESTIMATE_EVERY_S:
            self._estimated_at = now_s
            self._time_left_s = self._battery.time_left_s()
        self._show(self.voltage, _fmt(b.voltage_v, ".2f", " V"))
        self._show(self.remaining, _fmt(b.remaining_pct, ".0f", " %"),
                   _level(b.remaining_pct, BATTERY_WARN_PCT, BATTERY_ALARM_PCT, below=True))
        self._show(self.current, _fmt(b.current_a, ".1f", " A"))
        self._show(self.time_left, f"time left {format_duration(self._time_left_s)}",
                   _level(self._time_left_s, TIME_LEFT_WARN_S, TIME_LEFT_ALARM_S, below=True))

    def time_left_s(self) -> float | None:
        return self._time_left_s

    def _show_banners(self, state: VehicleState, now_s: float) -> None:
        fs = state.failsafes
        self._set_banner(self.leak_banner, "LEAK" if fs.leak else None)
        active = [name for key, name in FAILSAFE_NAMES if getattr(fs, key)]
        self._set_banner(self.failsafe_banner, "FAILSAFE: " + ", ".join(active) if active else None)
        alert = next((t for t in reversed(state.status_texts) if t.is_alert), None)
        if alert is not None and 0.0 <= now_s - alert.t_s <= STATUS_TEXT_SHOW_S:
            self._set_banner(self.text_banner, alert.text, "alarm" if alert.severity <= 2 else "warning")
        else:
            self._set_banner(self.text_banner, None)
