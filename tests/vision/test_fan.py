"""Fan (Cartesian) view of sonar pings: geometry, rendering, cache, box mapping."""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from vision.sonar.fan import clear_fan_cache, fan_cache_info, fan_image, polar_box_to_fan
from vision.sonar.oculus import SonarPing, parse_oculus_ping

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
RAW = DATA / "sonar_oculus" / "one_ping_8bit.raw"


@pytest.fixture(scope="module")
def real_ping() -> SonarPing:
    if not RAW.exists():
        pytest.skip(f"real Oculus ping not available ({RAW} absent: ../shared/data is beside the checkout in CI)")
    return parse_oculus_ping(RAW.read_bytes())


def _ping_with_bin(row: int, beam: int, n_ranges=200, n_beams=128, res=0.01, half_deg=30.0) -> SonarPing:
    img = np.zeros((n_ranges, n_beams), np.uint8)
    img[row, beam] = 255
    return SonarPing(ping_id=1, frequency_hz=2.1e6, range_m=n_ranges * res, range_resolution_m=res,
                     speed_of_sound_m_s=1500.0, gain_percent=50.0,
                     bearings_deg=np.linspace(-half_deg, half_deg, n_beams), intensities=img)


@pytest.mark.parametrize("row,beam", [(150, 100), (60, 10), (120, 64)])
def test_single_bin_maps_to_its_pixel_and_back(row, beam):
    ping = _ping_with_bin(row, beam)
    fan = fan_image(ping)
    r, b = ping.ranges_m[row], ping.bearings_deg[beam]
    y, x = np.unravel_index(np.argmax(fan.image), fan.image.shape)
    ex, ey = fan.polar_to_pixel(r, b)
    assert abs(x - ex) <= 1.0 and abs(y - ey) <= 1.0
    # weighted centre of the blob is within a fraction of a pixel
    ys, xs = np.nonzero(fan.image)
    w = fan.image[ys, xs].astype(float)
    assert np.average(xs, weights=w) == pytest.approx(ex, abs=0.6)
    assert np.average(ys, weights=w) == pytest.approx(ey, abs=0.6)
    r2, b2 = fan.pixel_to_polar(ex, ey)
    assert r2 == pytest.approx(r, abs=1e-9) and b2 == pytest.approx(b, abs=1e-9)
    # starboard (+ bearing) is right of the apex, range is up
    ox, oy = fan.origin_px
    assert (x > ox) == (b > 0) or abs(b) < 1
    assert y < oy


def test_geometry_conventions():
    fan = fan_image(_ping_with_bin(0, 0))
    ox, oy = fan.origin_px
    assert oy == fan.height_px - 1 and ox == pytest.approx((fan.width_px - 1) / 2)
    x, y = fan.polar_to_pixel(1.0, 0.0)
    assert x == pytest.approx(ox) and y == pytest.approx(oy - 1.0 / fan.metres_per_pixel)
    x, y = fan.polar_to_pixel(1.0, 20.0)
    assert x > ox
    xs, ys = fan.polar_to_pixel(np.array([0.5, 1.0]), np.array([-10.0, 10.0]))
    r, b = fan.pixel_to_polar(xs, ys)
    np.testing.assert_allclose(r, [0.5, 1.0]) and np.testing.assert_allclose(b, [-10, 10])
    # corners (outside the fan) are 0
    fan = fan_image(SonarPing(1, 1e6, 2.0, 0.01, 1500.0, 50.0, np.linspace(-30, 30, 64),
                              np.full((200, 64), 200, np.uint8)))
    assert fan.image[0, 0] == 0 and fan.image[-1, 0] == 0 and fan.image[-1, -1] == 0
    assert fan.image[fan.height_px // 2, fan.width_px // 2] == 200


def test_requested_sizes():
    ping = _ping_with_bin(10, 10)
    f = fan_image(ping, height_px=300)
    assert f.height_px == 300 and f.width_px == pytest.approx(300 * 2 * math.sin(math.radians(30)), abs=2)
    f = fan_image(ping, width_px=400)
    assert f.width_px == 400
    f = fan_image(ping, width_px=640, height_px=480)
    assert f.image.shape == (480, 640)
    assert f.polar_to_pixel(f.max_range_m, 0.0)[1] == pytest.approx(0.0, abs=1e-6)
    f = fan_image(ping, max_range_m=1.0)
    assert f.max_range_m == 1.0 and f.height_px == 101


def test_16bit_ping_renders():
    ping = SonarPing(1, 1e6, 2.0, 0.01, 1500.0, 50.0, np.linspace(-30, 30, 64),
                     np.full((200, 64), 0x8000, np.uint16))
    f = fan_image(ping)
    assert f.image.dtype == np.uint8 and f.image.max() == 0x80


def test_real_ping_renders(real_ping):
    fan = fan_image(real_ping)
    assert fan.image.dtype == np.uint8 and not fan.image.flags.writeable
    H, W = fan.image.shape
    # width / height == 2 R sin(30) / R
    assert W / H == pytest.approx(2 * math.sin(math.radians(30)), rel=0.01)
    assert H == pytest.approx(real_ping.n_ranges, abs=3)
    inside = fan.image > 0
    # the fan covers about (60/360) * pi * R^2 of the W x H = R x R image
    assert inside.mean() == pytest.approx(math.pi / 6, abs=0.03)
    assert fan.image[0, 0] == 0 and fan.image[H - 1, 0] == 0 and fan.image[H - 1, W - 1] == 0
    ox, oy = fan.origin_px
    assert oy == H - 1 and ox == pytest.approx((W - 1) / 2)


def test_geometry_cache_makes_second_render_faster(real_ping):
    clear_fan_cache()
    t0 = time.perf_counter()
    fan_image(real_ping, height_px=900)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    fan_image(real_ping, height_px=900)
    second = time.perf_counter() - t0
    info = fan_cache_info()
    assert info.hits == 1 and info.misses == 1
    assert second < first


def test_polar_box_to_fan():
    ping = _ping_with_bin(0, 0, n_ranges=200, n_beams=128)
    fan = fan_image(ping)
    # whole polar image -> whole fan
    x0, y0, x1, y1 = fan.polar_box_to_fan((0, 0, 127, 199))
    assert x0 == pytest.approx(0, abs=1) and x1 == pytest.approx(fan.width_px - 1, abs=1)
    assert y0 == pytest.approx(0, abs=1) and y1 == pytest.approx(fan.height_px - 1, abs=1e-6)
    # a small box on the right contains its centre's pixel and lies right of the apex
    box = (100, 120, 110, 140)
    x0, y0, x1, y1 = polar_box_to_fan(fan, box)
    cx, cy = fan.polar_to_pixel(ping.range_resolution_m * 130, fan.beam_index_to_bearing(105))
    assert x0 < cx < x1 and y0 < cy < y1
    assert x0 > fan.origin_px[0]
    # the far arc of a box straddling bearing 0 bulges above its corners
    x0, y0, x1, y1 = fan.polar_box_to_fan((40, 150, 87, 150))
    assert y0 == pytest.approx(fan.polar_to_pixel(1.5, 0.0)[1], abs=0.2)
    # coordinate order does not matter
    assert fan.polar_box_to_fan((110, 140, 100, 120)) == fan.polar_box_to_fan(box)


def test_real_polar_box_to_fan(real_ping):
    fan = fan_image(real_ping)
    x0, y0, x1, y1 = fan.polar_box_to_fan((120, 300, 136, 400))
    r0, _ = fan.pixel_to_polar((x0 + x1) / 2, y1)
    assert 0 <= x0 < x1 <= fan.width_px - 1 and 0 <= y0 < y1 <= fan.height_px - 1
    assert r0 == pytest.approx(300 * real_ping.range_resolution_m, rel=0.02)
