"""The real FLS sonar frames converted to our YOLO layout."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vision.classes import CLASS_ID
from vision.training.fls_dataset import FlsDatasetError, convert_fls, read_annotation

FLS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sonar_fls" / "watertank-segmentation"
needs_fls = pytest.mark.skipif(not FLS.is_dir(), reason="../shared/data is not beside the checkout")


def _tiny_copy(tmp_path: Path, n: int) -> Path:
    """The first n annotated frames, so the test stays fast (read-only source untouched)."""
    src = tmp_path / "src"
    (src / "BoxAnnotations").mkdir(parents=True)
    (src / "Images").mkdir()
    xmls = sorted(FLS.glob("BoxAnnotations/*.xml"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))[:n]
    for x in xmls:
        (src / "BoxAnnotations" / x.name).write_bytes(x.read_bytes())
        name, *_ = read_annotation(x)
        (src / "Images" / name).write_bytes((FLS / "Images" / name).read_bytes())
    return src


@needs_fls
def test_boxes_are_x_y_w_h_and_map_honestly(tmp_path):
    src = _tiny_copy(tmp_path, 160)
    card = convert_fls(src, tmp_path / "out", seed=1)
    out = tmp_path / "out"
    assert (out / "data.yaml").is_file() and json.loads((out / "dataset_card.json").read_text())["seed"] == 1
    assert set(card["class_mapping"].values()) == {"propeller", "parasitic_container"}
    # frame 10 holds a Drink-carton at x=125 y=202 w=25 h=30 in a 320x480 image (and a Wall, a Tire: unlabelled)
    label = next(out.glob("labels/*/marine-debris-aris3k-10.txt")).read_text().split()
    assert int(label[0]) == CLASS_ID["parasitic_container"]
    assert np.allclose([float(v) for v in label[1:]], [(125 + 12.5) / 320, (202 + 15) / 480, 25 / 320, 30 / 480],
                       atol=1e-5)
    # split by blocks of consecutive frames: no block straddles two splits
    split_of = {p.stem: p.parent.name for p in out.glob("labels/*/*.txt")}
    for stem, split in split_of.items():
        n = int(stem.rsplit("-", 1)[1])
        neighbour = f"marine-debris-aris3k-{n + 1}"
        if (n + 1) // 50 == n // 50 and neighbour in split_of:
            assert split_of[neighbour] == split


def test_bad_sources_are_refused(tmp_path):
    with pytest.raises(FlsDatasetError, match="BoxAnnotations"):
        convert_fls(tmp_path, tmp_path / "out")
    (tmp_path / "src" / "BoxAnnotations").mkdir(parents=True)
    (tmp_path / "src" / "Images").mkdir()
    (tmp_path / "src" / "BoxAnnotations" / "x-1.xml").write_text("<annotation><size>")
    with pytest.raises(FlsDatasetError, match="x-1.xml"):
        convert_fls(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written
    assert not list(tmp_path.glob(".out.*"))
