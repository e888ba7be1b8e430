"""Niche areas: boxes, validation, the sidecar JSON file."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from hull import niche as niche_mod
from hull.niche import (
    DEFAULT_RISK_ORDER,
    NicheArea,
    NicheFileError,
    NicheKind,
    load_niche_file,
    save_niche_file,
    sidecar_path,
)
from hull.parametric import HullDimensions, parametric_hull


def _sea_chest(**changes) -> NicheArea:
    kw = dict(name="sea chest P1", kind=NicheKind.SEA_CHEST, center_h=(30.0, 7.0, 2.0),
              normal_h=(0.0, 1.0, 0.0), size_m=(2.0, 1.5), depth_m=0.8, side="port")
    kw.update(changes)
    return NicheArea(**kw)


def _tunnel() -> NicheArea:
    return NicheArea(name="bow thruster", kind="bow_thruster", center_h=(90.0, 0.0, 3.0),
                     normal_h=(0.0, 1.0, 0.0), size_m=(1.2, 1.2), depth_m=10.0, side="centreline")


@pytest.fixture(scope="module")
def generated():
    return parametric_hull(HullDimensions(80.0, 13.0, 5.0, 7.5, 0.72), resolution_m=2.0).niche_areas


# -- the area itself ------------------------------------------------------------------------------
def test_kinds_and_risk_order():
    assert {k.value for k in NicheKind} == {
        "sea_chest", "bow_thruster", "stern_thruster", "rudder", "propeller", "bilge_keel",
        "anode", "overboard_valve"}
    assert set(DEFAULT_RISK_ORDER) == set(NicheKind)
    order = sorted(NicheKind, key=DEFAULT_RISK_ORDER.__getitem__)
    assert order[0] is NicheKind.SEA_CHEST
    r = DEFAULT_RISK_ORDER
    assert r[NicheKind.SEA_CHEST] < r[NicheKind.BOW_THRUSTER] == r[NicheKind.STERN_THRUSTER]
    assert r[NicheKind.STERN_THRUSTER] < r[NicheKind.RUDDER] == r[NicheKind.PROPELLER]
    assert r[NicheKind.PROPELLER] < r[NicheKind.BILGE_KEEL] < r[NicheKind.ANODE]
    assert r[NicheKind.ANODE] == r[NicheKind.OVERBOARD_VALVE]
    a = _sea_chest()
    assert a.rank() == 0
    assert _sea_chest(priority=7).rank() == 7
    assert a.rank({NicheKind.SEA_CHEST: 3}) == 3


def test_fields_are_normalised_and_frozen():
    a = _sea_chest(kind="sea_chest", normal_h=[0.0, 2.0, 0.0], size_m=[2, 1])
    assert a.kind is NicheKind.SEA_CHEST
    np.testing.assert_array_equal(a.normal_h, [0.0, 1.0, 0.0])
    assert a.size_m == (2.0, 1.0)
    assert not a.center_h.flags.writeable
    with pytest.raises(AttributeError):
        a.name = "x"  # type: ignore[misc]
    assert a == _sea_chest(kind="sea_chest", size_m=(2.0, 1.0))
    assert hash(a) == hash(_sea_chest(size_m=(2.0, 1.0)))


def test_contains_recess_box():
    a = _sea_chest()  # opening on the port side at y = 7, recess 0.8 m inward (towards -y)
    pts = np.array([
        [30.0, 7.0, 2.0],   # centre of the opening
        [30.0, 6.3, 2.0],   # inside the recess
        [30.0, 5.9, 2.0],   # deeper than the recess, within the margin
        [30.0, 5.6, 2.0],   # beyond depth + margin
        [30.0, 7.4, 2.0],   # outside the hull, within the margin
        [30.0, 7.6, 2.0],   # outside the margin
        [31.4, 7.0, 2.0],   # along the width: 1.0 + 0.4 < 1.0 + 0.5
        [31.6, 7.0, 2.0],   # beyond width/2 + margin
        [30.0, 7.0, 3.2],   # height/2 + margin = 1.25
        [30.0, 7.0, 3.3],
    ])
    assert a.contains(pts).tolist() == [True, True, True, False, True, False, True, False,
                                        True, False]
    assert a.contains(pts, margin_m=0.0).tolist() == [True, True, False, False, False, False,
                                                      False, False, False, False]
    assert bool(a.contains(pts[0])) and not bool(a.contains(pts[3]))


def test_contains_centred_box_and_corners():
    t = _tunnel()
    pts = np.array([[90.0, 0.0, 3.0], [90.0, 5.4, 3.0], [90.0, -5.4, 3.0], [90.0, 5.6, 3.0]])
    assert t.contains(pts).tolist() == [True, True, True, False]
    u, v, n = t.axes()
    np.testing.assert_allclose(n, [0, 1, 0])
    np.testing.assert_allclose(u, [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(v, [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(np.cross(u, v), n, atol=1e-12)
    c = t.corners_h()
    assert c.shape == (8, 3)
    np.testing.assert_allclose(c.min(axis=0), [89.4, -5.0, 2.4])
    np.testing.assert_allclose(c.max(axis=0), [90.6, 5.0, 3.6])
    assert t.contains(c, margin_m=1e-9).all()
    s = _sea_chest()
    cs = s.corners_h()
    np.testing.assert_allclose(cs[:4, 1], 7.0)  # outer face on the opening
    np.testing.assert_allclose(cs[4:, 1], 6.2)  # inner face at the recess depth
    # a bottom item (normal straight down) still gets a proper frame
    b = _sea_chest(normal_h=(0, 0, -1), side="bottom")
    u, v, n = b.axes()
    np.testing.assert_allclose(np.cross(u, v), n, atol=1e-12)


def test_mirrored():
    a = _sea_chest()
    b = a.mirrored("sea chest S1")
    assert b.side == "starboard" and b.name == "sea chest S1"
    np.testing.assert_array_equal(b.center_h, [30.0, -7.0, 2.0])
    np.testing.assert_array_equal(b.normal_h, [0.0, -1.0, 0.0])


def test_dict_round_trip(generated):
    for a in generated + (_sea_chest(priority=1), _tunnel()):
        d = a.to_dict()
        assert json.loads(json.dumps(d)) == d
        b = NicheArea.from_dict(d)
        assert b == a
        assert b.to_dict() == d


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(kind="torpedo"), "kind"),
        (dict(name=""), "name"),
        (dict(center_h=[1.0, float("nan"), 0.0]), "center_h"),
        (dict(center_h=[1.0, 2.0]), "center_h"),
        (dict(normal_h=[0.0, 0.0, 0.0]), "normal_h"),
        (dict(normal_h=[0.0, float("inf"), 0.0]), "normal_h"),
        (dict(size_m=[2.0, -1.0]), "size_m"),
        (dict(size_m=[2.0]), "size_m"),
        (dict(size_m=[2.0, "a"]), "size_m[1]"),
        (dict(depth_m=-0.1), "depth_m"),
        (dict(depth_m=float("nan")), "depth_m"),
        (dict(side="aft"), "side"),
        (dict(priority=1.5), "priority"),
        (dict(colour="red"), "colour"),
    ],
)
def test_from_dict_errors_name_the_field(changes, field):
    d = _sea_chest().to_dict()
    d.update(changes)
    with pytest.raises(ValueError) as info:
        NicheArea.from_dict(d)
    assert f": {field}:" in str(info.value)
    assert info.value.field == field


def test_from_dict_missing_field():
    d = _sea_chest().to_dict()
    del d["depth_m"]
    with pytest.raises(ValueError, match="depth_m: missing"):
        NicheArea.from_dict(d)
    del d["priority"]  # optional
    d["depth_m"] = 0.5
    assert NicheArea.from_dict(d).priority is None


# -- sidecar files ----------------------------------------------------------------------------------
def test_sidecar_path(tmp_path):
    assert sidecar_path(tmp_path / "ship.stl") == tmp_path / "ship.stl.niches.json"
    assert sidecar_path("a/b/hull.obj").name == "hull.obj.niches.json"


def test_file_round_trip_exact(tmp_path, generated):
    path = sidecar_path(tmp_path / "ship.stl")
    areas = generated + (_sea_chest(name="extra chest", priority=2),)
    save_niche_file(path, areas)
    loaded = load_niche_file(path)
    assert loaded == areas
    assert [a.to_dict() for a in loaded] == [a.to_dict() for a in areas]
    doc = json.loads(path.read_text())
    assert doc["format"] == "hullwatch-niches" and doc["version"] == 1
    # saving what was loaded gives the same bytes
    first = path.read_bytes()
    save_niche_file(path, loaded)
    assert path.read_bytes() == first
    assert os.listdir(tmp_path) == [path.name], "no temp file left behind"


def test_atomic_write_failure_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "hull.ply.niches.json"
    save_niche_file(path, [_sea_chest()])
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(niche_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_niche_file(path, [_tunnel()])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


def test_save_refuses_duplicate_names(tmp_path):
    path = tmp_path / "x.niches.json"
    with pytest.raises(NicheFileError, match=r"niche_areas\[1\]\.name"):
        save_niche_file(path, [_sea_chest(), _sea_chest()])
    assert not path.exists()
    assert os.listdir(tmp_path) == []


def _doc(*areas: dict, **top) -> dict:
    doc = {"format": "hullwatch-niches", "version": 1, "niche_areas": list(areas)}
    doc.update(top)
    return doc


@pytest.mark.parametrize(
    "doc, field",
    [
        (_doc(version=2), "version"),
        (_doc(version="1"), "version"),
        (_doc(format="hullplan"), "format"),
        (_doc(niche_areas={}), "niche_areas"),
        (_doc(dict(_sea_chest().to_dict(), kind="torpedo")), "niche_areas[0].kind"),
        (_doc(_tunnel().to_dict(), dict(_sea_chest().to_dict(), depth_m=-1)),
         "niche_areas[1].depth_m"),
        (_doc(_sea_chest().to_dict(), _tunnel().to_dict(), _sea_chest().to_dict()),
         "niche_areas[2].name"),
        (_doc(dict(_sea_chest().to_dict(), size_m=None)), "niche_areas[0].size_m"),
        (_doc("not an object"), "niche_areas[0].niche area"),
        ([], "(document)"),
    ],
)
def test_bad_files_name_file_and_field(tmp_path, doc, field):
    path = tmp_path / "bad.niches.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(NicheFileError) as info:
        load_niche_file(path)
    assert info.value.field == field
    assert str(path) in str(info.value)
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(tmp_path, token):
    text = json.dumps(_doc(_sea_chest().to_dict())).replace("0.8", token)
    path = tmp_path / "nan.niches.json"
    path.write_text(text)
    with pytest.raises(NicheFileError) as info:
        load_niche_file(path)
    assert str(path) in str(info.value)
    assert token in str(info.value)


def test_unreadable_and_invalid_json(tmp_path):
    with pytest.raises(NicheFileError, match=r"\(file\)"):
        load_niche_file(tmp_path / "missing.niches.json")
    path = tmp_path / "broken.niches.json"
    path.write_text("{not json")
    with pytest.raises(NicheFileError, match=r"\(json\)"):
        load_niche_file(path)
