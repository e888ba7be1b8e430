"""ultralytics checkpoint (.pt) -> ONNX for vision.detect.OnnxDetector.

A fixed input (no dynamic axes), rectangular where the data is (480x640 for 4:3 video),
opset 17 (onnxruntime 1.18 and later, OpenCV dnn and OpenVINO all load it), graph
simplified with onnxslim when it is installed. The classic YOLO11 head comes out as
(1, 4 + classes, anchors); OnnxDetector applies the NMS.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

OPSET = 17


class ExportError(RuntimeError):
    pass


def export_onnx(checkpoint, dest, input_hw: tuple[int, int], *, opset: int = OPSET) -> dict:
    """Write `dest` (.onnx) from an ultralytics checkpoint; returns what was done (for the card).
    Call with ultralytics imported offline (vision.training.ultralytics_offline)."""
    from ultralytics import YOLO

    simplify = importlib.util.find_spec("onnxslim") is not None
    if importlib.util.find_spec("onnx") is None:
        raise ExportError("ONNX export needs the onnx package: install the train extra (pip install -e '.[train]')")
    h, w = (int(v) for v in input_hw)
    model = YOLO(str(checkpoint))
    try:
        out = model.export(format="onnx", imgsz=(h, w), opset=opset, simplify=simplify, dynamic=False,
                           device="cpu", verbose=False)
    except Exception as exc:  # ultralytics raises assorted types from its exporters
        raise ExportError(f"ONNX export of {checkpoint} failed: {type(exc).__name__}: {exc}") from exc
    if not out or not Path(out).is_file():
        raise ExportError(f"ONNX export of {checkpoint} wrote no file")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(out), dest)
    strip_machine_paths(dest)
    return {"opset": opset, "simplified_with": "onnxslim" if simplify else None, "dynamic_axes": False,
            "input_hw": [h, w], "head": "yolo11 classic (1, 4 + classes, anchors), NMS in OnnxDetector"}


def strip_machine_paths(onnx_path) -> None:
    """ultralytics writes the training data's absolute path into the model's metadata
    ("... trained on /home/.../data.yaml"); a shipped model keeps only the folder name."""
    import onnx

    model = onnx.load(str(onnx_path))
    changed = False
    for prop in model.metadata_props:
        if prop.key == "description" and " trained on " in prop.value:
            head, _, data = prop.value.partition(" trained on ")
            named = f"{head} trained on {Path(data).parent.name or Path(data).name}"
            changed |= named != prop.value
            prop.value = named
    if changed:
        onnx.save(model, str(onnx_path))
