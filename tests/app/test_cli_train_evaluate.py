"""`hullwatch train` and `hullwatch evaluate` as users type them: a real (tiny) training
through app.cli.main in this process (offline, network guarded), then evaluation of what
it wrote; argument and error paths through a real `python -m app.cli` process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.vision.conftest import no_network, ultralytics_offline  # noqa: F401 - fixtures
from vision.classes import CLASSES

REPO = Path(__file__).resolve().parents[2]


def hullwatch(*args: str, env_extra=None, pre: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env_extra or {}))
    code = f"import sys\n{pre}\nfrom app.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=env)


def _one_line_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("hullwatch: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset

    root = tmp_path_factory.mktemp("cli_train") / "data"
    build_synthetic_dataset(SyntheticSpec("camera", 12, seed=5, image_size=(96, 72)), root)
    return root


def test_train_then_evaluate_end_to_end(ultralytics_offline, no_network, data, tmp_path, capsys):  # noqa: F811
    from app.cli import main

    out = tmp_path / "models" / "cam.onnx"
    rc = main(["train", "--kind", "camera", "--data", str(data), "--epochs", "1", "--imgsz", "64,96", "--batch", "4",
               "--seed", "2", "--threads", "1", "-o", str(out)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "train: epoch 1/1" in cap.err and "val mAP50" in cap.err  # progress on stderr
    assert "train: exporting best.pt to ONNX, input 64x96" in cap.err
    assert f"wrote {out}" in cap.out and "input 64x96" in cap.out and "1 epochs" in cap.out
    card = json.loads(out.with_name("cam.card.json").read_text())
    assert card["format"] == "hullwatch-model-card" and card["classes"] == list(CLASSES)
    assert card["input_hw"] == [64, 96] and card["training"]["imgsz"] == 96
    assert card["training"]["seed"] == 2 and card["training"]["dataset"]["seed"] == 5
    assert out.with_name("cam.train").is_dir() and (out.with_name("cam.train") / "run.json").is_file()

    rep = tmp_path / "eval.json"
    rc = main(["evaluate", str(out), str(data), "--json", str(rep), "--fps", "5"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    lines = cap.out.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("class"))
    assert lines[header].split() == ["class", "thr", "images", "inst", "P", "R@thr", "mAP50", "mAP50-95"]
    assert [ln.split()[0] for ln in lines[header + 1: header + 1 + len(CLASSES)]] == list(CLASSES)
    assert lines[header + 1 + len(CLASSES)].startswith("all (mean)")
    assert "per minute at 5 fps" in cap.out or "no object-free images" in cap.out
    doc = json.loads(rep.read_text())
    ds_card = json.loads((data / "card.json").read_text())
    assert doc["split"] == "test" and doc["images"] == ds_card["frames"]["test"]
    assert doc["model_sha256"] == card["sha256"] and doc["false_alarms"]["fps"] == 5

    # --record puts the result in the card (once per data set and split), weights untouched
    onnx_bytes = out.read_bytes()
    for _ in range(2):
        assert main(["evaluate", str(out), str(data), "--record"]) == 0
    cap = capsys.readouterr()
    assert "recorded in" in cap.out
    recorded = json.loads(out.with_name("cam.card.json").read_text())
    assert len(recorded["evaluations"]) == 1 and recorded["evaluations"][0]["split"] == "test"
    assert recorded["evaluations"][0]["dataset_card"]["seed"] == 5
    assert recorded["evaluations"][0]["result"]["images"] == ds_card["frames"]["test"]
    assert out.read_bytes() == onnx_bytes and recorded["sha256"] == card["sha256"]
    from vision.detect import OnnxDetector

    OnnxDetector(out, expected_classes=CLASSES)  # the card still loads and matches its weights

    # nothing left to resume once the run finished
    rc = main(["train", "--resume", "-o", str(out)])
    cap = capsys.readouterr()
    assert rc == 1 and "finished already" in cap.err


def test_train_within_a_time_budget_from_a_relative_output(ultralytics_offline, no_network, data, tmp_path,  # noqa: F811
                                                          monkeypatch, capsys):
    """--hours: ultralytics re-plans the epochs to the budget (here far more than --epochs, since
    a tiny epoch takes a second); a relative -o keeps the work folder beside the model, not in
    ultralytics' own runs/ folder under the working directory."""
    from app.cli import main

    monkeypatch.chdir(tmp_path)
    budget_h = 8.0 / 3600
    rc = main(["train", "--kind", "camera", "--data", str(data), "--epochs", "1", "--imgsz", "64,96", "--batch", "4",
               "--threads", "1", "--hours", str(budget_h), "-o", "models/cam.onnx"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    card = json.loads((tmp_path / "models" / "cam.card.json").read_text())
    training = card["training"]
    assert training["hours_budget"] == budget_h
    assert training["epochs_completed"] >= 2, "the budget, not --epochs 1, set the length"
    assert training["epochs_completed"] <= training["epochs"]  # the last plan; the clock may stop it sooner
    assert training["wall_time_s"] < budget_h * 3600 + 30  # stops at the budget (plus the epoch under way)
    assert (tmp_path / "models" / "cam.train" / "run" / "weights" / "best.pt").is_file()
    assert not (tmp_path / "runs").exists()


def test_train_errors_are_one_line(data, tmp_path):
    proc = hullwatch("train", "--kind", "camera", "--data", str(tmp_path / "none"), "-o", str(tmp_path / "m.onnx"))
    assert proc.returncode == 1 and "no such data set folder" in _one_line_error(proc.stderr)
    proc = hullwatch("train", "--kind", "sonar", "--data", str(data), "-o", str(tmp_path / "m.onnx"))
    assert proc.returncode == 1 and "holds camera images" in _one_line_error(proc.stderr)
    proc = hullwatch("train", "--kind", "camera", "--data", str(data), "-o", str(tmp_path / "m.onnx"),
                     pre="sys.modules['ultralytics'] = None  # as if the train extra were not installed")
    msg = _one_line_error(proc.stderr)
    assert proc.returncode == 1 and "install the train extra" in msg and "pip install -e" in msg
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "m.train").exists()
    # several data sets: the same set twice is refused, a held-out evaluation set is refused
    proc = hullwatch("train", "--kind", "camera", "--data", str(data), "--data", str(data), "-o",
                     str(tmp_path / "m.onnx"))
    assert proc.returncode == 1 and "given twice" in _one_line_error(proc.stderr)
    held = tmp_path / "held"
    from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset

    build_synthetic_dataset(SyntheticSpec("camera", 3, seed=1, image_size=(64, 48), heldout=True), held)
    proc = hullwatch("train", "--kind", "camera", "--data", str(data), "--data", str(held), "-o",
                     str(tmp_path / "m.onnx"))
    assert proc.returncode == 1 and "held-out evaluation set" in _one_line_error(proc.stderr)
    assert not (tmp_path / "m.train").exists()


@pytest.mark.parametrize("args", [["train", "--kind", "camera", "-o", "m.onnx"],  # no --data
                                  ["train", "--kind", "camera", "--data", "d", "--imgsz", "500", "-o", "m.onnx"],
                                  ["train", "--kind", "camera", "--data", "d", "--epochs", "0", "-o", "m.onnx"],
                                  ["train", "--kind", "boat", "--data", "d", "-o", "m.onnx"],
                                  ["evaluate", "m.onnx"],
                                  ["evaluate", "m.onnx", "d", "--conf", "1.5"],
                                  ["evaluate", "m.onnx", "d", "--split", "all"]])
def test_bad_arguments_exit_2(args):
    proc = hullwatch(*args)
    assert proc.returncode == 2, proc.stderr
    assert f"usage: hullwatch {args[0]}" in proc.stderr


def test_evaluate_errors_are_one_line(data, tmp_path):
    proc = hullwatch("evaluate", str(tmp_path / "none.onnx"), str(data))
    assert proc.returncode == 1 and "model file not found" in _one_line_error(proc.stderr)


def test_help_names_the_options():
    for cmd, opts in (("train", ("--kind", "--data", "--epochs", "--imgsz", "--seed", "--resume", "-o")),
                      ("evaluate", ("--split", "--conf", "--fps", "--json"))):
        proc = hullwatch(cmd, "--help")
        assert proc.returncode == 0
        for opt in opts:
            assert opt in proc.stdout
