"""A trainable ultralytics checkpoint rebuilt from a shipped HullWatch ONNX model.

A shipped model is an ONNX file only; its training folder (the .pt checkpoints) stays on
the machine that trained it. To fine-tune it elsewhere, the YOLO11n graph is built again
from its YAML and every weight is read back from the ONNX initializers, which keep the
PyTorch module names ("model.2.m.0.cv1.conv.weight").

The export fused each convolution with its batch norm (conv + bias). Putting the bias in
the batch norm's beta with gamma 1 and zero mean would give the same model in eval mode,
but training normalises by the batch's own statistics and would rescale every layer at the
first step. So each batch norm is calibrated on real images: with mean m and variance v of
the fused convolution's output, gamma = sqrt(v + eps), beta = bias + m and running
statistics (m, v) give back conv + bias exactly in eval mode, whatever (m, v) are.

In training the layer normalises by each batch's own statistics instead, and it computes
what the original layer computed only when (m, v) are the original running statistics:
the average batch statistics of the augmented training batches, each layer fed by the
layers above it in training mode. Clean letterboxed images in eval mode miss that: rebuilt
from a trained sonar model's ONNX file, the training-mode loss on augmented real frames
came out 8 % above its own checkpoint's. So (m, v) are measured on augmented training
batches in training mode, five passes since each layer's statistics depend on the layers
above it (after them the loss equalled the checkpoint's: 3.16 and 3.16).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

CALIBRATION_IMAGES = 32
TRAIN_MODE_IMAGES = 64
TRAIN_MODE_PASSES = 5


class OnnxWeightsError(ValueError):
    pass


def _conv_weights(onnx_path: Path) -> dict[str, np.ndarray]:
    """Every convolution's weight and bias under its module's names ("X.weight", "X.bias").
    The bias is taken from the Conv node, not by name: onnxslim shares identical tensors,
    so a bias may be stored under another layer's name."""
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(onnx_path))
    except Exception as exc:  # noqa: BLE001 - damaged or foreign file: say which
        raise OnnxWeightsError(f"cannot read {onnx_path} as ONNX: {exc}") from None
    tensors = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    out = {}
    for node in model.graph.node:
        if node.op_type != "Conv" or len(node.input) < 2 or not node.input[1].endswith(".weight"):
            continue
        w = node.input[1]
        if w in tensors:
            out[w] = tensors[w]
            if len(node.input) > 2 and node.input[2] in tensors:
                out[w[: -len("weight")] + "bias"] = tensors[node.input[2]]
    return out


def _calibration_batch(images: list[Path], input_hw: tuple[int, int]):
    import cv2
    import torch

    from vision.detect.onnx_detector import input_batch

    read = [img for img in (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in images[:CALIBRATION_IMAGES])
            if img is not None]
    if not read:
        raise OnnxWeightsError("no readable calibration images: the training set's train split is empty or damaged")
    return torch.from_numpy(input_batch(read, input_hw)[0])


def augmented_batches(image_dirs: list[Path], classes: list[str], imgsz: int, batch: int, hyperparameters: dict,
                      seed: int, n_images: int = TRAIN_MODE_IMAGES) -> list[dict]:
    """Training batches as ultralytics makes them (its own augmentation, without mosaic: the
    closing epochs that leave a checkpoint its running statistics), `batch` images each:
    ultralytics batch dicts with "img" as floats in [0, 1] and the labels."""
    import random

    from ultralytics.cfg import get_cfg
    from ultralytics.data.build import build_yolo_dataset
    from ultralytics.utils import DEFAULT_CFG, LOGGER

    cfg = get_cfg(DEFAULT_CFG, {**hyperparameters, "imgsz": int(imgsz), "batch": int(batch), "mosaic": 0.0})
    data = {"names": dict(enumerate(classes)), "nc": len(classes), "channels": 3}
    level = LOGGER.level
    LOGGER.setLevel(logging.WARNING)
    try:
        dataset = build_yolo_dataset(cfg, [str(d) for d in image_dirs], int(batch), data, mode="train")
        random.seed(seed)  # ultralytics' augmentations draw from these generators
        np.random.seed(seed)
        picks = [int(i) for i in np.random.default_rng(seed).permutation(len(dataset))[:n_images]]
        samples = [dataset[i] for i in picks]
    except Exception as exc:  # noqa: BLE001 - unreadable images or labels: say so, the caller names the set
        raise OnnxWeightsError(f"cannot read training batches for the batch-norm calibration: {exc}") from None
    finally:
        LOGGER.setLevel(level)
    batches = [dataset.collate_fn(samples[i:i + int(batch)]) for i in range(0, len(samples), int(batch))]
    for b in batches:
        b["img"] = b["img"].float() / 255.0
    return batches


def _norm_statistics(model, norms: dict, inputs: list, train: bool) -> tuple[dict, list]:
    """Each norm's input mean and (unbiased, as running_var keeps it) variance, averaged
    over the input batches, with the model in training or eval mode; and the model's
    outputs. The model is left in eval mode."""
    import torch

    sums, hooks = {}, []
    for name, bn in norms.items():
        def grab(_mod, inp, _out, name=name):
            y = inp[0].detach()
            mean, var = y.mean(dim=(0, 2, 3)), y.var(dim=(0, 2, 3), unbiased=True)
            m0, v0 = sums.get(name, (0.0, 0.0))
            sums[name] = (m0 + mean, v0 + var)
        hooks.append(bn.register_forward_hook(grab))
    model.train(train)
    try:
        with torch.no_grad():
            outputs = [model(x) for x in inputs]
    finally:
        for h in hooks:
            h.remove()
        model.eval()
    return {name: (m / len(inputs), v / len(inputs)) for name, (m, v) in sums.items()}, outputs


def checkpoint_from_onnx(onnx_path, out_pt, classes: list[str], calibration_images: list[Path],
                         input_hw: tuple[int, int], architecture: str = "yolo11n.yaml",
                         train_batches: list | None = None) -> dict:
    """Write `out_pt`, an ultralytics checkpoint equal to the ONNX model; returns a record
    (for the training run): weights loaded, calibrated norms and the largest output change.
    `train_batches` (augmented_batches) set the statistics training mode will meet."""
    import torch
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    onnx_path, out_pt = Path(onnx_path), Path(out_pt)
    weights = _conv_weights(onnx_path)
    model = DetectionModel(architecture, nc=len(classes), verbose=False)
    model.names = dict(enumerate(classes))
    convs = {name: m for name, m in model.named_modules() if isinstance(m, Conv)}
    plain = {name: m for name, m in model.named_modules()
             if isinstance(m, torch.nn.Conv2d) and not any(name == f"{c}.conv" for c in convs)}
    used = set()

    def take(key, shape):
        if key not in weights:
            raise OnnxWeightsError(f"{onnx_path.name} has no weight {key}: it is not a YOLO11n HullWatch model "
                                   f"of {len(classes)} classes")
        w = weights[key]
        if tuple(w.shape) != tuple(shape):
            raise OnnxWeightsError(f"{onnx_path.name}: {key} is {tuple(w.shape)}, the architecture needs "
                                   f"{tuple(shape)} (other classes or another architecture)")
        used.add(key)
        return torch.from_numpy(w.copy())

    biases = {}
    with torch.no_grad():
        for name, m in convs.items():
            m.conv.weight.copy_(take(f"{name}.conv.weight", m.conv.weight.shape))
            biases[name] = take(f"{name}.conv.bias", (m.conv.out_channels,))
            m.bn.weight.fill_(1.0)
            m.bn.bias.copy_(biases[name])
            m.bn.running_mean.zero_()
            m.bn.running_var.fill_(1.0 - m.bn.eps)  # eval: bn(y) = y + bias, the fused conv
        for name, m in plain.items():
            m.weight.copy_(take(f"{name}.weight", m.weight.shape))
            if m.bias is not None:
                m.bias.copy_(take(f"{name}.bias", m.bias.shape))

    x = _calibration_batch(calibration_images, input_hw)
    norms = {name: m.bn for name, m in convs.items()}
    stats, (before, *_) = _norm_statistics(model, norms, [x], train=False)
    before = before[0]

    def set_statistics(stats):
        with torch.no_grad():
            for name, m in convs.items():
                mean, var = stats[name]
                m.bn.running_mean.copy_(mean)
                m.bn.running_var.copy_(var)
                m.bn.weight.copy_(torch.sqrt(var + m.bn.eps))
                m.bn.bias.copy_(biases[name] + mean)

    set_statistics(stats)
    for _ in range(TRAIN_MODE_PASSES if train_batches else 0):
        set_statistics(_norm_statistics(model, norms, [b["img"] for b in train_batches], train=True)[0])
    with torch.no_grad():
        after = model(x)[0]
    change = float((after - before).abs().max() / (before.abs().max() + 1e-9))
    model.args = {"imgsz": max(input_hw)}
    out_pt.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.float(), "train_args": {}, "epoch": -1, "date": None,
                "rebuilt_from": onnx_path.name}, str(out_pt))
    return {"weights_loaded": len(used), "norms_calibrated": len(convs), "calibration_images": int(x.shape[0]),
            "train_mode_images": sum(int(b["img"].shape[0]) for b in train_batches or []),
            "train_mode_passes": TRAIN_MODE_PASSES if train_batches else 0,
            "max_relative_output_change": round(change, 6)}
