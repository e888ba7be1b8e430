"""Object detection on ONNX Runtime: letterbox, YOLO heads, NMS, model cards."""
from .model_card import ModelCard, ModelError, load_card
from .onnx_detector import OnnxDetector

__all__ = ["ModelCard", "ModelError", "OnnxDetector", "load_card"]
