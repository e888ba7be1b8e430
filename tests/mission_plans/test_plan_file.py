"""plan_model + plan_file: exact round trip, refusals that name the field, atomic writes."""
from __future__ import annotations

import copy
import json
import os

import pytest

from mission_plans.plan_file import PlanFileError, load_plan, plan_to_dict, save_plan
from mission_plans.plan_model import HullRef, Leg, SensorSetup, Waypoint

from . import make_placement, make_plan


def write_doc(tmp_path, doc, name="p.hullplan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# ---- model ------------------------------------------------------------------------------------
def test_plan_helpers():
    plan = make_plan()
    wps = plan.waypoints()
    assert len(wps) == 2 + 6 + 1 + 2
    assert wps[0] == Waypoint(20.0, 14.0, 2.5, 90.0, hold_s=5.0)
    s = plan.summary()
    assert s["legs"] == 4 and s["waypoints"] == 11 and s["niches"] == ["sea_chest_port"]
    assert s["coverage_pct"] == 87.25 and s["legs_by_kind"]["niche_pass"] == 1
    json.dumps(s)  # JSON-ready
    assert plan.prediction.niche_pct("rudder") == 61.0
    assert plan.prediction.per_niche_pct == (("sea_chest_port", 99.5), ("rudder", 61.0))


def test_model_validation():
    with pytest.raises(ValueError, match="kind"):
        Leg("zigzag", "x", None, (Waypoint(0, 0, 0, 0),))
    with pytest.raises(ValueError, match="either a mesh"):
        HullRef(path="hull.stl", sha256="0" * 64, parametric={"length_m": 1.0})
    with pytest.raises(ValueError, match="sha256"):
        HullRef(path="hull.stl", sha256="abc")
    with pytest.raises(ValueError, match="camera or a sonar"):
        SensorSetup(None, None)
    with pytest.raises(ValueError, match="draft_m"):
        make_plan(draft_m=3.0)
    with pytest.raises(ValueError, match="hold_s"):
        Waypoint(0, 0, 0, 0, hold_s=-1)
    with pytest.raises(ValueError, match="created_utc"):
        make_plan(created_utc="yesterday")


def test_model_is_immutable():
    plan = make_plan()
    with pytest.raises(Exception):
        plan.legs[0].waypoints[0].x_m = 3.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        plan.hull.parametric["length_m"] = 3.0  # type: ignore[index]


# ---- round trip -------------------------------------------------------------------------------
def test_round_trip_is_exact(tmp_path):
    plan = make_plan()
    path = save_plan(plan, tmp_path / "a.hullplan.json")
    loaded = load_plan(path)
    assert loaded == plan
    assert isinstance(loaded.legs, tuple) and isinstance(loaded.legs[1].waypoints, tuple)
    assert loaded.hull.parametric["stations"] == (0.0, 0.25, 0.5)
    # awkward floats survive bit for bit
    odd = make_plan(standoff_m=0.1 + 0.2, length_m=1e-17 + 512.0, overlap=1 / 3)
    assert load_plan(save_plan(odd, tmp_path / "b.hullplan.json")) == odd


def test_round_trip_variants(tmp_path):
    mesh = make_plan(hull=HullRef(path="hulls/trader.stl", sha256="AB" * 32), prediction=None,
                     sensors=SensorSetup(None, make_plan().sensors.sonar),
                     placement=make_placement(origin_lat_deg=None, origin_lon_deg=None, trim_deg=-0.4))
    assert load_plan(save_plan(mesh, tmp_path / "m.hullplan.json")) == mesh
    assert mesh.hull.sha256 == "ab" * 32


def test_file_layout(tmp_path):
    doc = json.loads(save_plan(make_plan(), tmp_path / "a.hullplan.json").read_text(encoding="utf-8"))
    assert doc["format"] == "hullplan" and doc["version"] == 1
    assert doc["prediction"]["per_niche_pct"] == {"sea_chest_port": 99.5, "rudder": 61.0}
    assert doc["legs"][0]["waypoints"][0]["z_m"] == 2.5


# ---- refusals -----------------------------------------------------------------------------------
def mutated(path_fn):
    doc = plan_to_dict(make_plan())
    doc = copy.deepcopy(doc)
    path_fn(doc)
    return doc


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(version=7), "hullplan version 7 is newer than this HullWatch understands (1)"),
    (lambda d: d.update(format="mission"), "format: not a HullWatch plan"),
    (lambda d: d.update(version="1"), "version: expected a positive integer"),
    (lambda d: d["legs"][3]["waypoints"][0].update(z_m="deep"), "legs[3].waypoints[0].z_m: expected a number"),
    (lambda d: d["legs"][1]["waypoints"][2].pop("yaw_deg"), "legs[1].waypoints[2].yaw_deg: missing"),
    (lambda d: d["legs"][0].update(kind="zigzag"), "legs[0].kind: expected one of"),
    (lambda d: d["legs"][0].update(waypoints=[]), "legs[0].waypoints: leg"),
    (lambda d: d["legs"][0]["waypoints"][1].update(hold_s=-2), "legs[0].waypoints[1].hold_s: must be >= 0.0"),
    (lambda d: d["sensors"]["camera"].update(width_px=19.5), "sensors.camera.width_px: expected an integer"),
    (lambda d: d["sensors"]["sonar"].update(max_range_m=0.1), "sensors.sonar.max_range_m: must be > min_range_m"),
    (lambda d: d["placement"].update(heading_deg=400), "placement.heading_deg: heading 400"),
    (lambda d: d["placement"].update(water_depth_m=5), "placement.water_depth_m:"),
    (lambda d: d["placement"].pop("berth_side"), "placement.berth_side: missing"),
    (lambda d: d.pop("draft_m"), "draft_m: missing"),
    (lambda d: d.update(draft_m=1.0), "draft_m: 1.0 differs from placement.draft_m"),
    (lambda d: d["vessel"].update(name=3), "vessel.name: expected a string"),
    (lambda d: d["hull"].update(parametric=[1, 2]), "hull.parametric: expected an object or null"),
    (lambda d: d["prediction"]["per_niche_pct"].update(rudder=140), "prediction.per_niche_pct.rudder: expected a percentage"),
    (lambda d: d["prediction"]["uncovered"][0].update(center_h=[1, 2]), "prediction.uncovered[0].center_h: expected [x, y, z]"),
    (lambda d: d.update(legs={}), "legs: expected an array"),
    (lambda d: d.update(overlap=1.0), "overlap: must be < 1.0"),
])
def test_bad_values_are_refused_naming_the_field(tmp_path, mutate, message):
    path = write_doc(tmp_path, mutated(mutate))
    with pytest.raises(PlanFileError) as e:
        load_plan(path)
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(tmp_path, token):
    text = json.dumps(plan_to_dict(make_plan()))
    text = text.replace('"z_m": 6.1', f'"z_m": {token}', 1)
    assert token in text
    path = tmp_path / "nan.hullplan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanFileError, match=r"legs\[1\]\.waypoints\[0\]\.z_m: expected a finite number"):
        load_plan(path)


def test_not_json_and_not_an_object(tmp_path):
    bad = tmp_path / "bad.hullplan.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(PlanFileError, match="not JSON"):
        load_plan(bad)
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(PlanFileError, match="expected an object"):
        load_plan(bad)


# ---- atomic writes --------------------------------------------------------------------------
def test_save_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "a.hullplan.json"
    path.write_text("old", encoding="utf-8")
    save_plan(make_plan(), path)
    assert load_plan(path) == make_plan()
    assert sorted(os.listdir(tmp_path)) == ["a.hullplan.json"]


def test_failed_save_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "a.hullplan.json"
    save_plan(make_plan(), path)
    before = path.read_bytes()
    target_dir = tmp_path / "is_a_dir.hullplan.json"
    target_dir.mkdir()
    with pytest.raises(OSError):
        save_plan(make_plan(), target_dir)  # rename onto a directory fails after the temp is written
    assert sorted(os.listdir(tmp_path)) == ["a.hullplan.json", "is_a_dir.hullplan.json"]
    assert os.listdir(target_dir) == []
    assert path.read_bytes() == before


def test_save_into_missing_or_file_parent(tmp_path):
    with pytest.raises(OSError):
        save_plan(make_plan(), tmp_path / "gone" / "a.hullplan.json")
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OSError):
        save_plan(make_plan(), blocker / "a.hullplan.json")
    assert sorted(os.listdir(tmp_path)) == ["afile"]


def test_failure_while_writing_removes_temp(tmp_path, monkeypatch):
    import mission_plans.plan_file as pf

    def boom(fd):
        raise OSError("disk full")
    monkeypatch.setattr(pf.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        save_plan(make_plan(), tmp_path / "a.hullplan.json")
    assert os.listdir(tmp_path) == []
