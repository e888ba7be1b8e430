"""Benchmark: the detector on the CPU, ONNX Runtime against OpenVINO against ultralytics'
own PyTorch predict, on 640x480 camera frames and on real sonar fan images.

    python bench/bench_detect.py [--model M.onnx ... | --checkpoint W.pt] [--frames N] [--noise] [--no-torch]

Models: --model times shipped/exported models as they are (default: resources/models/*.onnx);
--checkpoint exports an ultralytics checkpoint (e.g. MODEL.train/run/weights/last.pt of a
`hullwatch train` run: the speed does not depend on how well it is trained) at 480x640
(4:3 video at full size), 256x320 and 384x640 (sonar fan).

Inputs:
  * camera: 640x480 frames rendered by the embedded world (`hullwatch sim`'s ship, seed 1,
    a glide 2 m off the starboard side; --noise: uniform random pixels instead), cycled;
    timed with every camera model (card kind other than sonar);
  * sonar: the 640x360 fan image (`vision.sonar.fan.fan_image`, the size the live sonar
    feed uses) of the real Oculus ping ../shared/data/sonar_oculus/one_ping_8bit.raw, timed
    with resources/models/sonar.onnx when it is shipped, else with the camera checkpoint's
    384x640 export (--checkpoint), else with the camera model (the table says which).

Engines, each with 1 and 2 threads:
  * ONNX Runtime and OpenVINO (when installed) through `vision.detect.OnnxDetector`: per
    frame preprocess, inference, postprocess (NMS) and ByteTracker update (medians), the
    whole detector call (preprocess + inference + NMS) p50/p95 and frames/s (frames / sum
    of the calls);
  * ultralytics' PyTorch `YOLO(...).predict(frame, imgsz=<the model's input h,w>,
    device="cpu", conf=0.25, verbose=False)`, torch.set_num_threads(1 or 2): what a user
    would otherwise run. With --checkpoint the checkpoint itself; otherwise YOLO11n built
    from ultralytics' yolo11n.yaml with the model card's number of classes, untrained (the
    speed does not depend on the weights). ultralytics runs offline (settings in a temp
    folder, nothing downloaded); --no-torch skips it. Its stages are ultralytics' own
    Results.speed, the call is timed around predict(). predict letterboxes only to the
    stride (ultralytics' rect mode), so its input can be smaller than the ONNX model's
    fixed one (the 640x360 fan at imgsz 256x320 runs at 192x320): the table shows the
    input each engine really ran, and its GFLOPs at that input.

GFLOPs: counted from the ONNX graph (every Conv and MatMul, with shapes from
onnx.shape_inference, 2 FLOPs per multiply-add; this equals ultralytics'
torch_utils.get_flops on the fused model); for the PyTorch rows ultralytics' get_flops on
the fused model at the input size predict really used. GFLOP/s = GFLOPs / median
inference time. Ratios: "x base" is the frame's preprocess + inference + NMS + tracking
(medians) over the bare ONNX Runtime inference of the same model on one thread, measured
in the same run; "x torch" is how many times faster the detector call is than
ultralytics' predict at the same thread count (p50 over p50).

Goal (from the issue): camera detection >= 25 frames/s at 640x480 for the shipped camera
model as shipped (resources/models/camera.onnx, ONNX Runtime, one thread, as the station
runs it). The machine is shared: compare the ratios, not the milliseconds.
Results: a table on stdout and bench/results/bench_detect.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results" / "bench_detect.json"
SIZES = ((480, 640), (256, 320), (384, 640))
SHIPPED = REPO / "resources" / "models"
SHIPPED_CAMERA = SHIPPED / "camera.onnx"
SHIPPED_SONAR = SHIPPED / "sonar.onnx"
OCULUS_PING = REPO.parent / "shared" / "data" / "sonar_oculus" / "one_ping_8bit.raw"
FAN_WH = (640, 360)  # vision.detect.feeder.sonar_frame_in's fan size
CONF = 0.25
GOAL_FPS = 25.0
CAMERA_FRAMES = 8  # distinct rendered frames, cycled


def _export_sizes(checkpoint: Path, folder: Path) -> list[Path]:
    from vision.classes import CLASSES
    from vision.detect.model_card import sha256_of
    from vision.training.export_onnx import export_onnx
    from vision.training.model_card_writer import card_document, write_card
    from vision.training.ultralytics_offline import import_ultralytics

    import_ultralytics(folder / "ycfg")
    out = []
    for hw in SIZES:
        onnx = folder / f"yolo11n_{hw[0]}x{hw[1]}.onnx"
        export_onnx(checkpoint, onnx, hw)
        write_card(onnx.with_name(onnx.stem + ".card.json"), card_document(
            name=onnx.stem, kind="camera", classes=CLASSES, input_hw=list(hw), sha256=sha256_of(onnx),
            class_thresholds={}))
        out.append(onnx)
    return out


# ---------------------------------------------------------------------------------- inputs
def camera_frames(noise: bool, n: int = CAMERA_FRAMES) -> tuple[list[np.ndarray], str]:
    if noise:
        rng = np.random.default_rng(0)
        return [rng.integers(0, 255, (480, 640, 3), dtype=np.uint8) for _ in range(n)], "uniform noise"
    from bench_pipeline import _glide_poses  # bench/ is this script's folder, first on sys.path

    from sim.camera_render import CameraConfig
    from sim.embedded_world import build_world

    ew = build_world(seed=1)
    rng = np.random.default_rng(1)
    cfg = CameraConfig()
    images = [ew.world.render_camera(p, cfg, rng).image for p in _glide_poses(ew, n, step_m=0.5)]
    return images, f"embedded world seed 1, {n} frames 0.5 m apart, 2 m off the starboard side"


def sonar_fan() -> tuple[np.ndarray, str]:
    from vision.sonar.fan import fan_image
    from vision.sonar.oculus import parse_oculus_ping

    ping = parse_oculus_ping(OCULUS_PING.read_bytes())
    fan = fan_image(ping, width_px=FAN_WH[0], height_px=FAN_WH[1])
    return np.ascontiguousarray(fan.image), (f"real Oculus ping {OCULUS_PING.name}: {ping.n_beams} beams x "
                                             f"{ping.n_ranges} ranges, {ping.range_m:g} m")


# ---------------------------------------------------------------------------------- GFLOPs
def onnx_gflops(path: Path) -> dict:
    """Conv and MatMul (and Gemm) FLOPs of the graph at its fixed input size, 2 per multiply-add."""
    import onnx
    from onnx import shape_inference

    graph = shape_inference.infer_shapes(onnx.load(str(path))).graph
    shapes = {t.name: list(t.dims) for t in graph.initializer}
    for vi in list(graph.value_info) + list(graph.input) + list(graph.output):
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim]
    macs = {"Conv": 0, "MatMul": 0, "Gemm": 0}
    unknown = 0
    for node in graph.node:
        if node.op_type not in macs:
            continue
        y = shapes.get(node.output[0])
        a = shapes.get(node.input[1] if node.op_type == "Conv" else node.input[0])
        if not y or not a or None in y or None in a:
            unknown += 1
            continue
        if node.op_type == "Conv":  # weight (Cout, Cin/group, kh, kw)
            macs["Conv"] += int(np.prod(y)) * int(np.prod(a[1:]))
        elif node.op_type == "MatMul":
            macs["MatMul"] += int(np.prod(y)) * a[-1]
        else:
            trans_a = next((at.i for at in node.attribute if at.name == "transA"), 0)
            macs["Gemm"] += int(np.prod(y)) * (a[0] if trans_a else a[-1])
    return {"gflops": 2 * sum(macs.values()) / 1e9, "by_op": {k: 2 * v / 1e9 for k, v in macs.items() if v},
            "nodes_without_shape": unknown, "method": "ONNX graph: Conv + MatMul + Gemm, 2 FLOPs per MAC"}


# ------------------------------------------------------------------------------- measuring
def _pct(ms) -> dict:
    ms = np.asarray(ms, float)
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "fps": float(len(ms) / (ms.sum() / 1e3))}


def time_onnx(model: Path, engine: str, threads: int, images: list[np.ndarray], n: int) -> dict:
    from vision.detect import OnnxDetector
    from vision.tracking import ByteTracker

    det = OnnxDetector(model, threads=threads, verify_sha256=False, backend=engine)
    stages = {"preprocess": [], "inference": [], "postprocess": []}
    tracker = ByteTracker()
    call_ms, track_ms, found = [], [], []
    det(images[0])  # warm-up
    for i in range(n):
        img = images[i % len(images)]
        t0 = time.perf_counter()
        d = det(img, conf=CONF)
        t1 = time.perf_counter()
        tracker.update(d)
        track_ms.append((time.perf_counter() - t1) * 1e3)
        call_ms.append((t1 - t0) * 1e3)
        found.append(len(d))
        for k in stages:
            stages[k].append(det.last_timings_ms[k])
    med = {k: float(np.median(v)) for k, v in stages.items()}
    return {"input_hw": list(det.card.input_hw), **{f"{k}_ms": v for k, v in med.items()},
            "track_ms": float(np.median(track_ms)), "total_ms": sum(med.values()) + float(np.median(track_ms)),
            "call": _pct(call_ms), "detections_mean": float(np.mean(found))}


class TorchBaseline:
    """ultralytics' YOLO(...).predict on the CPU, offline, in a temp settings folder."""

    def __init__(self, folder: Path):
        from vision.training.ultralytics_offline import import_ultralytics

        import_ultralytics(folder / "ycfg")  # before anything imports ultralytics: no network
        import torch
        from ultralytics import YOLO

        self.torch, self.YOLO = torch, YOLO
        self.default_threads = torch.get_num_threads()

    def build(self, checkpoint: Path | None, classes) -> tuple[object, str]:
        if checkpoint is not None:
            return self.YOLO(str(checkpoint)), f"{checkpoint.name} (checkpoint)"
        from ultralytics.nn.tasks import DetectionModel

        yolo = self.YOLO("yolo11n.yaml")  # built from YAML: a *.pt name would start a download
        yolo.model = DetectionModel("yolo11n.yaml", nc=len(classes), verbose=False)
        yolo.model.names = dict(enumerate(classes))
        return yolo, f"yolo11n.yaml nc={len(classes)} (untrained)"

    def time(self, yolo, input_hw, threads: int, images: list[np.ndarray], n: int) -> dict:
        from ultralytics.utils.torch_utils import get_flops

        self.torch.set_num_threads(threads)
        try:
            imgs = [np.repeat(im[:, :, None], 3, axis=2) if im.ndim == 2 else im for im in images]
            shapes = []
            kw = {"imgsz": tuple(int(v) for v in input_hw), "device": "cpu", "conf": CONF, "verbose": False}
            for _ in range(2):  # warm-up: the first call builds the predictor and fuses the model
                yolo.predict(imgs[0], **kw)
            hook = yolo.predictor.model.register_forward_pre_hook(lambda m, a: shapes.append(tuple(a[0].shape)))
            stages = {"preprocess": [], "inference": [], "postprocess": []}
            call_ms, found = [], []
            try:
                for i in range(n):
                    t0 = time.perf_counter()
                    r = yolo.predict(imgs[i % len(imgs)], **kw)[0]
                    call_ms.append((time.perf_counter() - t0) * 1e3)
                    found.append(len(r.boxes))
                    for k in stages:
                        stages[k].append(float(r.speed[k]))
            finally:
                hook.remove()
            used_hw = list(shapes[-1][2:]) if shapes else list(input_hw)
            med = {k: float(np.median(v)) for k, v in stages.items()}
            return {"input_hw": used_hw, **{f"{k}_ms": v for k, v in med.items()}, "track_ms": None,
                    "total_ms": sum(med.values()), "call": _pct(call_ms), "detections_mean": float(np.mean(found)),
                    "gflops": float(get_flops(yolo.predictor.model.model, used_hw)),
                    "gflops_method": "ultralytics torch_utils.get_flops on the fused model at the input used"}
        finally:
            self.torch.set_num_threads(self.default_threads)


def time_set(name: str, label: str, models: list[tuple[Path, str, Path | None]], images, engines, frames: int,
             torch_base: TorchBaseline | None, notes: list[str]) -> list[dict]:
    """models: (onnx path, label, checkpoint or None)."""
    from vision.detect import OnnxDetector

    rows = []
    for path, model_label, checkpoint in models:
        base = OnnxDetector(path, threads=1, verify_sha256=False, backend="onnxruntime")
        x, _ = base.preprocess([images[0]])
        base.backend.run(x)
        bare = []
        for _ in range(frames):
            t0 = time.perf_counter()
            base.backend.run(x)
            bare.append(time.perf_counter() - t0)
        baseline_ms = float(np.median(bare)) * 1e3
        fl = onnx_gflops(path)
        common = {"set": name, "set_label": label, "model": path.name, "path": str(path.resolve()),
                  "model_label": model_label, "baseline_ms": baseline_ms}
        for engine in engines:
            for threads in (1, 2):
                r = time_onnx(path, engine, threads, images, frames)
                r.update(gflops=fl["gflops"], gflops_method=fl["method"], gflops_by_op=fl["by_op"])
                rows.append({**common, "engine": engine, "threads": threads, **r})
        if torch_base is not None:
            try:
                yolo, tlabel = torch_base.build(checkpoint, base.card.classes)
            except Exception as exc:  # noqa: BLE001 - the baseline is optional; say why it is missing
                notes.append(f"{name}: ultralytics baseline unavailable: {type(exc).__name__}: {exc}")
                continue
            for threads in (1, 2):
                r = torch_base.time(yolo, base.card.input_hw, threads, images, frames)
                rows.append({**common, "engine": "pytorch", "threads": threads, "torch_model": tlabel, **r})
    for r in rows:
        r["gflop_per_s"] = r["gflops"] / (r["inference_ms"] / 1e3) if r["gflops"] else None
        r["vs_baseline"] = r["total_ms"] / r["baseline_ms"]
        torch_row = next((t for t in rows if t["engine"] == "pytorch" and t["model"] == r["model"]
                          and t["threads"] == r["threads"]), None)
        r["vs_torch"] = torch_row["call"]["p50_ms"] / r["call"]["p50_ms"] if torch_row else None
    return rows


def _print_rows(rows) -> None:
    print(f"{'model':24s} {'input':>7s} {'engine':11s} thr   pre  infer  post  track  p50 ms  p95 ms   fps "
          f"GFLOPs GFLOP/s x base x torch")
    for r in rows:
        hw = f"{r['input_hw'][0]}x{r['input_hw'][1]}"
        track = "    -" if r["track_ms"] is None else f"{r['track_ms']:5.2f}"
        vt = "     -" if r["vs_torch"] is None else f"{r['vs_torch']:6.2f}"
        c = r["call"]
        print(f"{r['model']:24s} {hw:>7s} {r['engine']:11s} {r['threads']:3d} {r['preprocess_ms']:5.1f} "
              f"{r['inference_ms']:6.1f} {r['postprocess_ms']:5.1f} {track:>6s} {c['p50_ms']:7.1f} {c['p95_ms']:7.1f} "
              f"{c['fps']:5.1f} {r['gflops']:6.2f} {r['gflop_per_s'] or 0:7.1f} {r['vs_baseline']:6.2f} {vt}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", help="model(s) to time (default: resources/models/*.onnx)")
    ap.add_argument("--checkpoint", help="ultralytics checkpoint to export at 480x640, 256x320 and 384x640")
    ap.add_argument("--frames", type=int, default=30, help="timed frames per engine and thread count (default 30)")
    ap.add_argument("--noise", action="store_true", help="random camera frames instead of rendered ones")
    ap.add_argument("--no-torch", action="store_true", help="skip ultralytics' PyTorch predict")
    args = ap.parse_args()
    if args.frames < 1:
        ap.error("--frames must be >= 1")
    from vision.detect import load_card
    from vision.detect.backends import openvino_available

    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_detect_") as tmp:
        checkpoint = Path(args.checkpoint) if args.checkpoint else None
        if checkpoint:
            models = _export_sizes(checkpoint, Path(tmp))
        else:
            models = [Path(m) for m in args.model] if args.model else sorted(SHIPPED.glob("*.onnx"))
        if not models:
            ap.error("no models: give --model or --checkpoint (or ship models in resources/models)")
        kinds = {m: load_card(m).kind for m in models}
        camera = [(m, m.name, checkpoint) for m in models if kinds[m] != "sonar"]
        sonar_models = [m for m in models if kinds[m] == "sonar"]
        if not sonar_models and SHIPPED_SONAR.is_file():
            sonar_models = [SHIPPED_SONAR]
        if sonar_models:
            sonar = [(sonar_models[0], f"{sonar_models[0].name} (sonar model)", None)]
        else:
            wide = [m for m in camera if list(load_card(m[0]).input_hw) == [384, 640]]
            pick = (wide or camera)[:1]
            sonar = [(m, f"{m.name} (camera model: no sonar model shipped)", ck) for m, _, ck in pick]

        torch_base = None
        if not args.no_torch:
            try:
                torch_base = TorchBaseline(Path(tmp))
            except Exception as exc:  # noqa: BLE001 - e.g. the train extra is not installed
                notes.append(f"ultralytics baseline skipped: {type(exc).__name__}: {exc}")
        engines = ["onnxruntime"] + (["openvino"] if openvino_available() else [])
        if "openvino" not in engines:
            notes.append("OpenVINO is not installed: no openvino rows")

        rows = []
        cam_label = None
        if camera:
            cam_images, cam_label = camera_frames(args.noise)
            rows += time_set("camera", f"640x480 camera frames ({cam_label})", camera, cam_images, engines,
                             args.frames, torch_base, notes)
        fan_label = None
        if not OCULUS_PING.is_file():
            notes.append(f"sonar fan images skipped: {OCULUS_PING} not found")
        elif sonar:
            fan, ping_label = sonar_fan()
            fan_label = f"{fan.shape[1]}x{fan.shape[0]} sonar fan ({ping_label})"
            rows += time_set("sonar", fan_label, sonar, [fan], engines, args.frames, torch_base, notes)

    print(f"detector per frame, {args.frames} frames per row; medians in ms except the whole-call p50/p95; "
          f"fps = frames / sum of the detector calls (preprocess + inference + NMS)")
    for name in ("camera", "sonar"):
        sel = [r for r in rows if r["set"] == name]
        if not sel:
            continue
        print()
        print(f"{name}: {sel[0]['set_label']}")
        models_used = sorted({(r["model"], r["model_label"]) for r in sel})
        for _, lab in models_used:
            print(f"  model {lab}")
        torch_labels = sorted({r["torch_model"] for r in sel if r["engine"] == "pytorch"})
        if torch_labels:
            print(f"  pytorch rows: ultralytics predict of {', '.join(torch_labels)}"
                  + ("; speed does not depend on the weights" if any("untrained" in t for t in torch_labels) else ""))
        _print_rows(sel)
    print()
    print("GFLOPs: ONNX graph count (Conv + MatMul, 2 FLOPs/MAC; = ultralytics get_flops of the fused model); "
          "pytorch rows: ultralytics get_flops at the input predict used. GFLOP/s = GFLOPs / median inference.")
    print("x base: pre + inference + NMS + tracking over bare ONNX Runtime inference, 1 thread; "
          "x torch: ultralytics predict p50 / this call p50 at the same threads")
    goal = next((r for r in rows if r["set"] == "camera" and r["engine"] == "onnxruntime" and r["threads"] == 1
                 and r["path"] == str(SHIPPED_CAMERA.resolve())), None)
    goal_out = None
    if goal:
        fps = goal["call"]["fps"]
        best = max((r for r in rows if r["set"] == "camera" and r["path"] == goal["path"]
                    and r["engine"] != "pytorch"), key=lambda r: r["call"]["fps"])
        goal_out = {"model": goal["model"], "input_hw": goal["input_hw"], "fps": fps, "goal_fps": GOAL_FPS,
                    "pass": fps >= GOAL_FPS, "best": {"engine": best["engine"], "threads": best["threads"],
                                                      "fps": best["call"]["fps"]}}
        print(f"goal: camera detection >= {GOAL_FPS:g} frames/s at 640x480, shipped {goal['model']} "
              f"({goal['input_hw'][0]}x{goal['input_hw'][1]} input) on ONNX Runtime, 1 thread (as the station runs "
              f"it): {fps:.1f} frames/s, p95 {goal['call']['p95_ms']:.1f} ms  {'PASS' if goal_out['pass'] else 'FAIL'}"
              f"  (best: {best['engine']}, {best['threads']} thread(s): {best['call']['fps']:.1f} frames/s)")
    else:
        print("goal: not checked: the shipped camera model (resources/models/camera.onnx) was not timed in this run")
    for n in notes:
        print(f"note: {n}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"frames": args.frames, "camera_frames": cam_label, "sonar_fan": fan_label,
                                   "goal": goal_out, "notes": notes, "rows": rows}, indent=2))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
