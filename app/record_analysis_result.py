"""What a re-analysis returns (app/record_analysis.py): immutable, JSON-ready with
to_dict(), safe to hand to any thread or process (a batch engine's result)."""
from __future__ import annotations

import dataclasses

from .record_analysis_findings import FindingDiff, FindingRecord


@dataclasses.dataclass(frozen=True)
class AlarmRecord:
    alarm_id: int
    source: str
    class_name: str
    confidence: float
    first_utc_s: float
    last_utc_s: float
    frames: int
    track_ids: tuple[int, ...]
    second_look: float | None = None  # the alarm verifier's score when it alarmed


@dataclasses.dataclass(frozen=True)
class ModelUse:
    """A model the re-analysis ran, against the one the live station ran (mission.json)."""

    source: str  # camera | sonar
    file: str
    sha256: str
    live_file: str | None
    live_sha256: str | None
    engine: str = "onnxruntime"  # vision.detect.backends name: the arithmetic the detections came from

    @property
    def same_as_live(self) -> bool | None:
        return None if self.live_sha256 is None else self.sha256 == self.live_sha256


@dataclasses.dataclass(frozen=True)
class Analysis:
    """A record re-analysed. differences: a = the original (live) findings, b = these."""

    record: str
    findings: tuple[FindingRecord, ...]
    alarms: tuple[AlarmRecord, ...]
    original_findings: tuple[FindingRecord, ...]
    original_source: str
    differences: FindingDiff
    frames: int
    pings: int
    media_s: float
    wall_s: float
    models: tuple[ModelUse, ...]
    hull: str  # how the hull was rebuilt ("" when it could not be: detection only)
    mapped: bool
    notes: tuple[str, ...]
    timings_s: dict  # busy seconds: setup, decode, sonar_read, detect_*, track_alarms_*, wait_*, map (threads overlap)

    @property
    def new_findings(self) -> tuple[FindingRecord, ...]:
        """Found by the re-analysis only."""
        return self.differences.only_b

    @property
    def missing_findings(self) -> tuple[FindingRecord, ...]:
        """Found live only."""
        return self.differences.only_a

    @property
    def x_real_time(self) -> float:
        return self.media_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def same_models_as_live(self) -> bool:
        return all(m.same_as_live for m in self.models)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["x_real_time"] = self.x_real_time
        out["models"] = [{**dataclasses.asdict(m), "same_as_live": m.same_as_live} for m in self.models]
        d = out.pop("differences")
        out["differences"] = {"matched": [{"original_finding_id": m["a_id"], "analysis_finding_id": m["b_id"],
                                           "class_name": m["class_name"], "distance_m": m["distance_m"]}
                                          for m in d["matched"]],
                              "new": d["only_b"], "missing": d["only_a"]}
        return out
