"""The sonar model shipped in resources/models on the held-out split of the real forward-
looking sonar frames: its card's headline figure, reproduced here from the data in
../shared/data. (On rendered sonar fans this model finds nearly nothing: its card records
that; a rendered-set test comes with a model that learns them.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from resources import resource_path
from vision.classes import CLASSES

SONAR_MODEL = resource_path("models", "sonar.onnx")
FLS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sonar_fls" / "watertank-segmentation"
pytestmark = pytest.mark.skipif(not SONAR_MODEL.exists(), reason="no sonar model shipped in resources/models yet")

# The real split is fixed data and ONNX Runtime is deterministic on one machine: the floor sits
# just under the figure in the model card, so any regression of the model or the runtime shows.
REAL_SPLIT_MAP50_MARGIN = 0.02


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(SONAR_MODEL.with_name("sonar.card.json").read_text())


@pytest.mark.skipif(not FLS.is_dir(), reason="the real FLS frames are not in ../shared/data")
def test_real_fls_test_split_reaches_the_card_figure(card, tmp_path):
    from vision.evaluation.evaluate_dataset import evaluate_model
    from vision.training.fls_dataset import convert_fls

    fls_card = next(d for d in card["metrics"]["per_dataset"] if d["dataset"].startswith("fls"))
    convert_fls(FLS, tmp_path / "fls", seed=card["training"]["datasets"][0]["seed"])
    ev = evaluate_model(SONAR_MODEL, tmp_path / "fls", split="test")
    assert ev.images == fls_card["images"], "the converter no longer gives the split the model was measured on"
    got = ev.mean["map50"]
    assert got >= fls_card["mean"]["map50"] - REAL_SPLIT_MAP50_MARGIN, ev.table()
    used = {r.class_name: r for r in ev.rows if r.instances}
    assert set(used) == {"parasitic_container", "propeller"}, "the real frames hold these two of our classes"
