"""Scenarios: reproducible from the seed, objects really on the hull, truth beside them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hull.model import HullModel
from hull.parametric import HullDimensions
from hull.placement import Placement
from sim.scenario import ScenarioError, generate_scenario, load_scenario, save_scenario, write_ground_truth


@pytest.fixture(scope="module")
def ship():
    model = HullModel.parametric_hull(HullDimensions(length_m=90.0, beam_m=16.0, draft_m=5.5, depth_m=9.0,
                                                     block_coefficient=0.7))
    placement = Placement(origin_lat_deg=53.54, origin_lon_deg=9.97, heading_deg=90.0, draft_m=5.5,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=10.0)
    return model, placement


def test_same_seed_same_scenario_and_different_seed_differs(ship):
    model, placement = ship
    a = generate_scenario(model, placement, seed=7)
    b = generate_scenario(model, placement, seed=7)
    c = generate_scenario(model, placement, seed=8)
    assert a == b
    assert a != c


def test_objects_sit_on_the_wetted_hull(ship):
    model, placement = ship
    s = generate_scenario(model, placement, seed=3, containers=6, anomalies=2, distractors=0)
    classes = [o.class_name for o in s.objects]
    assert classes.count("parasitic_container") == 6 and classes.count("niche_anomaly") == 2
    for o in s.objects:
        d = model.queries.distance(np.asarray(o.center_h)[None, :])[0]
        assert d <= o.size_m[2] / 2 + 1.0, (o.name, d)  # on the surface (or inside its niche recess)
        assert o.center_h[2] < placement.draft_m + 0.5  # under water


def test_file_round_trip_and_truth(tmp_path, ship):
    model, placement = ship
    s = generate_scenario(model, placement, seed=5)
    path = tmp_path / "berth.scenario.json"
    save_scenario(s, path)
    assert load_scenario(path) == s
    truth = json.loads(write_ground_truth(s, model, path).read_text())
    assert [t["name"] for t in truth["objects"]] == [o.name for o in s.objects]
    assert all(t["address"]["side"] in ("port", "starboard", "bottom") for t in truth["objects"])


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.update(version=9), "version"),
    (lambda d: d.update(water="murky"), "water"),
    (lambda d: d["objects"][0].update(kind="bomb"), "objects[0].kind"),
    (lambda d: d["objects"][0].update(size_m=[1, 0, 1]), "objects[0].size_m"),
])
def test_bad_scenarios_name_the_field(tmp_path, ship, edit, words):
    model, placement = ship
    doc = generate_scenario(model, placement, seed=1).to_dict()
    edit(doc)
    path = tmp_path / "bad.scenario.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ScenarioError, match=words.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(path)
