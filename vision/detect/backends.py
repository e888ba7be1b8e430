"""Inference engines for the detector: ONNX Runtime (always there) and OpenVINO (an
optional extra). Both read the same .onnx file and
take the same (N, 3, H, W) float32 batch; pre- and post-processing stay in the detector.

OpenVINO's runtime is used through `Core.read_model` on the ONNX file only: its model
converter (`openvino.tools.ovc`) is the part that sends telemetry, and it is never imported."""
from __future__ import annotations

import importlib.util
import threading

import numpy as np

from .model_card import ModelError


def openvino_available() -> bool:
    return importlib.util.find_spec("openvino") is not None


def bf16_supported() -> bool:
    """The CPU has bf16 units OpenVINO uses (AVX512-BF16 or AMX)."""
    if not openvino_available():
        return False
    import openvino as ov

    try:
        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # no CPU plugin: OpenVINO raises RuntimeError subclasses
        return False


def fastest_backend() -> str:
    """For offline work where throughput matters more than matching the live runtime to the
    last pixel (re-analysis): OpenVINO in bf16 where the CPU has bf16 units (bench/bench_analyze.py:
    about twice ONNX Runtime's speed on YOLO11n), else ONNX Runtime."""
    return "openvino-bf16" if bf16_supported() else "onnxruntime"


def default_backend() -> str:
    """ONNX Runtime: bench/bench_detect.py measured OpenVINO no faster in f32 (YOLO11n at
    480x640, one thread: 54.6 vs 55.6 ms), and its faster bf16 mode moves boxes by pixels
    against the runtime the thresholds were chosen with. `backend="openvino"` selects it."""
    return "onnxruntime"


class OrtBackend:
    name = "onnxruntime"

    def __init__(self, path, threads: int | None):
        import onnxruntime as ort

        if hasattr(ort, "disable_telemetry_events"):
            ort.disable_telemetry_events()
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad protobufs
            raise ModelError(f"{path}: not a loadable ONNX model ({str(exc).splitlines()[0][:200]})") from None
        self.input_name = self.session.get_inputs()[0].name
        self.input_shape = list(self.session.get_inputs()[0].shape)
        self.output_shape = list(self.session.get_outputs()[0].shape)

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x})[0]


class OpenVinoBackend:
    name = "openvino"

    def __init__(self, path, threads: int | None, precision: str = "f32", parallel: int = 1):
        import openvino as ov

        self.name = "openvino" if precision == "f32" else f"openvino-{precision}"
        core = ov.Core()
        try:
            model = core.read_model(str(path))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses with long C++ traces
            raise ModelError(f"{path}: not a loadable ONNX model ({str(exc).splitlines()[0][:200]})") from None
        # f32 by default: on CPUs with BF16 units OpenVINO would otherwise compute in bf16,
        # moving boxes by pixels against the ONNX Runtime results the thresholds were chosen with
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        if parallel > 1:
            # one CPU stream serves one inference at a time: calls from `parallel` threads would
            # queue on it (measured: two threads, one stream, no faster than one thread)
            config = {"INFERENCE_PRECISION_HINT": precision, "NUM_STREAMS": int(parallel),
                      "INFERENCE_NUM_THREADS": int(parallel) * int(threads or 1)}
        self.compiled = core.compile_model(model, "CPU", config)
        self._local = threading.local()  # an infer request serves one call at a time: one per thread
        self.input_shape = [d.get_length() if d.is_static else None for d in model.inputs[0].get_partial_shape()]
        self.output_shape = [d.get_length() if d.is_static else None for d in model.outputs[0].get_partial_shape()]

    def run(self, x: np.ndarray) -> np.ndarray:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        return np.asarray(request.infer({0: x})[self.compiled.outputs[0]]).copy()


def make_backend(name: str, path, threads: int | None, parallel: int = 1):
    """parallel: how many threads will call run() at once (each gets `threads`)."""
    if name == "auto":
        name = default_backend()
    elif name == "fastest":
        name = fastest_backend()
    if name == "onnxruntime":
        return OrtBackend(path, threads)
    if name == "openvino":
        if not openvino_available():
            raise ModelError("the OpenVINO backend is not installed (pip install -e '.[openvino]'), "
                             "or use the onnxruntime backend")
        return OpenVinoBackend(path, threads, parallel=parallel)
    if name == "openvino-bf16":
        if not bf16_supported():
            raise ModelError("openvino-bf16 needs OpenVINO and a CPU with bf16 units (AVX512-BF16 or AMX); "
                             "use onnxruntime or openvino")
        return OpenVinoBackend(path, threads, "bf16", parallel)
    raise ModelError(f"unknown inference backend {name!r}: use auto, fastest, onnxruntime, openvino or openvino-bf16")
