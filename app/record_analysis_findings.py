"""Findings as re-analysis and comparison handle them: plain records on the UTC clock (from
a live vision.georef.Finding, or from the JSON a record holds), the record's original
findings, and matching two sets by class and place on the hull.

A record's original findings are its final map's (map/final.json), or, when the record
has no final map (an interrupted mission), the last "finding"/"finding_updated" event of
each finding. Their times are on the live station's frame clock (monotonic); the record's
frame index pairs that clock with UTC, so they are moved onto UTC here.
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from recording.errors import RecordError

MATCH_MAX_M = 1.0  # the same object, found twice, lies within this on the hull


@dataclasses.dataclass(frozen=True)
class FindingRecord:
    """One finding: position_h (x, y, z) m in the hull frame; uncertainty_m 1 sigma;
    address as a diver reads it; size_m (width, height) m or None; times UTC s."""

    finding_id: int
    class_name: str
    position_h: tuple[float, float, float]
    address: str
    uncertainty_m: float
    sources: tuple[str, ...]
    observations: int
    best_confidence: float
    size_m: tuple[float, float] | None
    first_utc_s: float | None
    last_utc_s: float | None

    @classmethod
    def from_finding(cls, f, clock_offset_s: float = 0.0) -> "FindingRecord":
        """From a live vision.georef.Finding whose times are clock_offset_s behind UTC."""
        return cls(int(f.finding_id), str(f.class_name), _xyz(f.position_h),
                   f.address.describe() if f.address is not None else "", float(f.uncertainty_m),
                   tuple(f.sources), int(f.observations), float(f.best_confidence),
                   None if f.size_m is None else (float(f.size_m[0]), float(f.size_m[1])),
                   float(f.first_t_s) + clock_offset_s, float(f.last_t_s) + clock_offset_s)

    @classmethod
    def from_payload(cls, d: dict, clock_offset_s: float | None) -> "FindingRecord":
        """From a Finding as app.station_recording.jsonable wrote it (event or final map)."""
        from hull.queries import SurfaceAddress

        addr = d.get("address")
        if isinstance(addr, dict):
            keys = {f.name for f in dataclasses.fields(SurfaceAddress)}
            addr = SurfaceAddress(**{k: addr.get(k) for k in keys}).describe()
        size = d.get("size_m")

        def utc(t):
            return None if t is None or clock_offset_s is None else float(t) + clock_offset_s

        return cls(int(d["finding_id"]), str(d["class_name"]), _xyz(d["position_h"]), str(addr or ""),
                   float(d.get("uncertainty_m") or 0.0), tuple(d.get("sources") or ()),
                   int(d.get("observations") or 0), float(d.get("best_confidence") or 0.0),
                   None if not size else (float(size[0]), float(size[1])),
                   utc(d.get("first_t_s")), utc(d.get("last_t_s")))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _xyz(p) -> tuple[float, float, float]:
    a = np.asarray(p, float).reshape(3)
    return (float(a[0]), float(a[1]), float(a[2]))


@dataclasses.dataclass(frozen=True)
class Match:
    a_id: int  # the first set's finding (the original, or record A's)
    b_id: int  # the second set's (the re-analysis, or record B's)
    class_name: str
    distance_m: float


@dataclasses.dataclass(frozen=True)
class FindingDiff:
    """matched: pairs within MATCH_MAX_M of the same class; only_a / only_b: the rest."""

    matched: tuple[Match, ...]
    only_a: tuple[FindingRecord, ...]
    only_b: tuple[FindingRecord, ...]


def match_findings(a, b, max_m: float = MATCH_MAX_M) -> FindingDiff:
    """Pairs each finding of `a` with at most one of `b`: the same class, within max_m (m)
    on the hull, closest pairs first (ties by ids, so the result never depends on order)."""
    pairs = []
    for fa in a:
        for fb in b:
            if fa.class_name == fb.class_name:
                d = math.dist(fa.position_h, fb.position_h)
                if d <= max_m:
                    pairs.append((d, fa.finding_id, fb.finding_id, fa.class_name))
    used_a, used_b, matched = set(), set(), []
    for d, ia, ib, name in sorted(pairs):
        if ia not in used_a and ib not in used_b:
            used_a.add(ia)
            used_b.add(ib)
            matched.append(Match(ia, ib, name, round(d, 3)))
    matched.sort(key=lambda m: m.a_id)
    return FindingDiff(tuple(matched), tuple(f for f in a if f.finding_id not in used_a),
                       tuple(f for f in b if f.finding_id not in used_b))


def clock_offset_s(record_dir: Path) -> float | None:
    """UTC minus the live station's monotonic clock, from the video index (else the sonar's):
    the smallest difference, the one read with the least delay between the two clocks."""
    for rel in ("video/frames.csv", "sonar/pings.csv"):
        path = Path(record_dir) / rel
        try:
            lines = path.read_text(encoding="ascii").split("\n")
        except OSError:
            continue
        head = lines[0].split(",")
        if "t_utc_s" not in head or "t_mono_s" not in head:
            continue
        iu, im = head.index("t_utc_s"), head.index("t_mono_s")
        diffs = []
        for line in lines[1:]:
            f = line.split(",")
            if len(f) == len(head):
                try:
                    diffs.append(float(f[iu]) - float(f[im]))
                except ValueError:
                    continue
        if diffs:
            return min(diffs)
    return None


def original_findings(record_dir: Path) -> tuple[tuple[FindingRecord, ...], str]:
    """(the live findings of a record, where they come from)."""
    from recording.event_log import read_events

    record_dir = Path(record_dir)
    offset = clock_offset_s(record_dir)
    final = record_dir / "map" / "final.json"
    if final.is_file():
        try:
            doc = json.loads(final.read_text(encoding="utf-8"))
            rows = [FindingRecord.from_payload(d, offset) for d in doc.get("findings") or ()]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RecordError(f"{final} cannot be read ({exc}): run `hullwatch verify` on the record") from None
        return tuple(sorted(rows, key=lambda f: f.finding_id)), "map/final.json"
    events = record_dir / "events.sqlite"
    if not events.is_file():
        return (), "nowhere: the record has neither a final map nor an event log"
    latest: dict[int, dict] = {}
    for e in read_events(events, kinds=("finding", "finding_updated")):
        if isinstance(e.payload.get("finding_id"), int):
            latest[e.payload["finding_id"]] = e.payload
    try:
        rows = [FindingRecord.from_payload(d, offset) for _, d in sorted(latest.items())]
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(f"{events}: a finding event cannot be read ({exc})") from None
    return tuple(rows), "events.sqlite (the record has no final map)"
