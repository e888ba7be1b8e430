"""The instruments panel fed by a simulated ArduSub vehicle on loopback (as the main window
feeds it, from a 20 Hz QTimer), checked on what it draws; the painted gauges checked on
their pixels; the battery estimator on the sim's own battery model."""
from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from app.battery_estimate import BatteryEstimator
from app.qt_gauges import GROUND, SKY, AttitudeIndicator, CompassTape
from app.qt_instruments import QtInstruments
from app.qt_theme import apply_theme, colour
from sim.dynamics import Battery
from tests.vehicle.sim_fixtures import sim_and_station

PANEL_HZ = 20


@pytest.fixture(autouse=True)
def day_theme(qapp):
    apply_theme(qapp, "day")  # black on white: text pixels are easy to tell from the background


def rgb(image: QImage, rect=None) -> np.ndarray:
    """H x W x 3 uint8 RGB of a grabbed image (or of rect in it)."""
    img = image.convertToFormat(QImage.Format_RGB32)
    if rect is not None:
        img = img.copy(rect.toRect() if hasattr(rect, "toRect") else rect)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return a[:, :img.width(), 2::-1].copy()


def count_near(pixels: np.ndarray, qcolor, tol: int = 30) -> int:
    want = np.array([qcolor.red(), qcolor.green(), qcolor.blue()], int)
    return int(np.sum(np.all(np.abs(pixels.astype(int) - want) <= tol, axis=-1)))


def text_ink(label: QLabel) -> np.ndarray:
    """The darkest pixel of a label on the white day background: its text colour."""
    px = rgb(label.grab().toImage()).reshape(-1, 3).astype(int)
    return px[np.argmin(px.sum(axis=1))]


def label(panel: QtInstruments, name: str) -> QLabel:
    found = panel.findChild(QLabel, name)
    assert found is not None, name
    return found


class Feed:
    """What the main window does: a QTimer handing the newest state to the panel."""

    def __init__(self, panel, vehicle, standoff_m=None):
        self.standoff_m = standoff_m
        self.timer = QTimer(panel)
        self.timer.timeout.connect(
            lambda: panel.update_state(vehicle.state, vehicle.now_s(), vehicle.link_loss_pct(), self.standoff_m))
        self.timer.start(1000 // PANEL_HZ)


def make_panel(qtbot, width=460) -> QtInstruments:
    panel = QtInstruments()
    qtbot.addWidget(panel)
    panel.resize(width, 900)
    panel.show()
    return panel


@pytest.mark.timeout(90)
def test_panel_shows_the_vehicle_diving_turning_and_armed(qtbot):
    with sim_and_station() as (sim, v):
        panel = make_panel(qtbot)
        feed = Feed(panel, v, standoff_m=0.8)
        qtbot.waitUntil(lambda: label(panel, "mode_value").text() == "MANUAL", timeout=5000)
        assert label(panel, "armed_value").text() == "DISARMED"
        assert panel.link_banner.isHidden()
        v.manual.keep_alive(True)
        v.arm()
        qtbot.waitUntil(lambda: label(panel, "armed_value").text() == "ARMED", timeout=3000)
        assert count_near(rgb(label(panel, "armed_value").grab().toImage()), colour("alarm")) > 50
        v.set_mode("GUIDED")
        v.goto_local_ned(0.0, 0.0, 1.5, yaw_deg=90.0)
        v.wait_for(lambda s: s.depth_m is not None and abs(s.depth_m - 1.5) < 0.15
                   and s.heading_deg is not None and abs(s.heading_deg - 90.0) < 3.0, 40, "1.5 m, heading 90")
        qtbot.wait(300)
        feed.timer.stop()
        state = v.state
        panel.update_state(state, v.now_s(), v.link_loss_pct(), 0.42)
        truth = sim.truth()
        assert label(panel, "mode_value").text() == "GUIDED"
        assert label(panel, "depth_value").text() == f"{state.depth_m:.2f} m"
        assert abs(float(label(panel, "depth_value").text().split()[0]) - truth.depth_m) < 0.2
        assert panel.compass.heading() == pytest.approx(state.heading_deg % 360.0)
        assert panel.compass.box_text() == f"{round(state.heading_deg) % 360:03d}°"
        assert abs(math.degrees(truth.heading_rad) % 360.0 - panel.compass.heading()) < 4.0
        depths = [d for _, d in panel.depth_strip.points()]
        assert min(depths) < 0.5 and abs(depths[-1] - state.depth_m) < 0.05  # the dive is on the strip
        # standoff 0.42 m is amber
        assert count_near(rgb(label(panel, "standoff_value").grab().toImage()), colour("warning")) > 40
        panel.update_state(state, v.now_s(), v.link_loss_pct(), 0.25)
        assert count_near(rgb(label(panel, "standoff_value").grab().toImage()), colour("alarm")) > 40
        panel.update_state(state, v.now_s(), v.link_loss_pct(), None)
        assert label(panel, "standoff_value").text() == "—"
        assert label(panel, "cam_tilt_value").text() == "camera tilt +0°"  # CamTilt 0.5: level
        assert label(panel, "gain_value").text() == f"pilot gain {state.pilot_gain * 100:.0f} %"
        assert label(panel, "water_temp_value").text() == f"water {state.depth.water_temp_c:.1f} °C"
        assert label(panel, "ekf_value").text() == "EKF ok" and panel.position_warning.isHidden()


def test_leak_failsafe_shows_the_leak_banner(qtbot):
    with sim_and_station() as (sim, v):
        panel = make_panel(qtbot)
        Feed(panel, v)
        qtbot.waitUntil(lambda: label(panel, "mode_value").text() == "MANUAL", timeout=5000)
        assert panel.leak_banner.isHidden()
        sim.inject_leak()
        qtbot.waitUntil(lambda: panel.leak_banner.isVisible(), timeout=5000)
        banner = rgb(panel.leak_banner.grab().toImage())
        assert panel.leak_banner.text() == "LEAK"
        assert count_near(banner, colour("alarm"), 10) > 0.6 * banner.shape[0] * banner.shape[1]
        # the banner sits above every value
        assert panel.leak_banner.geometry().bottom() < panel.values.geometry().top()
        alert = next(t for t in reversed(v.state.status_texts) if t.is_alert)
        qtbot.waitUntil(lambda: panel.text_banner.isVisible(), timeout=2000)
        assert panel.text_banner.text() == alert.text


def test_pilot_input_failsafe_banner_and_missing_position_warning(qtbot):
    params = {"FS_PILOT_INPUT": 1, "FS_PILOT_TIMEOUT": 0.5, "FS_GCS_ENABLE": 0}  # warn only, stay armed
    with sim_and_station(position_estimate=False, params=params) as (sim, v):
        panel = make_panel(qtbot)
        Feed(panel, v)
        qtbot.waitUntil(lambda: label(panel, "ekf_value").text() != "EKF —", timeout=5000)
        assert label(panel, "ekf_value").text() == "EKF no vel, pos"
        assert panel.position_warning.isVisible()
        assert count_near(rgb(panel.position_warning.grab().toImage()), colour("warning")) > 40
        assert panel.failsafe_banner.isHidden()
        v.arm()  # and no joystick input follows
        qtbot.waitUntil(lambda: panel.failsafe_banner.isVisible(), timeout=5000)
        assert panel.failsafe_banner.text() == "FAILSAFE: PILOT INPUT"
        assert panel.leak_banner.isHidden()
        assert panel.text_banner.text() == "Lost manual control"  # CRITICAL: severity 2


def test_link_loss_greys_values_and_recovery_clears_the_banner(qtbot):
    with sim_and_station() as (sim, v):
        panel = make_panel(qtbot)
        Feed(panel, v)
        qtbot.waitUntil(lambda: label(panel, "depth_value").text() != "—", timeout=5000)
        depth = label(panel, "depth_value")
        assert text_ink(depth).max() < 60  # black while live
        sim.faults.link_down = True
        t0 = time.monotonic()
        qtbot.waitUntil(lambda: panel.link_banner.isVisible(), timeout=4000)
        assert time.monotonic() - t0 < 3.5
        assert panel.link_banner.text() == "LINK LOST"
        shown = depth.text()
        assert shown != "—"  # the last value stays
        ink = text_ink(depth)
        assert 100 <= ink.min() and ink.max() <= 150 and np.ptp(ink) < 12  # stale grey
        assert count_near(rgb(panel.compass.grab().toImage()), colour("stale"), 8) > 20
        assert count_near(rgb(panel.compass.grab().toImage()), panel.palette().windowText().color(), 30) == 0
        sim.faults.link_down = False
        qtbot.waitUntil(lambda: panel.link_banner.isHidden(), timeout=5000)
        assert text_ink(depth).max() < 60


def test_compass_tape_puts_the_heading_label_under_the_centre_marker(qtbot):
    tape = CompassTape()
    qtbot.addWidget(tape)
    tape.resize(480, 84)  # 4 px per degree: labels land on whole pixels wherever they are
    tape.show()

    def crop_at(heading: float, bearing: float) -> np.ndarray:
        tape.set_heading(heading)
        return rgb(tape.grab().toImage(), tape.label_rect(tape.x_of(bearing)))

    centre = tape.width() / 2.0
    tape.set_heading(90.0)
    assert tape.x_of(90.0) == centre
    e_centre = crop_at(90.0, 90.0)
    assert e_centre.min() < 60  # something is written there
    e_left = crop_at(60.0, 90.0)
    assert tape.x_of(90.0) == centre + 30 * tape.px_per_deg()
    assert np.abs(e_centre.astype(int) - e_left.astype(int)).max() < 40  # the same "E"
    n_centre = crop_at(0.0, 0.0)
    assert np.abs(e_centre.astype(int) - n_centre.astype(int)).max() > 150  # "N" is not "E"
    number = crop_at(250.0, 240.0)
    assert np.abs(number.astype(int) - e_centre.astype(int)).max() > 150
    assert tape.box_text() == "250°"
    tape.set_heading(359.6)
    assert tape.box_text() == "000°"


def test_attitude_indicator_moves_the_horizon_with_pitch_and_roll(qtbot):
    gauge = AttitudeIndicator()
    qtbot.addWidget(gauge)
    gauge.resize(200, 200)
    gauge.show()

    def at(x: float, y: float):
        return gauge.grab().toImage().pixelColor(int(x), int(y))

    def near(c, want, tol=20):
        return all(abs(a - b) <= tol for a, b in zip(c.getRgb()[:3], want.getRgb()[:3]))

    gauge.set_attitude(0.0, 0.0)
    assert near(at(150, 80), SKY) and near(at(150, 120), GROUND)
    gauge.set_attitude(0.0, 10.0)  # nose up: the horizon drops by 10 deg of scale
    drop = 10.0 * gauge.px_per_pitch_deg()
    assert gauge.horizon_point(0).y() == pytest.approx(100 + drop)
    assert near(at(150, 100 + drop - 6), SKY) and near(at(150, 100 + drop + 6), GROUND)
    assert near(at(150, 100 + drop / 2), SKY)  # was ground when level
    gauge.set_attitude(30.0, 0.0)  # right wing down: the horizon rises on the right
    right = gauge.horizon_point(60)
    assert right.y() < 100 - 25
    assert near(at(right.x(), right.y() - 6), SKY) and near(at(right.x(), right.y() + 6), GROUND)
    assert near(at(right.x(), 100 - 10), GROUND)  # level-horizon sky is ground now


@pytest.mark.timeout(120)
def test_panel_estimates_time_left_from_the_vehicles_battery(qtbot):
    # a 60 mAh "pack" drains a percent every couple of seconds at the sim's idle current,
    # so the estimator has its history in half a minute instead of an hour
    with sim_and_station(params={"BATT_CAPACITY": 60}) as (sim, v):
        panel = make_panel(qtbot)
        Feed(panel, v)
        qtbot.waitUntil(lambda: label(panel, "remaining_value").text() != "—", timeout=5000)
        assert panel.time_left_s() is None
        qtbot.waitUntil(lambda: panel.time_left_s() is not None, timeout=60000)
        qtbot.wait(1200)
        b = sim.truth()
        truth_s = b.battery_remaining_pct / 100.0 * 60.0 / (b.battery_current_a / 3.6)
        assert panel.time_left_s() == pytest.approx(truth_s, rel=0.1)
        assert label(panel, "time_left_value").text().startswith("time left ")
        assert "min" in label(panel, "time_left_value").text()


# --- BatteryEstimator on the sim's battery model, quantised as BATTERY_STATUS carries it ---

def drain(minutes: float, command: float, *, start: float = 1.0, feed: str = "mah", rate_hz: float = 4.0,
          est: BatteryEstimator | None = None, battery: Battery | None = None, t0: float = 0.0):
    battery = battery or Battery(18000.0)
    if battery.consumed_mah == 0.0:
        battery.set_remaining_fraction(start)
    est = est or BatteryEstimator()
    cmd = np.full(6, command)
    dt, t, next_sample = 0.1, t0, t0
    while t < t0 + minutes * 60.0 - 1e-9:
        battery.step(cmd, 0.0, dt)
        t += dt
        if t >= next_sample:
            next_sample += 1.0 / rate_hz
            pct = float(round(100.0 * battery.remaining_fraction))
            current = int(battery.current_a * 100) / 100.0
            mah = float(int(battery.consumed_mah))
            est.add(t, pct, mah if feed == "mah" else None, None if feed == "pct" else current)
    truth = (battery.capacity_mah - battery.consumed_mah) / (battery.current_a / 3.6)
    return est, battery, truth, t


@pytest.mark.parametrize("feed", ["mah", "current", "pct"])
@pytest.mark.parametrize("command", [0.3, 0.6])
def test_battery_steady_drain_time_left_within_5_percent(feed, command):
    est, _, truth, _ = drain(1.0, command, feed=feed)
    assert est.time_left_s() is None  # a minute is not enough to see a percent step or two
    est, _, truth, _ = drain(12.0, command, feed=feed, start=0.8)
    assert est.time_left_s() == pytest.approx(truth, rel=0.05)


def test_battery_estimate_follows_a_change_of_drain():
    est, battery, _, t = drain(10.0, 0.3, start=0.9)
    est, battery, truth, _ = drain(4.0, 0.7, est=est, battery=battery, t0=t)
    assert est.time_left_s() == pytest.approx(truth, rel=0.05)


def test_battery_noise_never_gives_negative_or_infinite():
    rng = random.Random(7)
    est = BatteryEstimator()
    mah, pct = 0.0, 62.0
    seen = []
    for i in range(3600):
        t = i * 0.5
        current = max(0.0, 3.0 + rng.gauss(0.0, 4.0))  # wildly noisy current sensor
        mah += current * 0.5 / 3.6 + rng.gauss(0.0, 2.0)  # and consumed that jitters back and forth
        pct_shown = pct - mah / 180.0 + rng.choice((-1, 0, 0, 1))  # voltage-based % bouncing
        sample = (round(pct_shown) if rng.random() > 0.05 else None, max(0.0, mah) if rng.random() > 0.05 else None,
                  current if rng.random() > 0.05 else float("nan"))
        est.add(t, *sample)
        left = est.time_left_s()
        assert left is None or (math.isfinite(left) and left >= 0.0)
        seen.append(left)
    assert any(s is not None for s in seen)


def test_battery_no_drain_and_fresh_pack_give_none():
    est = BatteryEstimator()
    for i in range(600):
        est.add(float(i), 55.0, 1000.0, 0.0)  # nothing is drawn: time left is unknown, not infinite
    assert est.time_left_s() is None
    est, battery, _, t = drain(12.0, 0.6, start=0.5)
    assert est.time_left_s() is not None
    est.add(t + 1.0, 100.0, 0.0, 1.2)  # a charged pack after a reboot: the old history is gone
    assert est.time_left_s() is None
    for bad in (float("inf"), float("nan")):
        est.add(bad, 50.0, 10.0, 1.0)
        est.add(t + 2.0, bad, bad, bad)
    assert est.time_left_s() is None
