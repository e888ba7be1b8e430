"""`hullwatch train`'s core: real ultralytics training (tiny: 24 rendered 128x96 images, 8 of
them for training, 30 short epochs at imgsz 128 with a high learning rate so the boxes mean
something), stopped after epoch 15 and resumed, exported to ONNX with a card
that vision.detect reads. The trained model is shared with test_onnx_detector.py and
test_evaluate_dataset.py through `tiny_model()` (trained once per test session)."""
from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import pytest

from vision.classes import CLASSES

_CACHE: dict = {}
EPOCHS, STOP_AT = 30, 15


def tiny_model(tmp_path_factory) -> dict:
    """Render the tiny data set, train 15 epochs, stop, check the unfinished run is refused
    without --resume, resume to epoch 30. Run once per session (~20-30 s; one torch thread,
    as the test machine's cores are shared)."""
    if "model" in _CACHE:
        return _CACHE
    from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset
    from vision.training.train import TrainError, TrainingStopped, TrainSpec, train_model

    root = tmp_path_factory.mktemp("tiny_train")
    data = root / "data"
    build_synthetic_dataset(SyntheticSpec("camera", 24, seed=3, image_size=(128, 96)), data)
    out = root / "models" / "tiny.onnx"
    spec = TrainSpec("camera", data, out, epochs=EPOCHS, imgsz=128, seed=1, batch=8, workers=0, threads=1,
                     hyperparameters=dict(optimizer="SGD", lr0=0.05, nbs=8, warmup_epochs=0, mosaic=0.0))
    first, second, logs = [], [], []
    t0 = time.monotonic()
    with pytest.raises(TrainingStopped) as stopped:
        train_model(spec, log=logs.append, on_epoch=first.append, should_stop=lambda epoch: epoch == STOP_AT)
    t1 = time.monotonic()
    work = out.with_name("tiny.train")
    state_after_stop = {"onnx_exists": out.exists(), "last_pt": (work / "run/weights/last.pt").is_file(),
                        "run": json.loads((work / "run.json").read_text())}
    with pytest.raises(TrainError) as unfinished:
        train_model(spec)
    card = train_model(dataclasses.replace(spec, resume=True, data=None, epochs=None, imgsz=None),
                       log=logs.append, on_epoch=second.append)
    _CACHE.update(data=data, model=out, card=card, work=work, first=first, second=second, logs=logs,
                  stopped=stopped.value, state_after_stop=state_after_stop, unfinished=str(unfinished.value),
                  first_run_s=t1 - t0, resume_run_s=time.monotonic() - t1)
    return _CACHE


@pytest.fixture
def tiny(ultralytics_offline, no_network, tmp_path_factory):
    return tiny_model(tmp_path_factory)


def test_train_writes_onnx_and_a_card_that_vision_detect_accepts(tiny):
    from vision.detect import OnnxDetector, load_card
    from vision.detect.model_card import sha256_of

    card = load_card(tiny["model"], CLASSES)
    assert card.sha256 == sha256_of(tiny["model"])
    assert card.classes == CLASSES and card.kind == "camera" and card.name == "tiny"
    assert card.input_hw == (96, 128)  # 128x96 frames at imgsz 128: rectangular, no padding
    det = OnnxDetector(tiny["model"], expected_classes=CLASSES)
    assert det.session.get_inputs()[0].shape == [1, 3, 96, 128]
    tr = card.extra["training"]
    ds_card = json.loads((tiny["data"] / "card.json").read_text())
    assert tr["dataset"]["seed"] == 3 and tr["dataset"]["frames"] == ds_card["frames"]
    assert tr["dataset"]["card"].endswith("card.json") and tr["dataset"]["scenario_seeds"]
    assert tr["epochs"] == EPOCHS and tr["epochs_completed"] == EPOCHS and tr["resumes"] == 1 and tr["seed"] == 1
    assert tr["hyperparameters"]["optimizer"] == "SGD"
    assert tr["imgsz"] == 128 and tr["ultralytics_version"] and tr["torch_version"] and tr["wall_time_s"] > 0
    assert tr["export"]["opset"] == 17 and tr["export"]["dynamic_axes"] is False
    m = card.extra["metrics"]
    assert m["split"] == "test" and m["images"] == ds_card["frames"]["test"]
    assert set(m["per_class"]) == set(CLASSES)
    for c in CLASSES:
        assert m["per_class"][c]["instances"] == ds_card["labels"]["test"].get(c, 0)
    assert m["false_alarms"]["empty_images"] == ds_card["empty_images"]["test"]
    assert "AGPL" in card.extra["licence"]["data"] and "synthetic" in card.extra["licence"]["data"]
    assert set(card.extra["threshold_selection"]) == set(CLASSES)
    assert all(0.05 <= t <= 0.9 for t in card.class_thresholds.values())


def test_a_stopped_run_resumes_from_its_last_epoch(tiny):
    assert [r.epoch for r in tiny["first"]] == list(range(1, STOP_AT + 1))
    assert [r.epoch for r in tiny["second"]] == list(range(STOP_AT + 1, EPOCHS + 1))
    assert all(r.epochs == EPOCHS for r in tiny["first"] + tiny["second"])
    r = tiny["first"][0]
    assert set(r.losses) == {"box_loss", "cls_loss", "dfl_loss"} and r.map50 == r.map50 and r.epoch_s > 0
    assert "val mAP50" in r.line() and f"epoch 1/{EPOCHS}" in r.line()
    assert tiny["stopped"].epoch == STOP_AT
    st = tiny["state_after_stop"]
    assert not st["onnx_exists"] and st["last_pt"]  # nothing shipped, checkpoint kept
    assert st["run"]["status"] == "running" and st["run"]["epochs_completed"] == STOP_AT
    assert "--resume" in tiny["unfinished"] and "unfinished" in tiny["unfinished"]
    assert any("resuming" in line and f"epoch {STOP_AT + 1}/{EPOCHS}" in line for line in tiny["logs"])
    # training went on where it stopped: the loss keeps falling after the restart
    first_loss = sum(tiny["first"][0].losses.values())
    assert sum(tiny["second"][-1].losses.values()) < 0.9 * first_loss
    assert json.loads((tiny["work"] / "run.json").read_text())["status"] == "finished"
    # the resumed training's wall time adds to the first run's
    assert tiny["card"]["training"]["wall_time_s"] >= tiny["second"][0].elapsed_s - 1e-6


def test_resume_refuses_finished_and_missing_runs(tiny, tmp_path):
    from vision.training.train import TrainError, TrainSpec, train_model

    with pytest.raises(TrainError, match="finished already"):
        train_model(TrainSpec("camera", None, tiny["model"], resume=True))
    with pytest.raises(TrainError, match="nothing to resume"):
        train_model(TrainSpec("camera", None, tmp_path / "new.onnx", resume=True))


def test_training_errors_name_the_cause(tiny, tmp_path):
    from vision.training.train import TrainError, TrainSpec, train_model

    def err(data, out="m.onnx", kind="camera"):
        with pytest.raises(TrainError) as e:
            train_model(TrainSpec(kind, data, tmp_path / out if isinstance(out, str) else out, epochs=1))
        return str(e.value)

    assert "no such data set folder" in err(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    assert "not a YOLO data set" in err(tmp_path / "empty")
    wrong = tmp_path / "wrong"
    shutil.copytree(tiny["data"], wrong)
    text = (wrong / "data.yaml").read_text().replace("parasitic_container", "container")
    (wrong / "data.yaml").write_text(text)
    msg = err(wrong)
    assert "class names" in msg and "container" in msg
    assert "holds camera images" in err(tiny["data"], kind="sonar")
    assert ".onnx" in err(tiny["data"], out="model.pt")
    (tmp_path / "afile").write_text("x")
    assert "cannot create the output folder" in err(tiny["data"], out=tmp_path / "afile" / "m.onnx")
    assert not list(tmp_path.glob("*.train"))  # nothing started


def test_imgsz_and_input_shapes():
    from vision.training.train import input_hw_for, parse_imgsz

    assert parse_imgsz("640") == 640 and parse_imgsz("480,640") == (480, 640)
    for bad in ("500", "abc", "480,640,3", "16"):
        with pytest.raises(ValueError):
            parse_imgsz(bad)
    assert input_hw_for(640, (640, 480)) == (480, 640)  # 4:3 video
    assert input_hw_for(640, (640, 360)) == (384, 640)  # sonar fan, padded up to a stride multiple
    assert input_hw_for(480, (320, 480)) == (480, 320)  # the real FLS frames are portrait
    assert input_hw_for((480, 640), (320, 480)) == (480, 640)
