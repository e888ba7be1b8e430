"""Held-out evaluation sets (issue 5): only test images, only container shapes that training
never draws, an unseen hull (a mesh file, or parametric families disjoint from training's),
and the training draws left exactly as they were."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sim.scenario import (CONTAINER_KINDS, HELDOUT_CONTAINER_KINDS, OBJECT_KINDS, TRAINING_CONTAINER_KINDS,
                          VARIED_CONTAINER_KINDS, ScenarioError, generate_scenario)
from vision.training.synthetic_dataset import (HELDOUT_HULL_FAMILIES, HELDOUT_L_OVER_B, SyntheticDatasetError,
                                               SyntheticRenderer, SyntheticSpec, _rng, build_synthetic_dataset,
                                               draw_hull, is_heldout_hull, plan_hulls)

REPO = Path(__file__).resolve().parents[2]
DTC = REPO.parent / "shared" / "data" / "hulls" / "DTC-scaled.stl.gz"
# What generate_scenario drew for seeds 1..5 on the hull below before held-out kinds existed
# and before objects made room for each other (kinds, and SHA-256 of the scenario's JSON with
# floats rounded to 6 decimals)
DEFAULT_DRAWS = {
    1: (["magnetic_box", "torpedo", "torpedo", "duffel_bag", "bolts_removed", "grating_missing", "debris", "rope",
         "fender", "fender", "fouling_clump"], "c9a768988786f4c29572a59e1eeb65183d64d04e372514220a9bd09b29983c98"),
    2: (["sea_chest_package", "duffel_bag", "duffel_bag", "magnetic_box", "grating_missing", "bolts_removed", "fish",
         "debris", "fish", "debris", "fouling_clump"], "d13174f5f24efea807f92a92528e2638ced99d9588c280d28723ee58e7180303"),
    3: (["sea_chest_package", "duffel_bag", "sea_chest_package", "magnetic_box", "grating_missing", "grating_missing",
         "fouling_clump", "rope", "fouling_clump", "fish", "rope"],
        "94fd8dced505ede832f52a80edafa3e65cc9653758fa9c67cafbe9418bdc6886"),
    4: (["torpedo", "magnetic_box", "magnetic_box", "sea_chest_package", "fresh_weld", "bolts_removed", "rope", "fender",
         "rope", "debris", "debris"], "2cea451b992121c6b7c4d0a349908c15b1e5162d24a82d18ff35d0d02bb36518"),
    5: (["torpedo", "magnetic_box", "sea_chest_package", "magnetic_box", "tunnel_foreign_object", "bolts_removed",
         "debris", "rope", "debris", "debris", "fender"], "49de187064d20c03695567bbe3250c9fd858bbb827872b41da69e92ec0f1be0f"),
}
# plan and hull draws of training sets (seed 0 and 7, 60 camera images) before held-out sets existed
DEFAULT_HULL_DRAWS = {0: "6b4c85b83f4f1d7436e67d7b7cad358e58aae10bb6efd6c6c5ec1b651bb8c33a",
                      7: "3d98dd7bfc3acf52f376a110ebd07de5c2b62459466d687203993636f82597df"}


@pytest.fixture(scope="module")
def hull():
    from hull.model import HullModel
    from hull.parametric import HullDimensions
    from sim.embedded_world import berth_beside_start

    model = HullModel.parametric_hull(HullDimensions(length_m=60.0, beam_m=11.0, draft_m=4.0, depth_m=6.5,
                                                     block_coefficient=0.7))
    return model, berth_beside_start(model, 4.0)


def _rounded(v):
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    return v


def _without_own_colours(d: dict) -> dict:
    """Fouling clumps and fenders have had colours of their own since 2026-11-29, made from
    the same draws (sim.scenario.distractor_paint, tested in tests/sim/test_scenario.py):
    the digests (taken before that change) cover everything else, so they prove that the
    draw itself did not move."""
    objects = [{k: v for k, v in o.items() if not (k == "color_rgb" and o["kind"] in ("fender", "fouling_clump"))}
               for o in d["objects"]]
    return {**d, "objects": objects}


def test_the_default_scenario_draw_is_unchanged(hull, monkeypatch):
    """The draw is the one of before held-out kinds existed, but for the objects that would
    have sat inside another (generator 10): those alone move, and only where they lie."""
    import sim.scenario

    model, placement = hull
    draw = dict(water="clear", containers=4, anomalies=2, distractors=5)
    moved = 0
    for seed, (kinds, digest) in DEFAULT_DRAWS.items():
        s = generate_scenario(model, placement, seed=seed, **draw)
        assert [o.kind for o in s.objects] == kinds, seed
        # container_kinds=None is the default draw, not merely something like it
        again = generate_scenario(model, placement, seed=seed, **draw, container_kinds=None)
        assert again.to_dict() == s.to_dict()
        with monkeypatch.context() as m:  # without making room: exactly the old draw
            m.setattr(sim.scenario, "_crowded", lambda *a: False)
            old = generate_scenario(model, placement, seed=seed, **draw)
        text = json.dumps(_rounded(_without_own_colours(old.to_dict())), sort_keys=True).encode()
        assert hashlib.sha256(text).hexdigest() == digest, seed
        for i, (a, b) in enumerate(zip(old.objects, s.objects)):
            if a != b:  # it would have sat inside one of the objects placed before it
                moved += 1
                where = ("center_h", "normal_h", "axis_h", "attached_to")
                assert dataclasses.replace(a, **{f: getattr(b, f) for f in where}) == b, (seed, a.name)
                assert sim.scenario._crowded(a.center_h, a.size_m, s.objects[:i]), (seed, a.name)
    assert moved >= 1, "these seeds hold clashes: the comparison above must see one"


def test_the_training_hull_draw_is_unchanged():
    for seed, digest in DEFAULT_HULL_DRAWS.items():
        spec = SyntheticSpec("camera", 60, seed=seed)
        out = []
        for hp in plan_hulls(spec):
            family, dims, placement = draw_hull(_rng(spec, 1, hp.index))
            out.append([hp.split, family, dataclasses.asdict(dims), placement.to_dict()])
        assert hashlib.sha256(json.dumps(out, sort_keys=True).encode()).hexdigest() == digest


def test_heldout_kinds_only_when_asked(hull):
    model, placement = hull
    assert set(HELDOUT_CONTAINER_KINDS).isdisjoint(CONTAINER_KINDS)
    assert all(OBJECT_KINDS[k][0] == "parasitic_container" for k in HELDOUT_CONTAINER_KINDS)
    seen_default, seen_heldout = Counter(), Counter()
    for seed in range(30):
        s = generate_scenario(model, placement, seed=seed, containers=4)
        seen_default.update(o.kind for o in s.objects if o.class_name == "parasitic_container")
        h = generate_scenario(model, placement, seed=seed, containers=4, container_kinds=HELDOUT_CONTAINER_KINDS)
        seen_heldout.update(o.kind for o in h.objects if o.class_name == "parasitic_container")
        # anomalies and distractors are not what is held out: the same kinds as training's
        assert {o.kind for o in h.objects if o.class_name != "parasitic_container"} <= set(OBJECT_KINDS)
    assert set(seen_default) == set(CONTAINER_KINDS)
    assert set(seen_heldout) == set(HELDOUT_CONTAINER_KINDS)  # all of them, and nothing else
    with pytest.raises(ScenarioError, match="not a container kind"):
        generate_scenario(model, placement, seed=1, container_kinds=("fish",))


@pytest.mark.parametrize("kind", HELDOUT_CONTAINER_KINDS)
def test_heldout_shapes_are_closed_and_fill_their_box(kind):
    from sim.object_meshes import object_mesh
    from sim.scenario import PlantedObject

    obj = PlantedObject("c", kind, (1.0, 2.0, 3.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0), (0.8, 0.4, 0.3), "hull",
                        (0.5, 0.5, 0.5), 0.5)
    m = object_mesh(obj)
    edges = Counter(tuple(e) for f in m.faces for e in ((f[0], f[1]), (f[1], f[2]), (f[2], f[0])))
    assert all(n == 1 and edges[(b, a)] == 1 for (a, b), n in edges.items())  # closed, consistently wound
    a, b, c = (m.vertices[m.faces[:, i]] - obj.center_h for i in range(3))
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6
    assert 0.4 * 0.8 * 0.4 * 0.3 < volume < 0.8 * 0.4 * 0.3 + 1e-9  # outward, and inside its box
    rel = m.vertices - obj.center_h  # axis x, side z (normal -y x axis x), height along -y
    assert np.allclose(np.ptp(rel, axis=0), [0.8, 0.3, 0.4], atol=1e-6)


def test_heldout_hulls_never_overlap_training_hulls():
    lo, hi = HELDOUT_L_OVER_B
    for i in range(400):
        _, dims, _ = draw_hull(np.random.default_rng(i))
        assert not is_heldout_hull(dims)
    for i in range(200):
        family, dims, _ = draw_hull(np.random.default_rng(i), HELDOUT_HULL_FAMILIES)
        assert family in HELDOUT_HULL_FAMILIES and is_heldout_hull(dims)
        assert lo - 0.01 <= dims.length_m / dims.beam_m <= hi + 0.01


@pytest.fixture(scope="module")
def camera_heldout(tmp_path_factory):
    out = tmp_path_factory.mktemp("heldout") / "cam"
    spec = SyntheticSpec("camera", 8, seed=1, image_size=(96, 72), heldout=True, negative_fraction=0.25)
    return out, build_synthetic_dataset(spec, out)


def test_a_heldout_set_is_test_only_with_unseen_containers_and_hulls(camera_heldout):
    out, card = camera_heldout
    assert card["heldout"] is True and card["evaluation_only"] is True and "held-out" in card["title"]
    assert card["frames"] == {"train": 0, "val": 0, "test": 8}
    assert card["labels"]["test"].get("parasitic_container", 0) > 0
    for split in ("train", "val"):  # present (ultralytics and evaluate need the folders), empty
        assert (out / "images" / split).is_dir() and not any((out / "images" / split).iterdir())
    assert card["unseen"]["container_kinds"] == list(HELDOUT_CONTAINER_KINDS)
    assert "never" in card["honesty"] and "Held out" in (out / "card.md").read_text()
    kinds = Counter(k for h in card["hulls"] for s in h["scenarios"] for k in s["objects"])
    containers = {k for k in kinds if OBJECT_KINDS[k][0] == "parasitic_container"}
    assert containers and containers <= set(HELDOUT_CONTAINER_KINDS)
    for h in card["hulls"]:
        assert h["split"] == "test" and h["family"] in ("offshore_supply", "fishing_trawler")
        assert HELDOUT_L_OVER_B[0] - 0.01 <= h["dims"]["length_m"] / h["dims"]["beam_m"] <= HELDOUT_L_OVER_B[1] + 0.01
    # every container label is one of the held-out shapes (labels carry the object's name)
    records = [json.loads(ln) for ln in (out / "index.jsonl").read_text().splitlines()]
    names = [lab["name"] for r in records for lab in r["labels"] if lab["class"] == "parasitic_container"]
    assert names and all(any(k.replace("_", " ") in n for k in HELDOUT_CONTAINER_KINDS) for n in names)
    assert all(r["split"] == "test" and r["image"].startswith("images/test/") for r in records)


def test_heldout_set_reads_for_evaluate_but_never_for_train(camera_heldout):
    from vision.evaluation.evaluate_dataset import DatasetError, read_dataset
    from vision.training.train import TrainError, check_training_data

    out, card = camera_heldout
    ds = read_dataset(out)
    assert len(ds.split_images("test")) == 8
    with pytest.raises(DatasetError, match="holds no images"):
        ds.split_images("train")
    with pytest.raises(TrainError, match="held-out evaluation set"):
        check_training_data(out, "camera")


def test_heldout_set_is_accepted_by_ultralytics_for_validation(camera_heldout, ultralytics_offline):
    from ultralytics.data.utils import check_det_dataset

    out, _ = camera_heldout
    info = check_det_dataset(str(out / "data.yaml"))
    assert Path(info["test"]).name == "test" and info["nc"] == 8


def test_heldout_seeds_draw_other_streams_than_training():
    spec = SyntheticSpec("sonar", 3, seed=5, image_size=(96, 54))
    held = dataclasses.replace(spec, heldout=True)
    assert _rng(spec, 1, 0).random() != _rng(held, 1, 0).random()


def test_heldout_arguments_are_checked(tmp_path):
    for kwargs, match in (({"hull_path": "x.stl"}, "held-out"), ({"heldout": True, "hull_draft_m": 3.0}, "draft"),
                          ({"heldout": True, "hull_path": str(tmp_path / "none.stl")}, "not found")):
        with pytest.raises(SyntheticDatasetError, match=match):
            build_synthetic_dataset(SyntheticSpec("sonar", 3, **kwargs), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not DTC.is_file(), reason="needs ../shared/data/hulls/DTC-scaled.stl.gz (real hull mesh, in CI)")
def test_heldout_sonar_set_on_a_real_hull_mesh(tmp_path):
    out = tmp_path / "dtc"
    spec = SyntheticSpec("sonar", 4, seed=1, image_size=(320, 180), heldout=True, hull_path=str(DTC),
                         hull_scale=59.407, hull_draft_m=14.5)
    card = build_synthetic_dataset(spec, out)
    assert card["frames"] == {"train": 0, "val": 0, "test": 4}
    hull = card["unseen"]["hull"]
    assert hull["file"] == "DTC-scaled.stl.gz" and hull["scale"] == 59.407 and hull["draft_m"] == 14.5
    assert len(hull["sha256"]) == 64 and hull["sha256"] in card["licence"]  # a third-party mesh: its licence
    for h in card["hulls"]:
        assert h["family"] == "mesh file" and h["placement"]["draft_m"] == 14.5
        assert 360 < h["mesh"]["length_m"] < 380  # the full-scale ship, not the 6 m model
        for s in h["scenarios"]:
            assert {k for k in s["objects"] if OBJECT_KINDS[k][0] == "parasitic_container"} \
                <= set(HELDOUT_CONTAINER_KINDS)
    assert card["labels"]["test"].get("parasitic_container", 0) > 0
    with pytest.raises(SyntheticDatasetError, match="between the keel and the deck"):
        SyntheticRenderer(dataclasses.replace(spec, hull_draft_m=50.0))


@pytest.mark.parametrize("kind", VARIED_CONTAINER_KINDS)
def test_varied_training_shapes_are_closed_own_per_object_and_not_heldout(kind):
    """Each object of a training family draws its own shape, a pure function of the object;
    none is a held-out shape (checked on the shape: no hexagonal prism, no wedge)."""
    from sim.object_meshes import object_mesh
    from sim.scenario import PlantedObject

    shapes = []
    for k in range(6):
        obj = PlantedObject("c", kind, (1.0, 2.0 + k, 3.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0), (0.8, 0.4, 0.3),
                            "hull", (0.5, 0.5, 0.5), 0.5)
        m = object_mesh(obj)
        assert np.array_equal(m.vertices, object_mesh(obj).vertices)  # the same object, the same mesh
        edges = Counter(tuple(e) for f in m.faces for e in ((f[0], f[1]), (f[1], f[2]), (f[2], f[0])))
        assert all(n == 1 and edges[(b, a)] == 1 for (a, b), n in edges.items())  # closed, consistently wound
        a, b, c = (m.vertices[m.faces[:, i]] - obj.center_h for i in range(3))
        volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6
        assert 0.45 * 0.8 * 0.4 * 0.3 < volume < 0.8 * 0.4 * 0.3 + 1e-9  # outward, inside its box
        rel = m.vertices - obj.center_h
        assert np.allclose(np.ptp(rel, axis=0), [0.8, 0.3, 0.4], atol=1e-6)
        shapes.append(rel)
        if kind == "prism_case":
            assert (m.n_vertices - 2) // 2 != 6
    assert any(len(s) != len(shapes[0]) or not np.allclose(s, shapes[0]) for s in shapes[1:])  # a family


def test_training_sets_draw_the_varied_shapes_and_never_heldout_ones(tmp_path):
    card = build_synthetic_dataset(SyntheticSpec("camera", 36, seed=5, image_size=(96, 72)), tmp_path / "t")
    assert card["parameters"]["container_kinds"] == list(TRAINING_CONTAINER_KINDS)
    drawn = {k for h in card["hulls"] for s in h["scenarios"] for k in s["objects"]
             if OBJECT_KINDS[k][0] == "parasitic_container"}
    assert drawn & set(VARIED_CONTAINER_KINDS) and drawn & set(CONTAINER_KINDS)
    assert not drawn & set(HELDOUT_CONTAINER_KINDS)
    assert set(TRAINING_CONTAINER_KINDS).isdisjoint(HELDOUT_CONTAINER_KINDS)
