"""A re-analysis written into its record as a signed addendum (recording.manifest), beside
the original findings and never over them: the record's files stay as sealed, so
`hullwatch verify` still finds it intact and counts one more addendum.

Entries (one JSON object each; "entry" names what it is):
    {"entry": "analysis", "software", "hull", "mapped", "frames", "pings", "media_s", "wall_s",
     "x_real_time", "original_findings_from", "notes"}
    {"entry": "model", "source", "file", "sha256", "live_file", "live_sha256", "same_as_live"}
    {"entry": "finding", "analysis_finding_id", "class_name", "position_h_m", "address", ...}
    {"entry": "alarms", "count", "by_source", "by_class"}
    {"entry": "matched", "original_finding_id", "analysis_finding_id", "class_name", "distance_m"}
    {"entry": "new", "analysis_finding_id", ...}       only in the re-analysis
    {"entry": "missing", "original_finding_id", ...}   only in the original
Finding ids of the re-analysis are its own numbering, named apart from the record's.
"""
from __future__ import annotations

import collections
from pathlib import Path

KIND = "analysis"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hullwatch")
    except PackageNotFoundError:
        return "unknown"


def _finding(f, id_key: str) -> dict:
    from recording.mission_record import utc_iso

    return {id_key: f.finding_id, "class_name": f.class_name,
            "position_h_m": [round(v, 4) for v in f.position_h], "address": f.address,
            "uncertainty_m": round(f.uncertainty_m, 4), "sources": list(f.sources), "observations": f.observations,
            "best_confidence": round(f.best_confidence, 4),
            "size_m": None if f.size_m is None else [round(v, 3) for v in f.size_m],
            "first_utc": None if f.first_utc_s is None else utc_iso(f.first_utc_s),
            "last_utc": None if f.last_utc_s is None else utc_iso(f.last_utc_s)}


def analysis_entries(analysis) -> list[dict]:
    from recording.mission_record import software_identity

    a = analysis
    out = [{"entry": "analysis", "software": software_identity(), "hull": a.hull or None, "mapped": a.mapped,
            "frames": a.frames, "pings": a.pings, "media_s": round(a.media_s, 3), "wall_s": round(a.wall_s, 3),
            "x_real_time": round(a.x_real_time, 3), "original_findings_from": a.original_source,
            "notes": list(a.notes)}]
    for m in a.models:
        out.append({"entry": "model", "source": m.source, "file": m.file, "sha256": m.sha256,
                    "live_file": m.live_file, "live_sha256": m.live_sha256, "same_as_live": m.same_as_live,
                    "engine": m.engine})
    out += [{"entry": "finding", **_finding(f, "analysis_finding_id")} for f in a.findings]
    out.append({"entry": "alarms", "count": len(a.alarms),
                "by_source": dict(sorted(collections.Counter(x.source for x in a.alarms).items())),
                "by_class": dict(sorted(collections.Counter(x.class_name for x in a.alarms).items()))})
    d = a.differences
    out += [{"entry": "matched", "original_finding_id": m.a_id, "analysis_finding_id": m.b_id,
             "class_name": m.class_name, "distance_m": m.distance_m} for m in d.matched]
    out += [{"entry": "new", **_finding(f, "analysis_finding_id")} for f in d.only_b]
    out += [{"entry": "missing", **_finding(f, "original_finding_id")} for f in d.only_a]
    return out


def write_analysis_addendum(record_dir, analysis, key=None) -> Path:
    """Append the analysis as addenda/NNNN_analysis.json (+ .sig); returns its path.
    key: recording.keys.InstallationKey (default: this installation's)."""
    from recording.keys import InstallationKey
    from recording.manifest import append_addendum

    key = key or InstallationKey.load_or_create()
    return append_addendum(Path(record_dir), KIND, analysis_entries(analysis), key,
                           author=f"hullwatch analyze {_version()}")
