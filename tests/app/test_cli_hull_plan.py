"""`hullwatch hull` and `hullwatch plan` as a user runs them: real files, real processes."""
from __future__ import annotations

import json

import pytest

from mission_plans.plan_file import load_plan
from mission_plans.qgc_plan import load_qgc_plan

from .test_cli import DATA, _one_line_error, hullwatch

HULLS = DATA / "hulls"
needs_hulls = pytest.mark.skipif(not (HULLS / "DTC-scaled.stl.gz").is_file(),
                                 reason="../shared/data is not beside the checkout")


@needs_hulls
def test_hull_report_of_the_dtc_at_full_scale():
    proc = hullwatch("hull", str(HULLS / "DTC-scaled.stl.gz"), "--scale", "59.407", "--draft", "14.5", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["watertight"] is True
    assert 355 <= report["length_m"] <= 380 and report["beam_m"] == pytest.approx(51.0, abs=0.5)
    text = hullwatch("hull", str(HULLS / "DTC-scaled.stl.gz"), "--scale", "59.407", "--draft", "14.5")
    assert "wetted area 220" in text.stdout  # 22,044 m2; the DTC benchmark publishes 22,032 m2


@needs_hulls
@pytest.mark.parametrize("name, words", [("kvlcc2-half-broken.stl", "mirrored the half hull"),
                                         ("wigley.stl.gz", "wound inward")])
def test_broken_real_hulls_load_and_say_what_was_repaired(name, words):
    proc = hullwatch("hull", str(HULLS / name))
    assert proc.returncode == 0, proc.stderr
    assert words in proc.stdout


def test_hull_that_is_not_a_mesh(tmp_path):
    png = tmp_path / "photo.stl"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    proc = hullwatch("hull", str(png))
    assert proc.returncode == 1
    assert "photo.stl" in _one_line_error(proc)


def test_plan_parametric_hull_writes_a_plan_that_loads(tmp_path):
    out = tmp_path / "ferry.hullplan.json"
    proc = hullwatch("plan", "--parametric", "60,12,4,7,0.6", "--draft", "4", "--vessel", "MV Test",
                     "-o", str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "coverage" in proc.stdout and "niche" in proc.stdout
    plan = load_plan(out)
    assert plan.vessel.name == "MV Test" and plan.draft_m == 4.0
    assert plan.legs[0].kind == "niche_pass"  # niche areas first
    assert plan.prediction.overall_pct > 80


def test_plan_export_needs_the_ship_position_then_writes_qgc(tmp_path):
    out = tmp_path / "ferry.plan"
    proc = hullwatch("plan", "--parametric", "60,12,4,7,0.6", "--draft", "4", "--export", "qgc", "-o", str(out),
                     timeout=120)
    assert proc.returncode == 1 and "--origin" in _one_line_error(proc)
    assert not out.exists()
    proc = hullwatch("plan", "--parametric", "60,12,4,7,0.6", "--draft", "4", "--origin", "53.54,9.97",
                     "--export", "qgc", "-o", str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr
    mission = load_qgc_plan(out)
    depths = [it.depth_m for it in mission.items[1:] if it.depth_m is not None]
    assert depths and min(depths) >= 1.0 - 1e-6 and max(depths) <= 4.0 + 2.0 + 1e-6
    assert mission.vehicle_type == 12


@pytest.mark.parametrize("args, words", [
    (["--parametric", "60,12,4,7,0.6", "--draft", "8"], "--draft 8 m is deeper than the hull"),
    (["--parametric", "60,-12,4"], "beam"),
    (["--parametric", "sixty,12,4"], "expected numbers"),
    (["--parametric", "60,12,4", "--overlap", "1.5"], "--overlap"),
])
def test_plan_bad_input_names_the_field(tmp_path, args, words):
    if "--draft" not in args:
        args = args + ["--draft", "3"]
    proc = hullwatch("plan", *args, "-o", str(tmp_path / "x.hullplan.json"), timeout=60)
    assert proc.returncode == 1
    assert words in _one_line_error(proc)
    assert list(tmp_path.iterdir()) == []  # no partial file


def test_plan_warns_when_the_quay_gap_is_too_narrow(tmp_path):
    proc = hullwatch("plan", "--parametric", "60,12,4,7,0.6", "--draft", "4", "--quay-gap", "1.0",
                     "-o", str(tmp_path / "x.hullplan.json"), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "--quay-gap 1 m is narrower than --standoff 2 m" in proc.stderr
    assert "quay gap" in proc.stdout


@needs_hulls
def test_sim_with_a_hull_measures_to_it(tmp_path):
    proc = hullwatch("sim", "--tcp", "0", "--udp", "none", "--hull", str(HULLS / "DTC-scaled.stl.gz"),
                     "--no-sensors", "--duration", "1.5", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "bow east, starboard side 5 m ahead (north) of the vehicle" in proc.stderr


def test_hull_axis_override(tmp_path):
    # a 20 x 4 x 3 box written with y up (lying on its side in z-up terms)
    from hull.mesh import TriangleMesh  # noqa: F401  (the box comes from the test shapes)
    from tests.hull.shapes import box_mesh

    box = box_mesh(20.0, 4.0, 3.0, n=2)
    v = box.vertices[:, [0, 2, 1]]  # swap y and z: the file's +y is up
    f = box.faces[:, ::-1]  # the swap mirrors: keep the winding outward
    path = tmp_path / "box.obj"
    path.write_text("".join(f"v {a} {b} {c}\n" for a, b, c in v) + "".join(f"f {a+1} {b+1} {c+1}\n" for a, b, c in f))
    proc = hullwatch("hull", str(path), "--up", "y", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["depth_m"] == pytest.approx(3.0) and report["beam_m"] == pytest.approx(4.0)
