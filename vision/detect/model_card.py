"""The model card shipped beside every model (`NAME.onnx` + `NAME.card.json`): what the
model detects, its input, its operating thresholds, how it was trained and measured, and
the SHA-256 of the weights it describes, so a report can name exactly which model found what."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

FORMAT, VERSION = "hullwatch-model-card", 1
EVIDENCE_FIELD = "alarm_evidence_conf_s"


class ModelError(ValueError):
    """A model or its card is missing, corrupt or does not fit this HullWatch."""


@dataclasses.dataclass(frozen=True)
class ModelCard:
    name: str
    kind: str  # "camera" | "sonar"
    classes: tuple[str, ...]
    input_hw: tuple[int, int]
    conf_threshold: float
    class_thresholds: dict
    iou_threshold: float
    sha256: str
    extra: dict  # training data, seeds, metrics, licence notes: carried, not interpreted

    def threshold(self, class_name: str) -> float:
        return float(self.class_thresholds.get(class_name, self.conf_threshold))

    def alarm_evidence(self) -> dict:
        """{class: confidence-seconds a track gathers before it alarms} (vision.alarms)."""
        return dict(self.extra.get(EVIDENCE_FIELD) or {})

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "name": self.name, "kind": self.kind,
                "classes": list(self.classes), "input_hw": list(self.input_hw),
                "conf_threshold": self.conf_threshold, "class_thresholds": dict(self.class_thresholds),
                "iou_threshold": self.iou_threshold, "sha256": self.sha256, **self.extra}


def card_path_for(model_path) -> Path:
    p = Path(model_path)
    return p.with_name(p.name[: -len(p.suffix)] + ".card.json") if p.suffix else p.with_name(p.name + ".card.json")


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_card(model_path, expected_classes=None) -> ModelCard:
    """Read and check the card beside `model_path`. Errors name the file and the field."""
    path = card_path_for(model_path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: model card not found; every model needs its card beside it "
                         f"(train it with `hullwatch train` or copy the card with the .onnx)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: the model card is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelError(f"{path}: not a HullWatch model card (format should be {FORMAT!r})")
    if doc.get("version") != VERSION:
        raise ModelError(f"{path}: model card version {doc.get('version')!r}; this HullWatch reads {VERSION}")
    try:
        classes = tuple(str(c) for c in doc["classes"])
        ih, iw = (int(v) for v in doc["input_hw"])
        card = ModelCard(str(doc.get("name", path.stem)), str(doc["kind"]), classes, (ih, iw),
                         float(doc.get("conf_threshold", 0.25)), dict(doc.get("class_thresholds", {})),
                         float(doc.get("iou_threshold", 0.5)), str(doc["sha256"]),
                         {k: v for k, v in doc.items() if k not in _KNOWN})
    except KeyError as exc:
        raise ModelError(f"{path}: the model card lacks the field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{path}: a model card field has the wrong type ({exc})") from None
    if card.kind not in ("camera", "sonar"):
        raise ModelError(f"{path}: kind must be 'camera' or 'sonar', got {card.kind!r}")
    if min(card.input_hw) < 32 or any(v % 32 for v in card.input_hw):
        raise ModelError(f"{path}: input_hw {card.input_hw} must be multiples of 32 (YOLO strides)")
    if expected_classes is not None and tuple(card.classes) != tuple(expected_classes):
        raise ModelError(f"{path}: the model detects {list(card.classes)}, but HullWatch expects "
                         f"{list(expected_classes)} in that order; retrain or pick the right model")
    unknown = set(card.class_thresholds) - set(card.classes)
    if unknown:
        raise ModelError(f"{path}: class_thresholds names classes the model lacks: {sorted(unknown)}")
    evidence = card.extra.get(EVIDENCE_FIELD, {})
    if not isinstance(evidence, dict) or any(
            c not in card.classes or not isinstance(v, (int, float)) or not v >= 0 for c, v in evidence.items()):
        raise ModelError(f"{path}: {EVIDENCE_FIELD} must map the model's classes to numbers >= 0, got {evidence!r}")
    return card


_KNOWN = {"format", "version", "name", "kind", "classes", "input_hw", "conf_threshold", "class_thresholds",
          "iou_threshold", "sha256"}
