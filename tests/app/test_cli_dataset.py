"""`hullwatch dataset` as users type it: a real process renders a real data set."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FLS = REPO.parent / "shared" / "data" / "sonar_fls" / "watertank-segmentation"


def hullwatch(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=env)


def _one_line_error(proc) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("hullwatch: error:")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_renders_a_camera_set_then_refuses_to_overwrite_it_unless_forced(tmp_path):
    out = tmp_path / "cam"
    proc = hullwatch("dataset", "--kind", "camera", "--n", "6", "--seed", "4", "--size", "96x72", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "dataset: 6/6 camera images" in proc.stderr  # progress on stderr
    card = json.loads((out / "card.json").read_text())
    assert sum(card["frames"].values()) == 6 and card["seed"] == 4 and card["kind"] == "camera"
    assert f"wrote {out}: 6 images" in proc.stdout
    assert len(list(out.glob("images/*/*.png"))) == 6 == len(list(out.glob("labels/*/*.txt")))
    before = (out / "card.json").read_bytes()

    again = hullwatch("dataset", "--kind", "camera", "--n", "6", "--seed", "5", "-o", str(out))
    assert again.returncode == 1 and "not empty" in _one_line_error(again) and "--force" in again.stderr
    assert (out / "card.json").read_bytes() == before  # untouched

    forced = hullwatch("dataset", "--kind", "sonar", "--n", "3", "--seed", "5", "--size", "96x54", "--force",
                       "-o", str(out))
    assert forced.returncode == 0, forced.stderr
    assert json.loads((out / "card.json").read_text())["kind"] == "sonar"
    assert len(list(out.glob("images/*/*.png"))) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam"]  # no temp folders left


@pytest.mark.parametrize("args", [["--n", "0"], ["--n", "2"], ["--n", "many"], ["--n", "5", "--seed", "-1"],
                                  ["--n", "5", "--size", "10x10"], ["--n", "5", "--size", "big"],
                                  ["--n", "5", "--negatives", "1.5"], [], ["--n", "5", "--from-fls", "x"],
                                  ["--n", "5", "--focus", "propeller"], ["--from-fls", "x", "--focus", "niche"],
                                  ["--n", "5", "--standoff", "0", "2"], ["--n", "5", "--standoff", "1"],
                                  ["--from-fls", "x", "--standoff", "1", "2"]])
def test_bad_arguments_exit_2(tmp_path, args):
    proc = hullwatch("dataset", "--kind", "camera", *args, "-o", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert "usage: hullwatch dataset" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_help_names_the_options():
    proc = hullwatch("dataset", "--help")
    assert proc.returncode == 0
    for opt in ("--kind", "--n", "--seed", "--size", "--negatives", "--focus", "--force", "--from-fls", "--heldout", "--hull",
                "--hull-scale", "--draft", "--standoff"):
        assert opt in proc.stdout


def test_standoff_sets_where_sonar_views_are_taken_from(tmp_path):
    out = tmp_path / "near"
    proc = hullwatch("dataset", "--kind", "sonar", "--n", "3", "--size", "96x54", "--standoff", "1", "2.5",
                     "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "from 1-2.5 m" in proc.stderr
    assert json.loads((out / "card.json").read_text())["parameters"]["standoff_m"] == [1.0, 2.5]
    records = [json.loads(ln) for ln in (out / "index.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(1.0 <= r["standoff_m"] <= 2.5 for r in records)
    backwards = hullwatch("dataset", "--kind", "sonar", "--n", "3", "--standoff", "4", "2", "-o", str(tmp_path / "b"))
    assert backwards.returncode == 1 and "standoff" in _one_line_error(backwards)
    assert not (tmp_path / "b").exists()


def test_a_folder_that_is_not_a_data_set_is_never_replaced(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    proc = hullwatch("dataset", "--kind", "sonar", "--n", "3", "--force", "-o", str(tmp_path))
    assert proc.returncode == 1 and "holds no data set" in _one_line_error(proc)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_from_fls_needs_sonar_and_an_fls_folder(tmp_path):
    proc = hullwatch("dataset", "--kind", "camera", "--from-fls", str(tmp_path), "-o", str(tmp_path / "o"))
    assert proc.returncode == 1 and "--kind sonar" in _one_line_error(proc)
    proc = hullwatch("dataset", "--kind", "sonar", "--from-fls", str(tmp_path), "-o", str(tmp_path / "o"))
    assert proc.returncode == 1 and "BoxAnnotations" in _one_line_error(proc)


def test_renders_a_heldout_set(tmp_path):
    out = tmp_path / "held"
    proc = hullwatch("dataset", "--kind", "camera", "--n", "3", "--seed", "2", "--size", "96x72", "--heldout",
                     "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "held-out camera images on held-out parametric hulls" in proc.stderr
    assert "(train 0, val 0, test 3)" in proc.stdout and "for evaluation only" in proc.stdout
    card = json.loads((out / "card.json").read_text())
    assert card["heldout"] is True and card["frames"] == {"train": 0, "val": 0, "test": 3}
    assert "What training never saw" in (out / "card.md").read_text()


@pytest.mark.parametrize("args", [["--n", "3", "--hull", "h.stl"], ["--n", "3", "--draft", "4"],
                                  ["--n", "3", "--heldout", "--draft", "4"],
                                  ["--n", "3", "--heldout", "--hull-scale", "0"],
                                  ["--from-fls", "x", "--heldout"]])
def test_heldout_arguments_exit_2(tmp_path, args):
    proc = hullwatch("dataset", "--kind", "sonar", *args, "-o", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert "usage: hullwatch dataset" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_heldout_hull_errors_are_one_line(tmp_path):
    proc = hullwatch("dataset", "--kind", "sonar", "--n", "3", "--heldout", "--hull", str(tmp_path / "none.stl"),
                     "-o", str(tmp_path / "out"))
    assert proc.returncode == 1 and "not found" in _one_line_error(proc)
    assert not (tmp_path / "out").exists()
