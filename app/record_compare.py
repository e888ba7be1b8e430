"""Two inspections of the same vessel compared (`hullwatch compare A B`): which objects are
in both (and how far apart the two placements are), which appeared in B, which vanished.

Findings compared: each record's original live findings (map/final.json, else its
finding events), not a later re-analysis. Matching: the same class within 1.0 m on the
hull (app.record_analysis_findings.match_findings), so compare reads no video and runs in
seconds.

An object absent from B is only "vanished" if B looked there: B's final coverage
(map/hull.ply, the wetted hull coloured per vertex by what saw it) near the place decides
"vanished" (B saw most of the hull within NEAR_M of it) from "not seen in B". Likewise a
new object in B where A never looked is "not seen in A", not proof it is new.
Verification is not needed to compare (run `hullwatch verify` for that).
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from recording.errors import RecordError

from .record_analysis_findings import FindingRecord, Match, match_findings, original_findings

NEAR_M = 1.0  # the hull around a finding whose coverage decides whether a record looked there
SEEN_SHARE = 0.5  # ... seen when at least this share of it was seen by camera or sonar
FAR_M = 3.0  # a map with no vertex this close says nothing about the place


class NotSameVessel(ValueError):
    """The two records are of different vessels; the message names both."""


@dataclasses.dataclass(frozen=True)
class Unmatched:
    finding: FindingRecord
    status: str  # "vanished" | "appeared" | "not seen in A" | "not seen in B" | "... (coverage unknown)"
    other_seen_share: float | None  # share of the hull within NEAR_M the other record saw; None: unknown


@dataclasses.dataclass(frozen=True)
class Comparison:
    vessel: str
    same_by: str  # "IMO 9000001" or "name"
    record_a: str
    record_b: str
    start_a_utc: str | None
    start_b_utc: str | None
    findings_from: str
    findings_a: tuple[FindingRecord, ...]
    findings_b: tuple[FindingRecord, ...]
    matched: tuple[Match, ...]  # distance_m: how far the placements lie apart
    appeared: tuple[Unmatched, ...]  # in B only
    vanished: tuple[Unmatched, ...]  # in A only
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _imo(text: str) -> str:
    return re.sub(r"^IMO\s*", "", str(text or "").strip(), flags=re.I)


def _name(text: str) -> str:
    return " ".join(str(text or "").split()).casefold()


def same_vessel(doc_a: dict, doc_b: dict) -> tuple[str, str]:
    """(vessel name, "IMO n" | "name") or NotSameVessel naming both vessels."""
    va, vb = doc_a.get("vessel") or {}, doc_b.get("vessel") or {}
    ia, ib = _imo(va.get("imo")), _imo(vb.get("imo"))
    both = f"A is {va.get('name')!r}{' IMO ' + ia if ia else ''}, B is {vb.get('name')!r}{' IMO ' + ib if ib else ''}"
    if ia and ib:
        if ia != ib:
            raise NotSameVessel(f"not the same vessel: {both}; compare inspections of one vessel")
        return str(va.get("name") or vb.get("name")), f"IMO {ia}"
    if not _name(va.get("name")) or _name(va.get("name")) != _name(vb.get("name")):
        raise NotSameVessel(f"not the same vessel: {both} (without an IMO number in both, the names must agree)")
    return str(va.get("name")), "name"


def coverage_map(record_dir: Path):
    """(vertices (V, 3) H m, seen (V,) bool) from the record's map/hull.ply, or None."""
    path = Path(record_dir) / "map" / "hull.ply"
    if not path.is_file():
        return None
    import open3d as o3d

    from vision.hullmap.export import COVERAGE_RGB, UNSEEN

    mesh = o3d.io.read_triangle_mesh(str(path))
    v, c = np.asarray(mesh.vertices, float), np.asarray(mesh.vertex_colors, float) * 255.0
    if not len(v) or len(c) != len(v):
        return None
    keys = sorted(COVERAGE_RGB)
    lut = np.array([COVERAGE_RGB[k] for k in keys], float)
    cls = np.array(keys)[np.argmin(((c[:, None, :] - lut[None]) ** 2).sum(axis=2), axis=1)]
    return v, cls != UNSEEN


def seen_share(cov, position_h) -> float | None:
    """Share of the map's hull within NEAR_M of position_h (H, m) that was seen; the nearest
    vertex's when none is that close; None without a map or with nothing within FAR_M."""
    if cov is None:
        return None
    v, seen = cov
    d = np.linalg.norm(v - np.asarray(position_h, float), axis=1)
    near = d <= NEAR_M
    if near.any():
        return float(seen[near].mean())
    i = int(np.argmin(d))
    return float(seen[i]) if d[i] <= FAR_M else None


def _unmatched(findings, other_cov, gone: str, other: str) -> tuple[Unmatched, ...]:
    out = []
    for f in findings:
        share = seen_share(other_cov, f.position_h)
        if share is None:
            status = f"{gone} ({other}'s coverage near it: unknown)"
        else:
            status = gone if share >= SEEN_SHARE else f"not seen in {other}"
        out.append(Unmatched(f, status, None if share is None else round(share, 3)))
    return tuple(out)


def compare_records(record_a, record_b) -> Comparison:
    """Compare two records of one vessel (A the earlier inspection, B the later).
    Raises NotSameVessel for two vessels, RecordError for a record it cannot read."""
    from recording.mission_record import read_mission

    a, b = Path(record_a), Path(record_b)
    doc_a, doc_b = read_mission(a), read_mission(b)
    vessel, same_by = same_vessel(doc_a, doc_b)
    fa, src_a = original_findings(a)
    fb, src_b = original_findings(b)
    notes = []
    ta, tb = doc_a.get("start_utc_s"), doc_b.get("start_utc_s")
    if isinstance(ta, (int, float)) and isinstance(tb, (int, float)) and tb < ta:
        notes.append("B was recorded before A: 'appeared' means found in B only, 'vanished' in A only")
    if a.resolve() == b.resolve():
        notes.append("A and B are the same record")
    diff = match_findings(fa, fb)
    try:
        cov_a = coverage_map(a) if diff.only_b else None
        cov_b = coverage_map(b) if diff.only_a else None
    except (OSError, RuntimeError, ValueError) as exc:
        raise RecordError(f"a record's map/hull.ply cannot be read ({exc})") from None
    source = "each record's original live findings, from " + (src_a if src_a == src_b else f"A's {src_a}, B's {src_b}")
    return Comparison(vessel, same_by, str(a), str(b), doc_a.get("start_utc"), doc_b.get("start_utc"), source,
                      fa, fb, diff.matched, _unmatched(diff.only_b, cov_a, "appeared", "A"),
                      _unmatched(diff.only_a, cov_b, "vanished", "B"), tuple(notes))
