"""Closing a record, orderly or after a crash: mission.json final, the event log one
self-contained file, then the signed manifest (SHA-256 of every file and the head of the
event chain). The manifest is written last: its presence means the record is complete."""
from __future__ import annotations

import hashlib
from pathlib import Path

from .mission_record import write_mission


def finalize_record(folder: Path, doc: dict, events, key=None) -> dict:
    """events: the open EventLog (closed here). key: an InstallationKey (default: this
    installation's). Returns {folder, files, bytes, events, events_head, manifest_sha256, key_id}."""
    from .keys import InstallationKey
    from .manifest import build_manifest, checkpoint_events, write_signed_manifest

    head = events.head()
    events.close()
    checkpoint_events(folder / "events.sqlite")
    write_mission(folder, doc)
    key = key or InstallationKey.load_or_create()
    manifest = build_manifest(folder, head, doc["record_id"])
    write_signed_manifest(folder, manifest, key)
    digest = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    files = manifest["files"]
    return {"folder": str(folder), "files": len(files), "bytes": sum(f["bytes"] for f in files.values()),
            "events": head[0], "events_head": head[1], "manifest_sha256": digest, "key_id": key.key_id}
