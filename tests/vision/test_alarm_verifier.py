"""The alarm verifier: its input crop, its model file and card, and the AlarmBook's second
look. The verifier here is a real ONNX model built in the test whose container score rises
with the crop's brightness, so the rules of the look can be checked frame by frame."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vision.alarms import VERIFY_INTERVAL_S, VERIFY_WINDOW, AlarmBook
from vision.classes import CLASSES
from vision.detect.model_card import ModelError, sha256_of
from vision.detect.verifier import FORMAT, INPUT_PX, PAD_VALUE, VERSION, AlarmVerifier, verifier_input
from vision.detections import Detections
from vision.tracking import ByteTracker

VERIFIER_CLASSES = ["background", "parasitic_container", "niche_anomaly"]


def _brightness_model(path, n_out: int = 3) -> None:
    """logits = [0, 20 * (mean brightness - 0.5), 0]: bright crops are containers."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    w = np.zeros((3, n_out), np.float32)
    w[:, 1] = 20.0 / 3.0
    b = np.zeros(n_out, np.float32)
    b[1] = -10.0
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["crops", "axes"], ["m"], keepdims=0),
         helper.make_node("MatMul", ["m", "w"], ["mw"]), helper.make_node("Add", ["mw", "b"], ["logits"])],
        "brightness", [helper.make_tensor_value_info("crops", TensorProto.FLOAT, ["n", 3, INPUT_PX, INPUT_PX])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", n_out])],
        [helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3]),
         helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel()),
         helper.make_tensor("b", TensorProto.FLOAT, b.shape, b)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, str(path))


def _write_card(path, **over) -> dict:
    card = {"format": FORMAT, "version": VERSION, "classes": VERIFIER_CLASSES, "input_px": INPUT_PX,
            "levels": {"parasitic_container": 0.5}, "sha256": sha256_of(path)}
    card.update(over)
    path.with_name(path.stem + ".card.json").write_text(json.dumps(card))
    return card


@pytest.fixture
def verifier(tmp_path):
    path = tmp_path / "v.onnx"
    _brightness_model(path)
    _write_card(path)
    return AlarmVerifier(path)


def test_the_crop_keeps_the_box_shape_with_its_margin_and_pads_the_rest():
    img = np.zeros((480, 640, 3), np.uint8)
    img[200:240, 100:260] = 255  # a 160 x 40 box
    crop = verifier_input(img, (100, 200, 260, 240))
    assert crop.shape == (INPUT_PX, INPUT_PX, 3) and crop.dtype == np.uint8
    rows = np.flatnonzero((crop != PAD_VALUE).any(axis=(1, 2)))
    # 1.5 x (160 x 40) with the margin -> 240 x 60 -> 64 x 16 rows, centred
    assert 14 <= len(rows) <= 18 and abs(rows.mean() - INPUT_PX / 2) < 2
    bright = np.flatnonzero((crop > 200).all(axis=2).any(axis=1))
    assert 9 <= len(bright) <= 12  # the box is 2/3 of the crop's height
    edge = verifier_input(img, (600, 440, 700, 520))  # partly outside: clipped, not padded with frame
    assert edge is not None and edge.shape == (INPUT_PX, INPUT_PX, 3)
    assert verifier_input(img, (700, 500, 800, 600)) is None


def test_scores_follow_the_model_and_unjudged_classes_give_none(verifier):
    img = np.full((480, 640, 3), 250, np.uint8)
    bright = verifier.score(img, (100, 100, 200, 200), "parasitic_container")
    dark = verifier.score(np.full_like(img, 10), (100, 100, 200, 200), "parasitic_container")
    assert bright > 0.99 and dark < 0.01
    assert verifier.score(img, (100, 100, 200, 200), "niche_anomaly") is None  # no level for it
    assert verifier.level("parasitic_container") == 0.5 and verifier.level("niche_anomaly") is None
    p = verifier.scores(np.zeros((4, INPUT_PX, INPUT_PX, 3), np.uint8))
    assert p.shape == (4, 3) and np.allclose(p.sum(axis=1), 1.0)


def test_a_bad_verifier_file_or_card_is_named(tmp_path):
    path = tmp_path / "v.onnx"
    with pytest.raises(ModelError, match="alarm verifier not found"):
        AlarmVerifier(path)
    _brightness_model(path)
    with pytest.raises(ModelError, match="card is missing"):
        AlarmVerifier(path)
    card = path.with_name("v.card.json")
    card.write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        AlarmVerifier(path)
    _write_card(path, format="hullwatch-model-card")
    with pytest.raises(ModelError, match="not a HullWatch alarm verifier card"):
        AlarmVerifier(path)
    _write_card(path, levels={"fender": 0.5})
    with pytest.raises(ModelError, match="classes must start with 'background'"):
        AlarmVerifier(path)
    _write_card(path, sha256="0" * 64)
    with pytest.raises(ModelError, match="SHA-256 differs"):
        AlarmVerifier(path)
    path.write_bytes(b"garbage, not a protobuf")
    _write_card(path)
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        AlarmVerifier(path)
    _brightness_model(path, n_out=2)
    _write_card(path)
    with pytest.raises(ModelError, match="gives 2 scores for 3 classes"):
        AlarmVerifier(path)


def _feed(book, tracker, frames, t0=0.0, fps=10.0):
    """frames: brightness per frame of a steady container box; returns (frame, alarm) pairs."""
    raised = []
    for k, level in enumerate(frames):
        img = np.full((480, 640, 3), level, np.uint8)
        det = Detections([[200, 200, 300, 260]], [0.8], [CLASSES.index("parasitic_container")])
        for a in book.update(tracker.update(det), t0 + k / fps, img):
            raised.append((k, a))
    return raised


def test_a_track_the_verifier_doubts_waits_and_alarms_once_a_view_convinces_it(verifier):
    book = AlarmBook(CLASSES, "camera", evidence_conf_s={"parasitic_container": 0.25}, verifier=verifier)
    tracker = ByteTracker()
    # dark for 3 s: evidence is there after ~0.5 s, the verifier says no at each look
    raised = _feed(book, tracker, [10] * 30 + [250] * 20)
    assert len(raised) == 1
    k, alarm = raised[0]
    # one look per VERIFY_INTERVAL_S; the mean of the last VERIFY_WINDOW must reach 0.5:
    # with dark looks scoring ~0 and bright ~1, two bright looks of three are needed
    interval_frames = int(np.ceil(VERIFY_INTERVAL_S * 10))
    assert 30 + interval_frames * (VERIFY_WINDOW // 2) - interval_frames <= k <= 30 + interval_frames * VERIFY_WINDOW
    assert book.doubted >= 30 // interval_frames - 3
    assert alarm.snapshot is not None and alarm.snapshot.mean() > 200
    assert alarm.second_look_level == verifier.level("parasitic_container")
    assert alarm.second_look >= alarm.second_look_level  # what it alarmed on, kept for the record


def test_without_a_verifier_or_for_an_unjudged_class_the_evidence_alone_decides(verifier):
    plain = _feed(AlarmBook(CLASSES, "camera", evidence_conf_s={"parasitic_container": 0.25}), ByteTracker(),
                  [10] * 30)
    assert len(plain) == 1 and plain[0][0] < 10
    book = AlarmBook(CLASSES, "camera", evidence_conf_s={"niche_anomaly": 0.25}, verifier=verifier)
    tracker, raised = ByteTracker(), []
    for k in range(30):  # dark: the verifier would refuse it, but it has no level for anomalies
        det = Detections([[200, 200, 300, 260]], [0.8], [CLASSES.index("niche_anomaly")])
        raised += book.update(tracker.update(det), k / 10.0, np.full((480, 640, 3), 10, np.uint8))
    assert len(raised) == 1 and raised[0].class_name == "niche_anomaly"
    assert raised[0].second_look is None and plain[0][1].second_look is None  # nothing judged them


def test_training_mines_the_detectors_boxes_and_writes_a_verifier_the_station_loads(tmp_path, capsys):
    """A small rendered data set, the shipped detector and two epochs: the point is the
    chain (mining, labels, look-alikes, export, card), not the verifier's skill."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from resources import resource_path
    from vision.detect import OnnxDetector
    from vision.training import alarm_verifier as av
    from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset

    detector_path = resource_path("models", "camera.onnx")
    if not detector_path.exists():
        pytest.skip("no camera model shipped")
    data = tmp_path / "set"
    build_synthetic_dataset(SyntheticSpec("camera", 24, seed=5, negative_fraction=0.5), data)
    index = [json.loads(line) for line in (data / "index.jsonl").read_text().splitlines()]
    look_alikes = sum(len(r["distractors"]) for r in index)
    assert look_alikes > 0  # the data set keeps the boxes of what is in view but no class

    detector = OnnxDetector(detector_path, expected_classes=CLASSES)
    mined = av.mine(data, detector, ("train", "val", "test"))
    n = len(mined["labels"])
    assert mined["crops"].shape == (n, INPUT_PX, INPUT_PX, 3)
    labelled = sum(r["class"] in ("parasitic_container", "niche_anomaly") for rec in index for r in rec["labels"])
    assert (~mined["mined"]).sum() >= labelled  # every labelled alarm-class box, moved a little
    assert ((mined["labels"] == 0) & ~mined["mined"]).sum() >= 1  # and look-alikes as background

    out = tmp_path / "models" / "v.onnx"
    cache = tmp_path / "cache"
    run = [str(data), "--detector", str(detector_path), "--out", str(out), "--epochs", "2", "--cache", str(cache)]
    assert av.main(run) == 0
    assert sorted(p.name.split("-")[1] for p in cache.glob("*.npz")) == ["test", "train+val"]
    assert "crops from" not in capsys.readouterr().err
    first = json.loads(out.with_name("v.card.json").read_text())["training"]
    assert av.main(run) == 0  # the second run reads the crops back instead of mining again
    assert capsys.readouterr().err.count("crops from") == 2
    card = json.loads(out.with_name("v.card.json").read_text())
    assert (card["training"]["crops"], card["training"]["test_crops"]) == (first["crops"], first["test_crops"])
    (data / "card.json").write_text((data / "card.json").read_text() + " ")  # another data set: mined afresh
    assert av.main(run) == 0
    assert "crops from" not in capsys.readouterr().err and len(list(cache.glob("*.npz"))) == 4
    assert card["sha256"] == sha256_of(out) and card["classes"] == list(av.CLASSES)
    assert card["detector"]["sha256"] == detector.card.sha256 and card["training"]["epochs"] == 2
    assert "synthetic images rendered by HullWatch" in card["licence"]
    loaded = AlarmVerifier(out)
    p = loaded.scores(mined["crops"][:5])
    assert p.shape == (min(5, n), 3) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_a_verifier_trained_on_real_frames_carries_their_terms(tmp_path):
    """The real FLS frames' set (`hullwatch dataset --from-fls`) names its card
    dataset_card.json; its research-only terms reach the verifier's card as the detector's."""
    from vision.training import alarm_verifier as av
    from vision.training.fls_dataset import convert_fls

    fls = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sonar_fls" / "watertank-segmentation"
    if not fls.is_dir():
        pytest.skip("the real FLS frames are not in ../shared/data")
    convert_fls(fls, tmp_path / "fls", seed=7)
    (tmp_path / "bare").mkdir()
    terms = av.licence_of([tmp_path / "fls", tmp_path / "bare"])
    assert "fls: Training data: marine-debris-fls-datasets" in terms and "research" in terms, terms
    assert "bare: Training data: a YOLO data set without a HullWatch card" in terms, terms
    assert av._card_sha(tmp_path / "fls") is not None and av._card_sha(tmp_path / "bare") is None


def test_a_detector_card_naming_a_missing_verifier_says_so(tmp_path):
    import shutil

    from resources import resource_path
    from vision.detect import OnnxDetector
    from vision.detect.verifier import verifier_for

    shipped = resource_path("models", "camera.onnx")
    if not shipped.exists():
        pytest.skip("no camera model shipped")
    shutil.copy(shipped, tmp_path / "camera.onnx")
    card = json.loads(shipped.with_name("camera.card.json").read_text())
    card["alarm_verifier"] = "gone.onnx"
    (tmp_path / "camera.card.json").write_text(json.dumps(card))
    detector = OnnxDetector(tmp_path / "camera.onnx", expected_classes=CLASSES)
    with pytest.raises(ModelError, match="gone.onnx: alarm verifier not found"):
        verifier_for(detector)
    del card["alarm_verifier"]
    (tmp_path / "camera.card.json").write_text(json.dumps(card))
    assert verifier_for(OnnxDetector(tmp_path / "camera.onnx", expected_classes=CLASSES)) is None


def test_mining_teaches_bare_niche_fittings_as_background_but_never_anodes(tmp_path):
    """A container box the detector puts on a bare propeller is background the verifier must
    learn (every bench world alarmed at its propeller while those were left out); one on an
    anode is left out, since anodes are blocks much like magnetic boxes. The detector here is
    scripted, boxes where the labels are, because the miner is what is under test."""
    import cv2

    from vision.training import alarm_verifier as av

    (tmp_path / "images" / "test").mkdir(parents=True)
    (tmp_path / "labels" / "test").mkdir(parents=True)
    (tmp_path / "data.yaml").write_text("path: .\ntest: images/test\nnames:\n" +
                                        "".join(f"  {i}: {n}\n" for i, n in enumerate(CLASSES)))
    img = np.random.default_rng(0).integers(0, 255, (480, 640, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "images" / "test" / "a.png"), img)
    fittings = {"propeller": (40, 60, 240, 300), "rudder": (260, 60, 400, 400), "anode": (450, 200, 560, 260)}
    (tmp_path / "labels" / "test" / "a.txt").write_text("".join(
        f"{CLASSES.index(n)} {(x0 + x1) / 1280} {(y0 + y1) / 960} {(x1 - x0) / 640} {(y1 - y0) / 480}\n"
        for n, (x0, y0, x1, y1) in fittings.items()))

    class Scripted:
        classes = CLASSES
        card = type("Card", (), {"extra": {}})()

        def __call__(self, image, conf=None):
            boxes = list(fittings.values())
            return Detections(boxes, [0.6] * len(boxes), [CLASSES.index("parasitic_container")] * len(boxes))

    mined = av.mine(tmp_path, Scripted(), ("test",))
    assert mined["mined"].sum() == 2 and (mined["labels"][mined["mined"]] == 0).all()
    crops = mined["crops"][mined["mined"]]
    for name, expected in (("propeller", True), ("rudder", True), ("anode", False)):
        crop = verifier_input(img, fittings[name])
        assert any(np.array_equal(c, crop) for c in crops) == expected, name
