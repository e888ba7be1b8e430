"""mission.json: what a record is about (vessel, team, plan, software, models, UTC times)
and the state of the record: "recording" while diving, "closed" after an orderly close,
"recovered" when the next start closed an interrupted one.

Written atomically (temporary file, fsync, rename), so a crash leaves the previous
version, never half a file. The record's id (a UUID) seeds the event chain, so events
cannot be moved from one record to another unnoticed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import uuid
from pathlib import Path

from .errors import RecordError

FORMAT = "hullwatch-record"
VERSION = 1
MISSION_FILE = "mission.json"
STATES = ("recording", "closed", "recovered")


@dataclasses.dataclass(frozen=True)
class MissionInfo:
    """What the team enters before diving (everything optional but the vessel's name)."""

    vessel_name: str
    imo: str = ""  # IMO number: 7 digits
    mmsi: str = ""  # 9 digits
    berth: str = ""
    operator: str = ""  # who flies the ROV
    team: tuple[str, ...] = ()
    unit: str = ""  # e.g. "Port police dive team, Rotterdam"
    plan_path: str | None = None  # the *.hullplan.json flown, hashed into the record
    notes: str = ""

    def problems(self) -> list[str]:
        out = []
        if not self.vessel_name.strip():
            out.append("vessel name is empty: name the inspected vessel")
        if self.imo and not re.fullmatch(r"(IMO ?)?\d{7}", self.imo.strip()):
            out.append(f"IMO number {self.imo!r} is not 7 digits")
        if self.mmsi and not re.fullmatch(r"\d{9}", self.mmsi.strip()):
            out.append(f"MMSI {self.mmsi!r} is not 9 digits")
        return out


def utc_iso(t_utc_s: float) -> str:
    return dt.datetime.fromtimestamp(t_utc_s, dt.timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_folder_name(info: MissionInfo, t_utc_s: float) -> str:
    """2026-11-29T084500Z_MV-Example: sorts by time, names the vessel, safe on every OS."""
    stamp = dt.datetime.fromtimestamp(t_utc_s, dt.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", info.vessel_name).strip("-")[:40] or "vessel"
    return f"{stamp}_{slug}"


PLAN_FILE = "plan.hullplan.json"  # the plan flown, copied into the record so it stands alone


def new_mission_doc(info: MissionInfo, t_utc_s: float, *, software: dict, models: dict,
                    vehicle: dict | None = None, hull: dict | None = None) -> dict:
    plan = None
    if info.plan_path:
        path = Path(info.plan_path)
        try:
            plan = {"file": path.name, "copy": PLAN_FILE, "sha256": file_sha256(path), "bytes": path.stat().st_size}
        except OSError as exc:
            raise RecordError(f"cannot read the plan {path}: {exc.strerror or exc}; check the path") from None
    return {
        "format": FORMAT, "version": VERSION, "record_id": str(uuid.uuid4()), "state": "recording",
        "vessel": {"name": info.vessel_name, "imo": info.imo, "mmsi": info.mmsi, "berth": info.berth},
        "team": {"operator": info.operator, "members": list(info.team), "unit": info.unit},
        "plan": plan, "notes": info.notes, "software": software, "models": models,
        "vehicle": vehicle or {}, "hull": hull, "start_utc": utc_iso(t_utc_s), "start_utc_s": t_utc_s,
        "end_utc": None, "end_utc_s": None,
    }


def write_mission(folder: Path, doc: dict) -> None:
    path = folder / MISSION_FILE
    tmp = path.with_suffix(".json.tmp")
    data = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode()
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(folder)


def read_mission(folder: Path) -> dict:
    path = Path(folder) / MISSION_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"{folder} is not a HullWatch record: it has no {MISSION_FILE}") from None
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path} cannot be read ({exc}); the record is damaged: run `hullwatch verify`") from None
    if doc.get("format") != FORMAT:
        raise RecordError(f"{path} is not a HullWatch mission file (format {doc.get('format')!r})")
    if doc.get("version") != VERSION:
        raise RecordError(f"{path} is version {doc.get('version')}; this HullWatch reads version {VERSION}: "
                          "update HullWatch")
    if doc.get("state") not in STATES:
        raise RecordError(f"{path}: unknown state {doc.get('state')!r}")
    return doc


def software_identity() -> dict:
    from vision.training.dataset_card import generator_identity

    return generator_identity()


def model_identity(path: Path | None) -> dict | None:
    if path is None:
        return None
    path = Path(path)
    card = path.with_suffix(".card.json")
    out = {"file": path.name, "sha256": file_sha256(path)}
    try:
        meta = json.loads(card.read_text(encoding="utf-8"))
        out.update(kind=meta.get("kind"), classes=meta.get("classes"),
                   class_thresholds=meta.get("class_thresholds"))
    except (OSError, ValueError):
        out["card"] = "missing"
    return out


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
