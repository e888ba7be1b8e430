"""Ping360 sector scans into live detection: the simulated Ping360 (the embedded world's
ship, ping protocol on loopback UDP) scanned by the station's client, turned into fan
images, and detected by the real pipeline with a real (tiny, biased) ONNX model."""
from __future__ import annotations

import math
import socket
import time

import numpy as np
import pytest

from sim.embedded_world import STANDOFF_M, build_world
from sim.ping360_render import Ping360Renderer
from sim.ping360_server import Ping360Server
from tests.vision.biased_models import biased_model
from tests.vision.test_onnx_detector import tiny  # noqa: F401  (fixture)
from vision.classes import CLASSES
from vision.detect.ping360_feed import (
    Ping360Feeder,
    Ping360SectorReader,
    ping360_frame_in,
    ping360_scan_to_ping,
    sector_angles_grad,
)
from vision.sonar.fan import FanImage, fan_image
from vision.sonar.ping360_client import Ping360Client, Ping360Scan

# The vehicle where the embedded world starts it (the ship's starboard side STANDOFF_M
# north), 3 m deep, but yawed 20 deg to starboard: the hull's normal is then 20 deg to
# port, so the echo range differs between port and starboard bearings and a bearing sign
# error cannot hide behind the symmetry.
DEPTH_M = 3.0
HEADING_DEG = 20.0
RANGE_M = 8.0
SAMPLES = 200
ECHO_LEVEL = 40  # samples at or above this are echo (the noise floor stays below ~20 here)


@pytest.fixture(scope="module")
def ship():
    return build_world()


@pytest.fixture(scope="module")
def renderer(ship):
    return Ping360Renderer(ship.world.sonar_scene)


def sonar_pose(ship):
    return ship.world.sensor_pose((0.0, 0.0, DEPTH_M), (0.0, 0.0, math.radians(HEADING_DEG)), 0.0)


def start_device(ship, renderer, port=0, seed=0) -> Ping360Server:
    pose = sonar_pose(ship)
    rng = np.random.default_rng(seed)
    return Ping360Server(lambda req: renderer.render(pose.position_h, pose.forward_h, pose.up_h, req, rng),
                         port=port).start()


@pytest.fixture
def device(ship, renderer):
    server = start_device(ship, renderer)
    yield server
    server.stop()


@pytest.fixture
def sonar(device):
    client = Ping360Client("127.0.0.1", device.port).connect()
    client.configure(range_m=RANGE_M, number_of_samples=SAMPLES)
    yield client
    client.close()


@pytest.fixture
def detector(tiny, tmp_path_factory):  # noqa: F811
    from vision.detect import OnnxDetector

    return OnnxDetector(biased_model(tiny, tmp_path_factory, 12.0)[0], expected_classes=CLASSES)


def hull_range_m(ship, bearing_deg: float) -> float | None:
    """Truth: distance from the sonar to the hull along a level beam at bearing_deg."""
    pose = sonar_pose(ship)
    a = math.radians(HEADING_DEG + bearing_deg)
    d_h = ship.world.ned_dir_to_h([math.cos(a), math.sin(a), 0.0])
    hits = ship.model.queries.cast_rays(pose.position_h[None, :], d_h[None, :])
    return float(hits.t_m[0]) if hits.hit[0] else None


def fan_echo_m(fan: FanImage, bearing_deg: float) -> float | None:
    """Where the echo starts along bearing_deg in the fan image: its first pixel >= ECHO_LEVEL."""
    r = np.arange(0.2, fan.max_range_m, fan.metres_per_pixel / 2)
    x, y = fan.polar_to_pixel(r, np.full_like(r, bearing_deg))
    values = fan.image[np.round(y).astype(int), np.round(x).astype(int)]
    above = np.flatnonzero(values >= ECHO_LEVEL)
    return float(r[above[0]]) if len(above) else None


def raw_echo_m(row: np.ndarray, range_resolution_m: float) -> float | None:
    """The same in a scan row, placed as the fan places samples (sample i at i * dr)."""
    above = np.flatnonzero(row >= ECHO_LEVEL)
    return float(above[0] * range_resolution_m) if len(above) else None


def drawn_fan_mask(fan: FanImage) -> np.ndarray:
    """The pixels a ping of this geometry draws: the fan of an all-bright ping."""
    from vision.sonar.oculus import SonarPing

    n_ranges = int(round(fan.max_range_m / fan.range_resolution_m)) + 1
    bright = SonarPing(0, 750e3, fan.max_range_m, fan.range_resolution_m, 1500.0, 0.0, fan.bearings_deg,
                       np.full((n_ranges, len(fan.bearings_deg)), 255, np.uint8))
    return fan_image(bright, width_px=fan.width_px, height_px=fan.height_px).image > 0


def make_scan(angles, samples=50, t0=100.0) -> Ping360Scan:
    n = len(angles)
    inten = (np.arange(n * samples) % 251).astype(np.uint8).reshape(n, samples)
    return Ping360Scan(np.asarray(angles, np.int32), inten, t0 + 0.01 * np.arange(n), 0.05, 1, 750e3, 1500.0)


@pytest.mark.timeout(30)
def test_sector_across_zero_is_contiguous_and_the_hull_lands_at_its_range_and_bearing(ship, sonar):
    scan = sonar.scan(-30, 30, 3)  # 370 grad (-27 deg) .. 30 grad (+27 deg): across 0
    assert list(scan.angles_grad[:11]) == [370, 373, 376, 379, 382, 385, 388, 391, 394, 397, 0]
    ping = ping360_scan_to_ping(scan, ping_id=7)
    assert np.allclose(ping.bearings_deg, np.linspace(-27.0, 27.0, 21))  # increasing, no jump at 0
    assert ping.intensities.shape == (SAMPLES, 21) and ping.intensities.dtype == np.uint8
    for k, row in enumerate(scan.intensities):  # beam k of the ping is the scan's row at that bearing
        assert np.array_equal(ping.intensities[:, k], row)
    assert ping.t_s == scan.t_s[-1] and ping.source == "ping360" and ping.ping_id == 7
    assert ping.range_resolution_m == scan.range_resolution_m
    assert ping.range_m == pytest.approx(RANGE_M, rel=0.01)

    frame = ping360_frame_in((640, 360))(scan)
    fan = frame.meta
    assert isinstance(fan, FanImage) and frame.image is fan.image and frame.t_s == scan.t_s[-1]
    assert fan.image.shape == (360, 640) and np.array_equal(fan.bearings_deg, ping.bearings_deg)

    compared, fan_echoes = [], {}
    for bearing, row in zip(ping.bearings_deg, ping.intensities.T):
        got = fan_echo_m(fan, bearing)
        raw = raw_echo_m(row, ping.range_resolution_m)
        if raw is None or row.max() < 2 * ECHO_LEVEL:  # a glancing beam: too weak to place its echo
            continue
        fan_echoes[float(bearing)] = got
        # the fan draws each beam's own samples where they belong: the linear interpolation
        # between the sample before the echo and the echo's first one can reach the level up
        # to one sample early, and the nearest-pixel lookup here adds up to a pixel or two
        assert got == pytest.approx(raw, abs=ping.range_resolution_m + 2 * fan.metres_per_pixel), bearing
        truth = hull_range_m(ship, bearing)
        if truth is not None and truth < fan.max_range_m:
            assert got == pytest.approx(truth, abs=0.3), bearing  # the hull, from the truth pose
            compared.append(float(bearing))
    assert len(compared) >= 10 and min(compared) < -20 and max(compared) > 5  # both sides of 0 grad
    # the nearest echo is the hull's normal: at the standoff, 20 deg to port (not to starboard)
    nearest = min(fan_echoes, key=fan_echoes.get)
    assert fan_echoes[nearest] == pytest.approx(STANDOFF_M, abs=0.3)
    assert -HEADING_DEG - 8 <= nearest <= -HEADING_DEG + 8

    # swept the other way (as the feeder's back-and-forth sweep does), it is the same fan
    back = Ping360Scan(scan.angles_grad[::-1], scan.intensities[::-1], scan.t_s, scan.range_resolution_m,
                       scan.gain_setting, scan.transmit_frequency_hz, scan.speed_of_sound_m_s)
    ping_back = ping360_scan_to_ping(back)
    assert np.array_equal(ping_back.bearings_deg, ping.bearings_deg)
    assert np.array_equal(ping_back.intensities, ping.intensities)


def test_scans_a_fan_cannot_show_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"full-turn Ping360 scan \(400 angles x 1 grad.*forward") as full:
        ping360_scan_to_ping(make_scan(range(400)))
    assert "(-180, +180] deg" in str(full.value)
    with pytest.raises(ValueError, match="full-turn"):
        ping360_scan_to_ping(make_scan(range(0, 400, 2)))
    with pytest.raises(ValueError, match=r"sector 150\.\.250 grad crosses astern.*forward"):
        ping360_scan_to_ping(make_scan(range(150, 251, 5)))
    with pytest.raises(ValueError, match="at least 2 angles.*got 1"):
        ping360_scan_to_ping(make_scan([0]))
    with pytest.raises(ValueError, match=r"not evenly stepped: steps of \[1, 2\] grad \(first odd one 2 -> 4"):
        ping360_scan_to_ping(make_scan([0, 1, 2, 4, 5]))
    with pytest.raises(ValueError, match="repeats angle 399"):
        ping360_scan_to_ping(make_scan([398, 399, 399, 0]))
    bad_rows = Ping360Scan(np.arange(5, dtype=np.int32), np.zeros((4, 50), np.uint8), np.zeros(5), 0.05, 1,
                           750e3, 1500.0)
    with pytest.raises(ValueError, match="5 angles but intensities of shape"):
        ping360_scan_to_ping(bad_rows)
    # the feeder's sector is checked when it is configured, with the same messages
    with pytest.raises(ValueError, match="crosses astern"):
        sector_angles_grad(150.0, 200.0)
    with pytest.raises(ValueError, match="start_deg .* must be less than stop_deg"):
        Ping360SectorReader(None, start_deg=30.0, stop_deg=-30.0)
    # what fan_image can draw: any sector within (-180, +180], wider than 180 deg too
    wide = ping360_scan_to_ping(make_scan(np.arange(-150, 151, 5) % 400))
    assert wide.bearings_deg[0] == pytest.approx(-135.0) and wide.bearings_deg[-1] == pytest.approx(135.0)
    fan = fan_image(wide, width_px=320, height_px=180)
    r, b = fan.pixel_to_polar(*np.nonzero(fan.image.T))
    assert b.min() < -130 and b.max() > 130 and r.max() <= fan.max_range_m + fan.metres_per_pixel
    assert sector_angles_grad(-60.0, 60.0)[[0, -1]].tolist() == [-67, 67]  # covers -60..+60 deg


@pytest.mark.timeout(60)
def test_ping360_sector_scans_are_detected_live_as_fan_images(ship, sonar, detector):
    from vision.detect.pipeline import DetectionPipeline
    from vision.detect.sonar_geometry import fan_detections_to_polar

    results = []
    pipe = DetectionPipeline(detector, source="sonar", on_result=results.append).start()
    feeder = Ping360Feeder(sonar, pipe, start_deg=-30.0, stop_deg=30.0, step_grad=2, fan_size=(320, 180),
                           poll_s=0.2).start()
    try:
        deadline = time.monotonic() + 20
        while len(results) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        closed = feeder.close(timeout_s=3.0)
        assert pipe.close()
    assert closed and len(results) >= 3, (len(results), feeder.last_error, pipe.stats())
    assert feeder.failed_scans == 0 and feeder.fed >= len(results) and pipe.stats().errors == 0
    dr = sonar.range_resolution_m
    times = [r.frame.t_s for r in results]
    assert times == sorted(times) and len(set(times)) == len(times)
    boxes_on_fan = 0
    for result in results:
        fan = result.frame.meta
        assert isinstance(fan, FanImage) and result.frame.image is fan.image
        assert fan.image.shape == (180, 320) and fan.image.dtype == np.uint8
        # the fan of the configured sector (-34..34 grad) and range, timed at the scan's end
        assert fan.bearings_deg[0] == pytest.approx(-30.6) and fan.bearings_deg[-1] == pytest.approx(30.6)
        assert len(fan.bearings_deg) == 35 and np.all(np.diff(fan.bearings_deg) > 0)
        assert fan.max_range_m == pytest.approx((SAMPLES - 1) * dr)
        assert 0.0 <= result.latency_s < 5.0
        # what the pipeline saw is the hull, where it is: the echo along its normal at the standoff
        assert fan_echo_m(fan, -HEADING_DEG) == pytest.approx(hull_range_m(ship, -HEADING_DEG), abs=0.3)
        det = result.detections
        polar = fan_detections_to_polar(det, fan)
        assert len(polar.range_m) == len(det)
        if len(det) == 0:
            continue
        # boxes centred on the drawn fan (the plumbing model also boxes the black corners
        # and the whole image) map back inside the scanned sector and range
        cx = np.round((det.xyxy[:, 0] + det.xyxy[:, 2]) / 2).astype(int).clip(0, fan.width_px - 1)
        cy = np.round((det.xyxy[:, 1] + det.xyxy[:, 3]) / 2).astype(int).clip(0, fan.height_px - 1)
        on_fan = drawn_fan_mask(fan)[cy, cx]
        boxes_on_fan += int(on_fan.sum())
        tol_deg = np.degrees(2 * fan.metres_per_pixel / np.maximum(polar.range_m[on_fan], 0.1))
        assert np.all(polar.bearing_deg[on_fan] >= fan.bearings_deg[0] - tol_deg)
        assert np.all(polar.bearing_deg[on_fan] <= fan.bearings_deg[-1] + tol_deg)
        assert np.all(polar.range_m[on_fan] <= fan.max_range_m + 2 * fan.metres_per_pixel)
        assert np.all((0.0 <= polar.near_range_m) & (polar.near_range_m <= polar.range_m))
    assert boxes_on_fan > 0, "the biased model found nothing on any fan"


@pytest.mark.timeout(60)
def test_feeder_rides_out_a_lost_device_and_closes_promptly(ship, renderer, detector):
    from vision.detect.pipeline import DetectionPipeline

    server = start_device(ship, renderer)
    port = server.port
    client = Ping360Client("127.0.0.1", port).connect()
    client.configure(range_m=RANGE_M, number_of_samples=SAMPLES)
    pipe = DetectionPipeline(detector, source="sonar").start()
    feeder = Ping360Feeder(client, pipe, start_deg=-10.0, stop_deg=10.0, step_grad=2, fan_size=(160, 90),
                           poll_s=0.2, retry_delay_s=0.2).start()
    silent = None
    try:
        def wait_for(cond, timeout_s=10.0):
            deadline = time.monotonic() + timeout_s
            while not cond() and time.monotonic() < deadline:
                time.sleep(0.02)
            return cond()

        assert wait_for(lambda: feeder.fed >= 1), feeder.last_error
        # the device goes away: every sector fails, is counted, and the feed keeps trying
        assert server.stop()
        assert wait_for(lambda: feeder.failed_scans >= 2)
        assert "Ping360" in feeder.last_error
        fed_during_outage = feeder.fed
        # it comes back on the same port: scans flow again through the same client
        server = start_device(ship, renderer, port=port, seed=1)
        assert wait_for(lambda: feeder.fed >= fed_during_outage + 2), feeder.last_error
        assert pipe.stats().errors == 0
        # now something silent holds the port (no answer, no ICMP error): a ping waits out the
        # client's 4 s, and closing must not
        assert server.stop()
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", port))
        silent.settimeout(5.0)
        silent.recvfrom(4096)  # a ping is now waiting for an answer that will not come
        time.sleep(0.2)
        t0 = time.monotonic()
        assert feeder.close(timeout_s=2.0)
        assert time.monotonic() - t0 < 1.0
    finally:
        feeder.close(timeout_s=2.0)
        assert pipe.close()
        server.stop()
        if silent is not None:
            silent.close()
    assert feeder.reader.closed
