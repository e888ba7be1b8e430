"""Synthetic YOLO data sets rendered from the embedded world: reproducible to the byte,
labels that are the renderer's own ground truth, a card that agrees with the files, splits
by hull, and an output folder that is never left half-written or wrongly replaced."""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from vision.classes import CLASSES
from vision.training.synthetic_dataset import (MIN_CONTRAST, SONAR_ALONG_SURFACE_INCIDENCE_DEG, SyntheticDatasetError,
                                               SyntheticRenderer, SyntheticSpec, box_contrast, build_synthetic_dataset,
                                               parameters)
from vision.training.yolo_layout import DatasetLayoutError

CAMERA = SyntheticSpec("camera", 12, seed=7, image_size=(160, 120))
SONAR = SyntheticSpec("sonar", 8, seed=7, image_size=(192, 108))


@pytest.fixture(scope="module")
def camera_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("camera") / "set"
    return out, build_synthetic_dataset(CAMERA, out)


@pytest.fixture(scope="module")
def sonar_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("sonar") / "set"
    return out, build_synthetic_dataset(SONAR, out)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _label_rows(path: Path) -> list[tuple[int, np.ndarray]]:
    rows = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    return [(int(r[0]), np.array([float(v) for v in r[1:]])) for r in rows]


def test_same_seed_same_bytes(sonar_set, tmp_path):
    out, _ = sonar_set
    again = build_synthetic_dataset(SONAR, tmp_path / "again")
    a, b = _files(out), _files(tmp_path / "again")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    assert again["labels"] == json.loads((out / "card.json").read_text())["labels"]
    build_synthetic_dataset(SyntheticSpec("sonar", 8, seed=8, image_size=(192, 108)), tmp_path / "other")
    other = _files(tmp_path / "other")
    images = [k for k in a if k.endswith(".png")]
    assert sum(other.get(k) == a[k] for k in images) == 0  # another seed: other pictures


def test_camera_labels_are_the_frames_ground_truth_boxes(camera_set):
    out, _ = camera_set
    seen = Counter()
    for sample in SyntheticRenderer(CAMERA).samples():
        w, h = 160, 120
        # the renderer's boxes (x1/y1 exclusive) with a class we detect, as YOLO centre/size
        faint = set(sample.record["unlabelled_too_faint"])
        want = sorted((CLASSES.index(c), ((x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h))
                      for name, c, (x0, y0, x1, y1) in sample.frame.boxes if c in CLASSES and name not in faint)
        got = sorted(_label_rows(out / "labels" / sample.split / (Path(sample.record["image"]).stem + ".txt")),
                     key=lambda r: (r[0], tuple(r[1])))
        assert [c for c, _ in got] == [c for c, _ in want]
        for (_, g), (_, wb) in zip(got, want):
            assert np.allclose(g, wb, atol=2e-6)
        # distractors (no class) never become labels
        assert len(got) == sum(c in CLASSES and n not in faint for n, c, _ in sample.frame.boxes)
        for name in faint:  # left out only because they cannot be seen in the picture
            cid, box = next((CLASSES.index(c), b) for n, c, b in sample.frame.boxes if n == name)
            assert box_contrast(sample.image, sample.frame.class_ids, cid, box) < MIN_CONTRAST
        seen["faint"] += len(faint)
        # and the written image is the rendered one
        import cv2
        assert np.array_equal(cv2.imread(str(out / sample.record["image"]), cv2.IMREAD_UNCHANGED), sample.image)
        seen.update(CLASSES[c] for c, _ in got)
    assert seen["parasitic_container"] > 0  # the views do look at planted objects


def test_sonar_labels_enclose_the_echoes_in_the_fan(sonar_set):
    out, _ = sonar_set
    n_boxes = 0
    for sample in SyntheticRenderer(SONAR).samples():
        fan = sample.fan
        rows = _label_rows(out / "labels" / sample.split / (Path(sample.record["image"]).stem + ".txt"))
        faint = set(sample.record["unlabelled_too_faint"])  # echoes lost in the speckle: not labelled
        polar = [(k + 1, c) for k, (n, c, _) in enumerate(sample.frame.boxes_polar) if c in CLASSES and n not in faint]
        assert sorted(c for c, _ in rows) == sorted(CLASSES.index(c) for _, c in polar)
        pad = int(round(sample.frame.min_range_m / sample.frame.range_resolution_m))
        for k, cls in polar:
            # centres of the range bins and beams that show the echo, placed in the fan by its own
            # geometry (not by the label code's pixel lookup). These small fans put up to 5 range
            # bins in a pixel row and show the one at its centre, so a bin at an echo's edge can
            # lie 2 pixels (2.5 with rounding) from the nearest pixel that shows the echo
            rows_k, beams = np.nonzero(sample.frame.object_ids == k)
            x, y = fan.polar_to_pixel((rows_k + pad) * fan.range_resolution_m, fan.beam_index_to_bearing(beams))
            tol_x, tol_y = 2.5 / fan.width_px, 2.5 / fan.height_px
            x, y = x / fan.width_px, y / fan.height_px
            assert len(x) and any(c == CLASSES.index(cls)
                                  and np.all(np.abs(x - b[0]) <= b[2] / 2 + tol_x)
                                  and np.all(np.abs(y - b[1]) <= b[3] / 2 + tol_y)
                                  for c, b in rows), (sample.record["image"], cls)
            n_boxes += 1
    assert n_boxes > 0


def test_card_counts_match_the_label_files(camera_set):
    out, card = camera_set
    on_disk = json.loads((out / "card.json").read_text())
    assert on_disk == card
    for split in ("train", "val", "test"):
        files = sorted((out / "labels" / split).glob("*.txt"))
        assert len(files) == card["frames"][split] == len(list((out / "images" / split).glob("*.png")))
        counts = Counter(CLASSES[c] for f in files for c, _ in _label_rows(f))
        assert card["labels"][split] == dict(counts)
        assert card["empty_images"][split] == sum(not _label_rows(f) for f in files)
    assert sum(card["frames"].values()) == CAMERA.n == len((out / "index.jsonl").read_text().splitlines())
    assert card["classes"] == list(CLASSES) and card["seed"] == 7 and card["source"] == "synthetic"
    assert "AGPL" in card["licence"] and card["generator"]["generator_version"] >= 1
    md = (out / "card.md").read_text()
    assert "| **images** | " + " | ".join(str(card["frames"][s]) for s in ("train", "val", "test")) in md
    yaml = (out / "data.yaml").read_text()
    assert "path:" not in yaml  # relocatable: ultralytics takes data.yaml's folder as the root
    assert [ln.split(": ", 1)[1] for ln in yaml.splitlines() if ln.startswith("  ")] == list(CLASSES)


def test_splits_keep_each_hull_together(camera_set):
    out, card = camera_set
    records = [json.loads(ln) for ln in (out / "index.jsonl").read_text().splitlines()]
    split_of_hull: dict[int, set] = {}
    for r in records:
        split_of_hull.setdefault(r["hull"], set()).add(r["split"])
        assert r["image"].startswith(f"images/{r['split']}/") and f"_h{r['hull']:04d}_" in r["image"]
    assert all(len(s) == 1 for s in split_of_hull.values())
    assert {s for v in split_of_hull.values() for s in v} == {"train", "val", "test"}
    assert {h["index"]: h["split"] for h in card["hulls"]} == {h: s.pop() for h, s in split_of_hull.items()}
    # hulls really differ (domain randomisation of the vessel)
    assert len({tuple(sorted(h["dims"].items())) for h in card["hulls"]}) == len(card["hulls"])


def test_negative_share_is_controlled(tmp_path):
    spec = SyntheticSpec("sonar", 10, seed=3, image_size=(128, 72), negative_fraction=0.5)
    records = [s.record for s in SyntheticRenderer(spec).samples()]
    negatives = [r for r in records if r["role"] == "negative"]
    assert len(negatives) == 5
    assert sum(not r["labels"] for r in negatives) >= 4  # chosen to show no labelled object
    # object views still show labelled objects (sonar labels need an echo above the speckle,
    # so fewer than half of them do): more often than the negatives
    objects = [r for r in records if r["role"] == "object"]
    assert sum(bool(r["labels"]) for r in objects) >= 1
    assert (sum(bool(r["labels"]) for r in objects) / len(objects)
            > sum(bool(r["labels"]) for r in negatives) / len(negatives))


def test_a_niche_focused_set_looks_at_every_kind_of_niche_area():
    # the default draws areas one by one, so the one propeller of a hull gets ~1 view in 60
    spec = SyntheticSpec("sonar", 60, seed=4, image_size=(96, 54), negative_fraction=0.1, focus="niche",
                         images_per_hull=20)
    renderer = SyntheticRenderer(spec)
    records = [s.record for s in renderer.samples()]
    roles = Counter(r["role"] for r in records)
    # a view that finds no pose near its area takes the wetted hull instead (the last try)
    assert roles["negative"] == 6 and roles["niche"] >= 50 and set(roles) <= {"niche", "negative", "hull"}
    kinds = Counter(r["niche_kind"] for r in records if r["role"] == "niche")
    # 7 or 8 kinds of area (stern thrusters only on some hulls), each drawn alike
    assert {"propeller", "rudder", "bow_thruster", "sea_chest", "anode"} <= set(kinds)
    assert kinds["propeller"] >= 3 and kinds["rudder"] >= 3
    default = SyntheticRenderer(dataclasses.replace(spec, focus=None))
    default_records = [s.record for s in default.samples()]
    assert sum(r["role"] == "niche" for r in default_records) < 30
    assert parameters(spec)["view_roles"] == {"niche": 1.0} and parameters(spec)["focus"] == "niche"


def test_a_distractor_focused_set_looks_at_distractors():
    """What the alarm verifier mines its look-alikes from: every view aims at a fender, rope,
    debris, fish or fouling clump, and the camera does see it (its box is in the record)."""
    spec = SyntheticSpec("camera", 24, seed=4, image_size=(320, 240), negative_fraction=0.1, focus="distractor",
                         images_per_hull=12)
    records = [s.record for s in SyntheticRenderer(spec).samples()]
    roles = Counter(r["role"] for r in records)
    assert roles["negative"] == 2 and roles["distractor"] == 22
    aimed = [r for r in records if r["role"] == "distractor"]
    assert all(r["target_kind"] == "distractor" for r in aimed)
    assert sum(r["target"] in {d["name"] for d in r["distractors"]} for r in aimed) >= 0.75 * len(aimed)
    default = [s.record for s in SyntheticRenderer(dataclasses.replace(spec, focus=None)).samples()]
    assert sum(r["target_kind"] == "distractor" for r in default) <= 3
    assert parameters(spec)["view_roles"] == {"distractor": 1.0} and "niche_area_draw" not in parameters(spec)


def test_a_standoff_range_is_where_views_are_taken_from():
    """Short standoffs (a sweep flown close along the hull) make objects large in the fan: every
    view's sensor lies in the asked range, the sonar's range scale follows, the card says so, and
    the default draw is what it was."""
    spec = SyntheticSpec("sonar", 12, seed=5, image_size=(128, 72), standoff_m=(1.0, 2.0))
    records = [s.record for s in SyntheticRenderer(spec).samples()]
    assert all(1.0 <= r["standoff_m"] <= 2.0 for r in records)
    assert all(r["sensor"]["max_range_m"] <= 4.4 for r in records)  # at most 2.2 x the standoff
    assert parameters(spec)["standoff_m"] == [1.0, 2.0]
    default = dataclasses.replace(spec, standoff_m=None)
    assert parameters(default)["standoff_m"] == [1.0, 10.0]
    assert max(r["standoff_m"] for r in (s.record for s in SyntheticRenderer(default).samples())) > 2.0


@pytest.mark.parametrize("kwargs, field", [({"n": 2}, "n"), ({"standoff_m": (2.0, 1.0)}, "standoff"),
                                           ({"standoff_m": (0.1, 1.0)}, "standoff"),
                                           ({"standoff_m": (1.0, 2.0, 3.0)}, "standoff: two numbers"),
                                           ({"standoff_m": 2.0}, "standoff: two numbers"),
                                           ({"standoff_m": ("near", "far")}, "standoff: two numbers"),
                                           ({"focus": "propeller"}, "focus"), ({"n": 0}, "n"), ({"n": 5.5}, "n"),
                                           ({"kind": "lidar"}, "kind"), ({"seed": -1}, "seed"),
                                           ({"negative_fraction": 0.95}, "negative_fraction"),
                                           ({"image_size": (16, 16)}, "image size")])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, kwargs, field):
    spec = SyntheticSpec(**{"kind": "camera", "n": 6, **kwargs})
    with pytest.raises(SyntheticDatasetError, match=field):
        build_synthetic_dataset(spec, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_folder_is_refused_and_never_wrongly_deleted(sonar_set, tmp_path):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.txt").write_text("precious")
    spec = SyntheticSpec("sonar", 3, seed=1, image_size=(96, 54))
    with pytest.raises(DatasetLayoutError, match="not empty"):
        build_synthetic_dataset(spec, mine)
    with pytest.raises(DatasetLayoutError, match="holds no data set"):
        build_synthetic_dataset(spec, mine, force=True)
    assert (mine / "thesis.txt").read_text() == "precious" and len(list(mine.iterdir())) == 1
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(DatasetLayoutError, match="is a file"):
        build_synthetic_dataset(spec, tmp_path / "a_file")
    # a previous data set is replaced with --force, completely
    old = tmp_path / "old"
    build_synthetic_dataset(SyntheticSpec("sonar", 4, seed=2, image_size=(96, 54)), old)
    card = build_synthetic_dataset(spec, old, force=True)
    assert sum(card["frames"].values()) == 3 == len(list(old.glob("images/*/*.png")))
    assert not list(tmp_path.glob(".*"))  # no temp folders left beside it


def test_a_failure_half_way_leaves_nothing(tmp_path):
    def stop_at_2(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_synthetic_dataset(SyntheticSpec("sonar", 4, seed=1, image_size=(96, 54)), tmp_path / "out",
                                progress=stop_at_2)
    assert list(tmp_path.iterdir()) == []


def test_grazing_sonar_views_lay_the_fan_along_the_surface(sonar_set):
    """A view from 60 deg or more off the target's normal lays its fan along the surface (the
    record keeps the fan's axes); a steeper one holds it on the vehicle's fixed mount."""
    out, _ = sonar_set
    records = [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]
    along = [r for r in records if "fan_along_surface" in r]
    assert along and len(along) < len(records)
    for r in records:
        assert ("fan_along_surface" in r) == (r["incidence_deg"] >= SONAR_ALONG_SURFACE_INCIDENCE_DEG)
        assert ("vehicle" in r) != ("fan_along_surface" in r)
    for r in along:
        f, u = (np.array(r["fan_along_surface"][k]) for k in ("forward_h", "up_h"))
        assert abs(f @ u) < 1e-3 and abs(np.linalg.norm(f) - 1) < 1e-3
