"""The simulator's sonar speaks Oculus: the station's parser (written separately) reads it."""
from __future__ import annotations

import numpy as np
import pytest

from sim.oculus_encode import encode_frame
from sim.sonar_render import MultibeamConfig, SonarScene
from tests.hull.shapes import box_mesh
from vision.sonar.fan import fan_image
from vision.sonar.oculus import iter_oculus_messages, parse_oculus_ping

CFG = MultibeamConfig(beams=256, range_bins=400, min_range_m=0.1, max_range_m=8.0, rays_per_beam=6)


def _frame(seed=0):
    scene = SonarScene(box_mesh(40.0, 10.0, 8.0, n=6))
    return scene.render((20.0, 9.0, 4.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0), CFG, np.random.default_rng(seed))


def test_station_parses_the_simulated_ping():
    frame = _frame()
    ping = parse_oculus_ping(encode_frame(frame, CFG, ping_id=42))
    assert ping.ping_id == 42
    assert ping.intensities.shape[1] == 256 and ping.range_m == pytest.approx(8.0)
    assert ping.bearings_deg[0] == pytest.approx(-65.0, abs=0.01) and ping.bearings_deg[-1] == pytest.approx(65.0, abs=0.01)
    # the hull echo (4 m ahead) sits at the same range in the parsed image as in the render
    centre = ping.intensities[:, 128].astype(float)
    assert ping.ranges_m[int(np.argmax(centre))] == pytest.approx(4.0, abs=0.2)
    fan = fan_image(ping)
    assert fan.image.any()


def test_a_stream_of_simulated_pings_splits_back():
    blob = b"".join(encode_frame(_frame(seed=s), CFG, ping_id=s) for s in range(3))
    ids = [parse_oculus_ping(m).ping_id for m in iter_oculus_messages(blob)]
    assert ids == [0, 1, 2]
