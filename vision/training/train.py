"""`hullwatch train`: YOLO11n trained from scratch on a HullWatch YOLO data set, exported to
ONNX with its model card.

    MODEL.onnx          the detector (fixed input, rectangular where the data is)
    MODEL.card.json     vision.detect.model_card format + training record, test metrics, licences
    MODEL.train/        the work folder: run.json (settings and state), run/ (ultralytics:
                        weights/last.pt after every epoch, best.pt, results.csv), export/

ultralytics runs offline (vision.training.ultralytics_offline), on all CPU cores (it would
use one core less), with a fixed seed and deterministic kernels. A run stopped for any
reason (Ctrl-C, a crash, `should_stop`) continues with `resume=True` from the last
completed epoch; a resumed run continues the weights, optimizer and schedule, but its
data order after the restart differs from an uninterrupted run's.

Thresholds are chosen on the val split, metrics measured on the held-out test split
(vision.evaluation.evaluate_dataset) with the exported ONNX model itself, so the card
describes the file that ships, not the PyTorch weights. Alarm classes get the operating
point of model_card_writer.choose_operating_thresholds (max recall within 0.5 false alarms
per minute on the val split's object-free images, when it has enough of them).

Several data sets (`data` a tuple, `--data A --data B`; e.g. the real FLS sonar frames
and a synthetic sonar set) train one model on their union: they must have the same class
names, and MODEL.train/data.yaml lists every set's train and val images. Thresholds are
chosen on the union of the val splits; test metrics are measured and recorded per data
set, and the card's training record lists each set's card (seeds, licences). A held-out
evaluation set (its card says `heldout`) is refused: training never sees it.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Callable

from vision.classes import CLASSES
from vision.evaluation.evaluate_dataset import (DatasetError, check_names, evaluate_detections, evaluate_model,
                                                read_dataset)

from .model_card_writer import (DEFAULT_CONF, DEFAULT_IOU, card_document, choose_operating_thresholds,
                                copy_atomic, dataset_ref, licence_notes, licence_notes_of_sets, write_card)
from .yolo_layout import data_card_path
from ..atomic_files import write_bytes_atomic

KINDS = ("camera", "sonar")
ARCHITECTURE = "yolo11n.yaml"  # built from YAML: a *.pt name would start a download
STRIDE = 32
DEFAULT_EPOCHS = 50
DEFAULT_IMGSZ = 640
DEFAULT_BATCH = 16
RUN_FORMAT = "hullwatch-train-run"
RUN_FILE = "run.json"
SIZE_SAMPLE = 16  # train images read to find the data set's frame size
COMBINED_YAML = "data.yaml"  # in the work folder, when training on several data sets


class TrainError(ValueError):
    """A training request that cannot run: bad data set, output, or resume state."""


class TrainingStopped(Exception):
    """Training stopped after a completed epoch; resume=True continues it."""

    def __init__(self, epoch: int, epochs: int, work_dir: Path):
        super().__init__(f"training stopped after epoch {epoch}/{epochs}; its checkpoint is in {work_dir}")
        self.epoch, self.epochs, self.work_dir = epoch, epochs, work_dir


@dataclasses.dataclass(frozen=True)
class TrainSpec:
    kind: str
    data: Path | tuple | None  # folder with data.yaml, or several (trained on their union); None with resume
    output: Path  # MODEL.onnx
    epochs: int | None = None  # default DEFAULT_EPOCHS; on resume, the run's
    imgsz: int | tuple[int, int] | None = None  # long side, or (h, w) of the exported input
    seed: int = 0
    batch: int = DEFAULT_BATCH
    workers: int = 2
    threads: int | None = None  # torch threads; default all cores
    resume: bool = False
    hours: float | None = None  # time budget of the whole run: ultralytics re-plans epochs and the LR schedule to fit
    hyperparameters: dict = dataclasses.field(default_factory=dict)  # more ultralytics train settings (lr0, nbs, ...)
    init: Path | None = None  # start from this model's weights (MODEL.onnx with MODEL.train/, or a .pt) instead of scratch


@dataclasses.dataclass(frozen=True)
class EpochReport:
    epoch: int  # 1-based
    epochs: int
    losses: dict  # box_loss, cls_loss, dfl_loss (training, mean over the epoch)
    map50: float  # on the val split
    map50_95: float
    epoch_s: float
    elapsed_s: float  # training time of the run so far, over all resumes

    def line(self) -> str:
        losses = " ".join(f"{k.replace('_loss', '')} {v:.3f}" for k, v in self.losses.items())
        left = (self.epochs - self.epoch) * self.epoch_s
        return (f"train: epoch {self.epoch}/{self.epochs}  loss {losses}  val mAP50 {self.map50:.3f} "
                f"mAP50-95 {self.map50_95:.3f}  ({self.epoch_s:.1f} s/epoch, about {left / 60:.1f} min left)")


def parse_imgsz(text: str) -> int | tuple[int, int]:
    """'640' (long side) or '480,640' (height, width); multiples of 32."""
    parts = [p for p in str(text).replace("x", ",").split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text!r}: give the long side (640) or height,width (480,640) in pixels") from None
    if len(values) not in (1, 2) or any(v < STRIDE or v > 4096 for v in values):
        raise ValueError(f"{text!r}: give the long side (640) or height,width (480,640), each 32..4096 pixels")
    if any(v % STRIDE for v in values):
        raise ValueError(f"{text!r}: sizes must be multiples of {STRIDE} (YOLO strides), e.g. 480,640")
    return values[0] if len(values) == 1 else (values[0], values[1])


def input_hw_for(imgsz, image_wh) -> tuple[int, int]:
    """The exported input (h, w): given, or the data's aspect with the long side imgsz,
    rounded up to multiples of 32 (640x480 video -> 480x640; a 640x360 fan -> 384x640).
    `image_wh` may list the frame sizes of several data sets: the input then holds each of
    them at the scale training gave it (long side imgsz), so real 320x480 sonar frames and
    640x360 rendered fans at 320 -> 320x320, where the fans' 192x320 would show the real
    frames at 0.6 of their training scale (measured on a fine-tune's real test frames:
    container mAP50-95 0.49 at 192x320, 0.64 at 320x320)."""
    if isinstance(imgsz, (tuple, list)):
        return int(imgsz[0]), int(imgsz[1])
    sizes = [image_wh] if isinstance(image_wh[0], (int, float)) else list(image_wh)

    def one(w, h):
        s = int(imgsz) / max(w, h)
        up = lambda v: max(STRIDE, int(math.ceil(v * s / STRIDE - 1e-9)) * STRIDE)  # noqa: E731
        return up(h), up(w)

    fits = [one(*wh) for wh in sizes]
    return max(h for h, _ in fits), max(w for _, w in fits)


def work_dir_for(output) -> Path:
    # absolute: ultralytics files a relative project folder under its own runs/ directory
    out = Path(output).absolute()
    return out.with_name(out.name[: -len(".onnx")] + ".train")


def _dataset_card(data_dir: Path) -> tuple[dict | None, Path | None]:
    p = data_card_path(data_dir)
    if p is None:
        return None, None
    try:
        return json.loads(p.read_text(encoding="utf-8")), p
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TrainError(f"{p}: the data set's card is not valid JSON") from None


def check_training_data(data_dir, kind: str):
    """(YoloDataset, its card or None, card path or None, (width, height) of its frames)."""
    data_dir = Path(data_dir)
    try:
        ds = read_dataset(data_dir)
    except DatasetError as exc:
        raise TrainError(str(exc)) from None
    card, card_path = _dataset_card(ds.yaml_path.parent)
    if card and card.get("heldout"):
        raise TrainError(f"{data_dir} is a held-out evaluation set ({card_path.name}: heldout): training never "
                         f"sees it; score a model on it with `hullwatch evaluate MODEL.onnx {data_dir}`")
    try:
        check_names(ds, CLASSES, "HullWatch's classes (vision.classes)")
        train_images = ds.split_images("train")
        ds.split_images("val")
    except DatasetError as exc:
        raise TrainError(str(exc)) from None
    if card and card.get("kind") in KINDS and card["kind"] != kind:
        raise TrainError(f"{data_dir} holds {card['kind']} images ({card_path.name}) but --kind is {kind}: "
                         f"train a {card['kind']} model on it, or pick a {kind} data set")
    import cv2

    sizes = Counter()
    for p in train_images[:SIZE_SAMPLE]:
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise TrainError(f"{p}: not a readable image")
        sizes[(img.shape[1], img.shape[0])] += 1
    return ds, card, card_path, sizes.most_common(1)[0][0]


@dataclasses.dataclass(frozen=True, eq=False)
class TrainingSet:
    path: Path  # the data set folder (resolved)
    ds: object  # YoloDataset
    card: dict | None
    card_path: Path | None
    image_wh: tuple[int, int]
    n_train: int


def data_dirs_of(data) -> list[Path]:
    """The data set folders of TrainSpec.data: one path, or several."""
    if data is None:
        return []
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    dirs = [Path(d).resolve() for d in items]
    dirs = [d.parent if d.is_file() else d for d in dirs]  # data.yaml itself
    seen = set()
    for d in dirs:
        if d in seen:
            raise TrainError(f"{d}: the same data set is given twice (--data); give each set once")
        seen.add(d)
    return dirs


def training_sets(dirs, kind: str) -> list[TrainingSet]:
    out = []
    for d in dirs:
        ds, card, card_path, wh = check_training_data(d, kind)
        out.append(TrainingSet(Path(d), ds, card, card_path, wh, len(ds.split_images("train"))))
    return out


def _split_entries(ds, split: str) -> list[str]:
    """A data set's split entries as absolute paths (folders or .txt lists)."""
    entries = ds.splits.get(split)
    if entries in (None, ""):
        return []
    entries = entries if isinstance(entries, list) else [entries]
    return [str(p if (p := Path(str(e))).is_absolute() else (ds.root / p).resolve()) for e in entries]


def combined_yaml_text(sets: list[TrainingSet]) -> str:
    """data.yaml of the union of several data sets: every set's train, val (and test) entries."""
    lines = [f"# union of {len(sets)} HullWatch data sets, written by hullwatch train", ""]
    for split in ("train", "val", "test"):
        entries = [e for t in sets for e in _split_entries(t.ds, split)]
        if entries:
            lines.append(f"{split}:")
            lines += [f"  - {json.dumps(e)}" for e in entries]
    lines.append(f"nc: {len(CLASSES)}")
    lines.append("names:")
    lines += [f"  {i}: {c}" for i, c in enumerate(CLASSES)]
    return "\n".join(lines) + "\n"


def _dataset_record(t: TrainingSet) -> dict:
    """What the card's training record says about one data set (its card's provenance)."""
    card = t.card
    return {"path": dataset_ref(t.path), "card": t.card_path.name if t.card_path else None,
            **({k: card.get(k) for k in ("title", "kind", "source", "seed", "frames", "labels",
                                          "empty_images", "generator") if k in card} if card else {}),
            "scenario_seeds": [s.get("seed") for h in (card or {}).get("hulls", [])
                               for s in h.get("scenarios", [])] or None}


def _frame_size(sets: list[TrainingSet]) -> tuple[int, int]:
    """The frame size of most training images (each set's sampled size, weighted by its train images)."""
    weights = Counter()
    for t in sets:
        weights[tuple(t.image_wh)] += t.n_train
    return weights.most_common(1)[0][0]


def _frame_sizes(sets: list[TrainingSet]) -> list[tuple[int, int]]:
    """Each set's sampled frame size, once each, in the sets' order."""
    return list(dict.fromkeys(tuple(t.image_wh) for t in sets))


def init_weights_of(init) -> Path:
    """The PyTorch weights a fine-tuning starts from: a .pt file, or for MODEL.onnx the best
    (else last) checkpoint its training left in MODEL.train/. train_model rebuilds the weights
    of an ONNX file whose training folder is gone (a shipped model: vision.training.onnx_weights)."""
    init = Path(init)
    if init.suffix == ".pt":
        candidates = [init]
    else:
        weights = work_dir_for(init) / "run" / "weights"
        candidates = [weights / "best.pt", weights / "last.pt"]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise TrainError(f"cannot start from {init}: no PyTorch weights at {' or '.join(str(c) for c in candidates)} "
                     f"(give a .pt file, or a MODEL.onnx whose MODEL.train/ folder is still beside it)")


def _rebuild_from_onnx(onnx_path: Path, work: Path, sets: list[TrainingSet], run: dict, log) -> tuple[Path, dict]:
    """A trainable checkpoint of a model that is only an ONNX file (vision.training.onnx_weights),
    its batch norms calibrated on the training images: clean ones, then augmented batches in
    training mode, as the fine-tune will feed them."""
    from .onnx_weights import OnnxWeightsError, augmented_batches, checkpoint_from_onnx

    dirs = [t.path / "images" / "train" for t in sets]
    images = sorted(p for d in dirs for p in d.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    step = max(1, len(images) // 32)
    out = work / "init_from_onnx.pt"
    try:
        batches = augmented_batches(dirs, list(CLASSES), run["train_imgsz"], run["batch"], run["hyperparameters"],
                                    seed=run["seed"])
        record = checkpoint_from_onnx(onnx_path, out, list(CLASSES), images[::step], tuple(run["input_hw"]),
                                      ARCHITECTURE, train_batches=batches)
    except OnnxWeightsError as exc:
        raise TrainError(f"cannot start from {onnx_path}: {exc}") from None
    log(f"train: rebuilt trainable weights from {onnx_path.name} ({record['weights_loaded']} tensors, "
        f"{record['norms_calibrated']} batch norms calibrated on {record['calibration_images']} images and "
        f"{record['train_mode_passes']} training-mode passes over {record['train_mode_images']} augmented ones; "
        f"largest output change {record['max_relative_output_change']:.1e})")
    return out, record


def _check_init_classes(weights: Path, torch) -> None:
    try:
        ckpt = torch.load(str(weights), map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: say which
        raise TrainError(f"cannot read the starting weights {weights}: {exc}") from None
    model = (ckpt.get("ema") or ckpt.get("model")) if isinstance(ckpt, dict) else None
    names = getattr(model, "names", None)
    names = [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names or [])
    if names != list(CLASSES):
        raise TrainError(f"the starting weights {weights} detect {names or 'unknown classes'}, not HullWatch's "
                         f"{list(CLASSES)}: start from a HullWatch model of the same classes, or from scratch")


def _check_output(output: Path) -> None:
    if output.suffix.lower() != ".onnx":
        raise TrainError(f"{output}: the output must be a .onnx file (its card is written beside it)")
    if output.is_dir():
        raise TrainError(f"{output} is a folder: give a file name such as {output / 'model.onnx'}")
    parent = output.parent if str(output.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrainError(f"cannot create the output folder {parent}: {exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TrainError(f"{parent} is not writable: choose another place for {output.name}")
    for p in (output, output.with_name(output.stem + ".card.json")):
        if p.exists() and not os.access(p, os.W_OK):
            raise TrainError(f"{p} exists and is not writable: choose another output")


def _read_run(work: Path) -> dict | None:
    p = work / RUN_FILE
    if not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TrainError(f"{p} is damaged (not JSON): delete {work} to start afresh") from None
    if doc.get("format") != RUN_FORMAT:
        raise TrainError(f"{p} is not a HullWatch training record: delete {work} to start afresh")
    return doc


def _write_run(work: Path, run: dict) -> None:
    write_card(work / RUN_FILE, run)


def _last_checkpoint(work: Path) -> Path:
    return work / "run" / "weights" / "last.pt"


def train_model(spec: TrainSpec, *, log: Callable[[str], None] | None = None,
                on_epoch: Callable[[EpochReport], None] | None = None,
                should_stop: Callable[[int], bool] | None = None, verbose: bool = False) -> dict:
    """Train, export and measure; returns the model card written beside spec.output.
    `should_stop(epoch)` is asked after each completed epoch (1-based); True stops the run
    with TrainingStopped, resumable like a Ctrl-C."""
    log = log or (lambda msg: None)
    t_start = time.monotonic()
    output = Path(spec.output)
    _check_output(output)
    work = work_dir_for(output)
    run = _read_run(work)
    if spec.resume and spec.kind is None and run is not None:
        spec = dataclasses.replace(spec, kind=run.get("kind"))
    if spec.kind not in KINDS:
        raise TrainError(f"kind: one of {', '.join(KINDS)}, got {spec.kind!r}")
    last = _last_checkpoint(work)
    if spec.resume:
        run = _resume_settings(spec, work, run, last)
        dirs = [Path(d) for d in (run["data"] if isinstance(run["data"], list) else [run["data"]])]
    else:
        dirs = data_dirs_of(spec.data)
        if not dirs:
            raise TrainError("give the data set folder (--data DIR)")
        if run is not None and run.get("status") != "finished" and last.is_file():
            raise TrainError(f"an unfinished training of {output.name} is in {work} (epoch "
                             f"{run.get('epochs_completed', '?')}/{run.get('epochs', '?')}): continue it with "
                             f"--resume, or delete that folder to start afresh")
    sets = training_sets(dirs, spec.kind)
    multi = len(sets) > 1
    ds, ds_card, ds_card_path = sets[0].ds, sets[0].card, sets[0].card_path
    image_wh = _frame_size(sets)
    from .ultralytics_offline import import_ultralytics

    import_ultralytics()  # UltralyticsUnavailable when the train extra is missing: before any file is written
    if not spec.resume:
        imgsz = spec.imgsz if spec.imgsz is not None else DEFAULT_IMGSZ
        input_hw = input_hw_for(imgsz, _frame_sizes(sets))
        run = {"format": RUN_FORMAT, "version": 1, "status": "running", "kind": spec.kind,
               "data": [str(t.ds.yaml_path.parent.resolve()) for t in sets] if multi
               else str(ds.yaml_path.parent.resolve()), "output": str(output.resolve()),
               "epochs": int(spec.epochs or DEFAULT_EPOCHS), "train_imgsz": max(input_hw), "input_hw": list(input_hw),
               "image_wh": list(image_wh), "image_sizes": [list(wh) for wh in _frame_sizes(sets)],
               "seed": int(spec.seed), "batch": int(spec.batch),
               "hyperparameters": dict(spec.hyperparameters), "hours": spec.hours, "epochs_completed": 0,
               "train_wall_time_s": 0.0,
               "resumes": 0}
        rebuild = False
        if spec.init is not None:
            try:
                init_pt = init_weights_of(spec.init)
            except TrainError:
                if not (Path(spec.init).suffix.lower() == ".onnx" and Path(spec.init).is_file()):
                    raise
                rebuild = True  # a shipped model without its training folder: rebuilt below, in work/
        if work.exists():
            shutil.rmtree(work)  # a finished run (or no checkpoint at all): nothing to lose
        try:
            work.mkdir(parents=True)
        except OSError as exc:
            raise TrainError(f"cannot create the work folder {work}: {exc.strerror or exc}") from None
        if spec.init is not None:
            from vision.detect.model_card import sha256_of

            rebuilt = None
            if rebuild:
                init_pt, rebuilt = _rebuild_from_onnx(Path(spec.init), work, sets, run, log)
            if rebuilt:
                rebuilt = {"onnx_sha256": sha256_of(spec.init), **rebuilt}
            run["init"] = {"from": str(Path(spec.init).resolve()), "weights": str(init_pt),
                           "weights_sha256": sha256_of(init_pt), **({"rebuilt_from_onnx": rebuilt} if rebuilt else {})}
        _write_run(work, run)
    if multi:
        write_bytes_atomic(work / COMBINED_YAML, combined_yaml_text(sets).encode("utf-8"))
        ds = read_dataset(work / COMBINED_YAML)  # the union: what ultralytics trains and validates on
    input_hw = tuple(run["input_hw"])

    import torch
    import ultralytics
    import ultralytics.utils.torch_utils as torch_utils
    from ultralytics import YOLO
    from ultralytics.utils import LOGGER

    if run.get("init") and not spec.resume:
        _check_init_classes(Path(run["init"]["weights"]), torch)
    if spec.resume:
        ckpt = torch.load(str(last), map_location="cpu", weights_only=False)
        if ckpt.get("optimizer") is None or int(ckpt.get("epoch", -1)) < 0:
            raise TrainError(f"{last} is not a resumable checkpoint (no optimizer state): delete {work} to "
                             f"start afresh")
        del ckpt
    threads = int(spec.threads or os.cpu_count() or 1)
    torch_utils.NUM_THREADS = threads  # ultralytics would leave one core idle (STACK.md)
    torch.set_num_threads(threads)

    state = {"t_epoch": time.monotonic(), "base_elapsed": float(run.get("train_wall_time_s", 0.0))}
    t_run = time.monotonic()

    def fit_epoch_end(trainer):
        if trainer.epoch >= trainer.epochs:
            return  # ultralytics' final re-validation of best.pt, not an epoch
        now = time.monotonic()
        tl = trainer.tloss
        items = tl.items() if isinstance(tl, dict) else zip(trainer.loss_names, tl)
        losses = {str(k): round(float(v), 4) for k, v in items}
        metrics = trainer.metrics or {}
        epoch = int(trainer.epoch) + 1
        elapsed = state["base_elapsed"] + (now - t_run)
        report = EpochReport(epoch, int(trainer.epochs), losses, float(metrics.get("metrics/mAP50(B)", float("nan"))),
                             float(metrics.get("metrics/mAP50-95(B)", float("nan"))), now - state["t_epoch"], elapsed)
        state["t_epoch"] = now
        run.update(epochs_completed=epoch, train_wall_time_s=round(elapsed, 2))
        if run.get("hours"):  # the time budget re-plans the epochs after each one
            run["epochs"] = int(trainer.epochs)
        _write_run(work, run)
        if on_epoch:
            on_epoch(report)
        if should_stop is not None and epoch < trainer.epochs and should_stop(epoch):
            raise TrainingStopped(epoch, int(trainer.epochs), work)

    level = LOGGER.level
    if not verbose:
        LOGGER.setLevel(logging.WARNING)  # ultralytics logs to stdout; our progress goes to stderr
    try:
        common = dict(device="cpu", workers=int(spec.workers), plots=False, verbose=verbose)
        if spec.resume:
            log(f"train: resuming {work} at epoch {run['epochs_completed'] + 1}/{run['epochs']}")
            run["resumes"] = int(run.get("resumes", 0)) + 1
            budget = {}
            if spec.hours is not None:
                # ultralytics plans the epochs as time / mean epoch time counted from epoch 0, so
                # "H more hours" is H plus the time the completed epochs took
                past_h = float(run.get("train_wall_time_s", 0.0)) / 3600.0
                run["hours"] = budget["time"] = round(float(spec.hours) + past_h, 4)
            _write_run(work, run)
            model = YOLO(str(last))
            model.add_callback("on_fit_epoch_end", fit_epoch_end)
            model.train(resume=True, data=str(ds.yaml_path.resolve()), save_dir=str(work / "run"), **budget, **common)
        else:
            start = f"from {run['init']['weights']}" if run.get("init") else "from scratch"
            log(f"train: YOLO11n {start} on {' + '.join(str(d) for d in dirs)} ({spec.kind}, "
                f"{run['epochs']} epochs" + (f" or {run['hours']:g} h" if run.get("hours") else "") + ", imgsz "
                f"{run['train_imgsz']}, seed {run['seed']}, {threads} threads); work folder {work}")
            # fine-tuning loads the earlier run's model (same architecture and classes, checked)
            model = YOLO(run["init"]["weights"] if run.get("init") else ARCHITECTURE)
            model.add_callback("on_fit_epoch_end", fit_epoch_end)
            model.train(data=str(ds.yaml_path.resolve()), epochs=run["epochs"], imgsz=run["train_imgsz"],
                        batch=run["batch"], seed=run["seed"], deterministic=True, project=str(work), name="run",
                        exist_ok=True, amp=False, pretrained=bool(run.get("init")), val=True,
                        **({"time": float(run["hours"])} if run.get("hours") else {}),
                        **{**run["hyperparameters"], **common})
        trainer = model.trainer
    finally:
        LOGGER.setLevel(level)
    train_s = time.monotonic() - t_run
    best = Path(trainer.best) if Path(trainer.best).is_file() else Path(trainer.last)
    best_epoch = int(trainer.stopper.best_epoch) if hasattr(trainer, "stopper") else None  # 1-based already

    from .export_onnx import export_onnx

    name = output.stem
    export_dir = work / "export"
    export_dir.mkdir(exist_ok=True)
    onnx_path = export_dir / f"{name}.onnx"
    log(f"train: exporting {best.name} to ONNX, input {input_hw[0]}x{input_hw[1]}")
    level = LOGGER.level
    if not verbose:
        LOGGER.setLevel(logging.WARNING)
    try:
        export_info = export_onnx(best, onnx_path, input_hw)
    finally:
        LOGGER.setLevel(level)
    from vision.detect.model_card import sha256_of

    sha = sha256_of(onnx_path)
    base = dict(name=name, kind=spec.kind, classes=CLASSES, input_hw=input_hw, sha256=sha,
                conf_threshold=DEFAULT_CONF, iou_threshold=DEFAULT_IOU)
    card_path = export_dir / f"{name}.card.json"
    write_card(card_path, card_document(class_thresholds={}, **base))

    log("train: choosing per-class thresholds on the val split" + (" (union of the data sets)" if multi else ""))
    ev_val = evaluate_model(onnx_path, ds.yaml_path, split="val", threads=threads)
    thresholds, how, alarm_point = choose_operating_thresholds(ev_val.predictions, ev_val.ground_truth, CLASSES)
    log(f"train: alarm thresholds {alarm_point['thresholds']}: {alarm_point['reason']}")
    thr = [thresholds.get(c, DEFAULT_CONF) for c in CLASSES]

    def test_metrics(set_dir: Path) -> dict:
        ev = evaluate_model(onnx_path, set_dir, split="test", threads=threads)
        rows, mean, fa = evaluate_detections(ev.predictions, ev.ground_truth, CLASSES, thr)
        ev = dataclasses.replace(ev, rows=tuple(rows), mean=mean, false_alarms=fa)
        return {**{k: v for k, v in ev.to_dict().items() if k not in ("model", "model_sha256", "conf_override")},
                "dataset": dataset_ref(ev.dataset)}

    note = "ONNX model as exported; P and R at the card's class_thresholds; AP from conf 0.001"
    metrics = None
    if not multi and "test" in ds.splits:
        log("train: measuring the model on the held-out test split")
        metrics = test_metrics(ds.yaml_path.parent)
        metrics["note"] = note
    elif multi:
        per_set = []
        for t in sets:
            if "test" in t.ds.splits:
                log(f"train: measuring the model on the held-out test split of {t.path}")
                per_set.append(test_metrics(t.ds.yaml_path.parent))
            else:
                per_set.append({"dataset": dataset_ref(t.path), "split": "test", "images": 0,
                                "note": "this data set has no test split: no held-out metrics"})
        metrics = {"split": "test", "per_dataset": per_set,
                   "note": note + "; measured on each data set's own test split, never pooled"}
    else:
        log("train: the data set has no test split: the card carries no held-out metrics")

    training = {
        "architecture": f"YOLO11n from {ARCHITECTURE} (ultralytics), " + (
            f"fine-tuned from {Path(run['init']['from']).name} (weights SHA-256 {run['init']['weights_sha256']})"
            if run.get("init") else "trained from scratch"),
        **({"init": {"from": Path(run["init"]["from"]).name, "weights_sha256": run["init"]["weights_sha256"],
                     **({"rebuilt_from_onnx": run["init"]["rebuilt_from_onnx"]}
                        if run["init"].get("rebuilt_from_onnx") else {})}}
           if run.get("init") else {}),
        "dataset": _dataset_record(sets[0]) if not multi else {
            "path": f"{work.name}/{COMBINED_YAML}", "union_of": [dataset_ref(t.path) for t in sets],
            "frames": {sp: sum((t.card or {}).get("frames", {}).get(sp, 0) for t in sets)
                       for sp in ("train", "val", "test")},
            "note": "trained on the union of the data sets' train splits, validated on the union of their val "
                    "splits"},
        **({"datasets": [_dataset_record(t) | {"licence": (t.card or {}).get("licence")} for t in sets]}
           if multi else {}),
        "epochs": run["epochs"], "epochs_completed": run["epochs_completed"], "best_epoch": best_epoch,
        "hours_budget": run.get("hours"),
        "imgsz": run["train_imgsz"], "image_wh": run["image_wh"], "batch": run["batch"], "seed": run["seed"],
        "deterministic": True, "hyperparameters": run.get("hyperparameters") or {},
        "resumes": run.get("resumes", 0), "threads": threads,
        "ultralytics_version": ultralytics.__version__, "torch_version": torch.__version__,
        "wall_time_s": round(float(run["train_wall_time_s"]), 2),
        "this_run_wall_time_s": round(time.monotonic() - t_start, 2), "this_run_train_s": round(train_s, 2),
        "export": export_info,
    }
    licence = licence_notes_of_sets([(t.path, t.card) for t in sets]) if multi else licence_notes(ds_card)
    doc = card_document(class_thresholds=thresholds, training=training, threshold_selection=how,
                        alarm_operating_point=alarm_point, metrics=metrics, licence=licence, **base)
    write_card(card_path, doc)
    # the card first, then the model: a reader never sees a new model with an old card's hash
    # for longer than one rename
    copy_atomic(card_path, output.with_name(f"{name}.card.json"))
    copy_atomic(onnx_path, output)
    run["status"] = "finished"
    _write_run(work, run)
    log(f"train: wrote {output} and {output.with_name(name + '.card.json')} in {time.monotonic() - t_start:.0f} s")
    return doc


def _resume_settings(spec: TrainSpec, work: Path, run: dict | None, last: Path) -> dict:
    if run is None or not last.is_file():
        raise TrainError(f"nothing to resume: no stopped training in {work} (train without --resume first)")
    if run.get("status") == "finished":
        raise TrainError(f"the training in {work} finished already: nothing to resume (train again without "
                         f"--resume to start afresh)")
    if run.get("kind") != spec.kind:
        raise TrainError(f"the stopped training in {work} is a {run.get('kind')} model, not {spec.kind}")
    given = data_dirs_of(spec.data) if spec.data is not None else None
    had = [Path(d) for d in (run["data"] if isinstance(run["data"], list) else [run["data"]])]
    if given is not None and given != had:
        raise TrainError(f"the stopped training in {work} used the data set {run['data']}, not "
                         f"{spec.data if not isinstance(spec.data, (list, tuple)) else [str(d) for d in spec.data]}: "
                         f"resume with the same data, or delete {work} to start afresh")
    if spec.epochs is not None and int(spec.epochs) != int(run["epochs"]):
        raise TrainError(f"the stopped training in {work} runs {run['epochs']} epochs: a resumed run keeps its "
                         f"settings (omit --epochs), or delete {work} to start afresh")
    if spec.imgsz is not None:
        sizes = [tuple(wh) for wh in run.get("image_sizes", [run["image_wh"]])]
        if list(input_hw_for(spec.imgsz, sizes)) != list(run["input_hw"]):
            raise TrainError(f"the stopped training in {work} uses input {run['input_hw']}: a resumed run keeps "
                             f"its settings (omit --imgsz)")
    return run
