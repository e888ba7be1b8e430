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


def _closed_outward_volume(mesh, centre):
    from collections import Counter

    edges = Counter(tuple(e) for f in mesh.faces for e in ((f[0], f[1]), (f[1], f[2]), (f[2], f[0])))
    assert all(n == 1 and edges[(b, a)] == 1 for (a, b), n in edges.items())  # closed, consistently wound
    a, b, c = (mesh.vertices[mesh.faces[:, i]] - centre for i in range(3))
    return np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6


@pytest.mark.parametrize("kind", ["fouling_clump", "fender", "debris"])
def test_distractors_are_not_shaped_like_containers(kind):
    """Clumps, fenders and debris were boxes and cylinders, the shapes of the training
    containers: a detector could not learn to leave them alone."""
    from sim.object_meshes import object_mesh
    from sim.scenario import CONTAINER_KINDS, PlantedObject

    def mesh_of(k):
        return object_mesh(PlantedObject("o", k, (1.0, 2.0, 3.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0),
                                         (0.8, 0.4, 0.3), "hull", (0.5, 0.5, 0.5), 0.5))

    m = mesh_of(kind)
    fill = _closed_outward_volume(m, (1.0, 2.0, 3.0)) / (0.8 * 0.4 * 0.3)
    assert 0.25 < fill < 0.75  # outward, and rounder or more ragged than a box (1.0) or a cylinder (0.78)
    assert np.allclose(np.ptp(m.vertices - (1.0, 2.0, 3.0), axis=0), [0.8, 0.3, 0.4], atol=1e-6)  # fills its box
    for c in CONTAINER_KINDS:
        other = mesh_of(c)
        assert other.n_vertices != m.n_vertices or not np.allclose(other.vertices, m.vertices), c


def test_fouling_and_fenders_have_their_own_colours(ship):
    from sim.scenario import DISTRACTOR_KINDS, distractor_paint

    model, placement = ship
    seen = set()
    for seed in range(6):
        for o in generate_scenario(model, placement, seed=seed, distractors=6).objects:
            rgb = np.asarray(o.color_rgb)
            seen.add(o.kind)
            if o.kind == "fouling_clump":
                assert rgb[1] >= rgb[2] and rgb[0] < 0.6, rgb  # olive to brown, never blue or bright
            elif o.kind == "fender":
                grey = np.ptp(rgb) < 1e-9 and rgb[0] <= 0.14
                foam = rgb[0] > 0.8 and rgb[2] < 0.15  # orange to yellow
                assert grey or foam, rgb
            elif o.kind not in ("torpedo",) and o.kind not in DISTRACTOR_KINDS:
                assert np.all((0.1 <= rgb) & (rgb <= 0.9))  # containers: any colour
    assert {"fouling_clump", "fender"} <= seen
    u = np.array([0.3, 0.6, 0.2])
    assert np.array_equal(distractor_paint("duffel_bag", u), u)
    assert np.array_equal(distractor_paint("debris", u), u)  # plastic and wood come in any colour


def _overlapping(objects):
    from sim.scenario import FLAT_KINDS

    solid = [o for o in objects if o.kind not in FLAT_KINDS]
    return [(a.name, b.name) for i, a in enumerate(solid) for b in solid[:i]
            if np.linalg.norm(np.subtract(a.center_h, b.center_h)) < 0.5 * (max(a.size_m) + max(b.size_m))]


def test_objects_do_not_sit_inside_each_other(ship):
    """Several containers drawn to one niche area used to share its centre: two bags inside
    each other in the propeller, a box inside a torpedo on a bilge keel (a third of default
    draws, nine in ten with eight containers). They now lie side by side in the niche area,
    or elsewhere on the hull when it is full."""
    model, placement = ship
    niches = {n.name: n for n in model.niche_areas}
    moved_in_niche = 0
    for seed in range(30):
        s = generate_scenario(model, placement, seed=seed, containers=8, anomalies=2, distractors=6)
        assert _overlapping(s.objects) == [], f"seed {seed}"
        for o in s.objects:
            assert abs(np.dot(o.axis_h, o.normal_h)) < 1e-9, (seed, o.name)  # lies along its surface
            if o.attached_to in niches:
                niche = niches[o.attached_to]
                assert niche.contains(np.asarray(o.center_h)), (seed, o.name)
                moved_in_niche += not np.allclose(o.center_h, niche.center_h, atol=0.6)
            elif o.attached_to == "hull":
                assert model.queries.distance(np.asarray(o.center_h)[None, :])[0] <= o.size_m[2] / 2 + 0.05
    assert moved_in_niche >= 10  # the clashes were made room for inside their niche areas, not only elsewhere


def test_packages_in_one_sea_chest_lie_side_by_side_on_its_floor(ship):
    from sim.world_geometry import recess_depth_m

    model, placement = ship
    s = generate_scenario(model, placement, seed=11, containers=4, anomalies=0, distractors=0,
                          container_kinds=("sea_chest_package",))
    chests = {n.name: n for n in model.niche_areas if n.kind.value == "sea_chest"}
    by_chest: dict[str, list] = {}
    for o in s.objects:
        by_chest.setdefault(o.attached_to, []).append(o)
    assert max(len(v) for k, v in by_chest.items() if k in chests) >= 2, "draw two into one chest"
    for name, objs in by_chest.items():
        if name not in chests:
            continue
        n = chests[name]
        u, v, nrm = n.axes()
        for o in objs:
            rel = np.asarray(o.center_h) - n.center_h
            assert abs(rel @ u) <= n.size_m[0] / 2 and abs(rel @ v) <= n.size_m[1] / 2, o.name  # inside the walls
            assert rel @ nrm == pytest.approx(o.size_m[2] / 2 - recess_depth_m(n), abs=1e-9)  # on the floor
    assert _overlapping(s.objects) == []
