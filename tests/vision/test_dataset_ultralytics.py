"""ultralytics itself reads our synthetic data sets: its data-set checker accepts data.yaml,
and its YOLO data set / dataloader find every image and every label, offline."""
from __future__ import annotations

from collections import Counter

import pytest

from vision.classes import CLASSES
from vision.training.synthetic_dataset import SyntheticSpec, build_synthetic_dataset


def _load_with_ultralytics(root, card):
    from ultralytics.cfg import get_cfg
    from ultralytics.data.build import build_dataloader, build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset

    data = check_det_dataset(str(root / "data.yaml"), autodownload=False)
    assert data["nc"] == len(CLASSES) and [data["names"][i] for i in range(len(CLASSES))] == list(CLASSES)
    cfg = get_cfg(overrides={"imgsz": 160, "task": "detect", "cache": False})
    for split in ("train", "val", "test"):
        ds = build_yolo_dataset(cfg, data[split], batch=4, data=data, mode="val", stride=32)
        assert len(ds) == card["frames"][split]
        classes = Counter(CLASSES[int(c)] for lab in ds.labels for c in lab["cls"].ravel())
        assert dict(classes) == card["labels"][split]
        assert sum(len(lab["cls"]) == 0 for lab in ds.labels) == card["empty_images"][split]
        batch = next(iter(build_dataloader(ds, batch=4, workers=0, shuffle=False)))
        assert batch["img"].shape[0] == min(4, len(ds)) and batch["img"].shape[1] == 3
        assert len(batch["cls"]) == sum(len(ds.labels[i]["cls"]) for i in range(min(4, len(ds))))


def test_camera_set_of_50_loads_in_ultralytics(ultralytics_offline, no_network, tmp_path):
    root = tmp_path / "camera"
    card = build_synthetic_dataset(SyntheticSpec("camera", 50, seed=11, image_size=(160, 120)), root)
    assert sum(card["frames"].values()) == 50
    _load_with_ultralytics(root, card)


def test_sonar_set_loads_in_ultralytics(ultralytics_offline, no_network, tmp_path):
    root = tmp_path / "sonar"
    card = build_synthetic_dataset(SyntheticSpec("sonar", 12, seed=11, image_size=(192, 108)), root)
    _load_with_ultralytics(root, card)


def test_a_missing_split_is_reported_by_ultralytics(ultralytics_offline, no_network, tmp_path):
    """The check above can fail: ultralytics refuses a data set whose val images are gone."""
    import shutil

    from ultralytics.data.utils import check_det_dataset

    root = tmp_path / "broken"
    build_synthetic_dataset(SyntheticSpec("sonar", 3, seed=1, image_size=(96, 54)), root)
    shutil.rmtree(root / "images" / "val")
    with pytest.raises(FileNotFoundError):
        check_det_dataset(str(root / "data.yaml"), autodownload=False)
