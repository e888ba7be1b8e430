import math

import numpy as np
import pytest

from hull.wetted import wetted_surface

from .shapes import box_mesh


def test_box_wetted_area_is_exact():
    box = box_mesh(100.0, 20.0, 15.0)
    assert box.is_watertight() and box.signed_volume_m3() == pytest.approx(100 * 20 * 15)
    w = wetted_surface(box, 6.0)
    assert w.area_m2 == pytest.approx(100 * 20 + 2 * (100 + 20) * 6.0, rel=1e-9)
    assert w.waterline_length_m == pytest.approx(100.0)
    assert w.waterline_beam_m == pytest.approx(20.0)
    assert np.allclose(w.waterline_points_h[:, 2], 6.0)
    assert w.mesh.vertices[:, 2].max() <= 6.0 + 1e-9


def test_trim_tilts_the_waterplane_about_mid_length():
    box = box_mesh(100.0, 20.0, 15.0, n=10)
    trim = 2.0
    w = wetted_surface(box, 6.0, trim_deg=trim)
    rise = math.tan(math.radians(trim)) * 50.0
    aft_z, fwd_z = 6.0 - rise, 6.0 + rise
    sides = 2 * 100 * 6.0  # the mean height over the length is the draft
    ends = 20 * aft_z + 20 * fwd_z
    assert w.area_m2 == pytest.approx(100 * 20 + sides + ends, rel=1e-6)


@pytest.mark.parametrize("draft", [0.0, -1.0, 16.0, float("nan")])
def test_impossible_drafts_are_refused(draft):
    with pytest.raises(ValueError, match="draft"):
        wetted_surface(box_mesh(10, 2, 15), draft)
