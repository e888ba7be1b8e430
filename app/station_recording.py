"""Recording a mission from the running station: the station's streams and results go
to a recording.MissionRecorder, which writes them on its own thread.

Taps (each a listener that only queues, never writes): the camera's H.264 access units as
received (the original stream, not a re-encode), the Oculus's raw messages, the vehicle's
MAVLink both ways (its tlog, moved into the record), every detection result, alarms with
their snapshot, the vehicle's events (link, mode, arming, failsafes, status texts),
findings and coverage from the hull map (a small poller), and operator actions (the GUI
and the demo call action()). Stopping unhooks every tap first, writes the final map
snapshot, then closes the record.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Mapping
import time
from pathlib import Path

import numpy as np

MAP_POLL_S = 1.0
COVERAGE_EVERY_S = 10.0
AUDIO_NOTE_LANDED_S = 10.0  # the writer needs well under a second for a 120 s note
_AUDIO_NOTES_LOCK = threading.Lock()


def jsonable(obj):
    """Plain JSON values from dataclasses, numpy arrays and scalars, tuples, paths."""
    import dataclasses

    import numpy as np

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if not isinstance(getattr(obj, f.name), np.ndarray) or getattr(obj, f.name).size <= 64}
    if isinstance(obj, Mapping):  # also the read-only MappingProxyType of the coverage summaries
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


class StationRecording:
    def __init__(self, station, recorder) -> None:
        self.station = station
        self.recorder = recorder
        self._undo: list = []
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._findings_seen: dict[int, tuple] = {}

    @property
    def folder(self) -> Path | None:
        return self.recorder.folder

    def start(self) -> "StationRecording":
        rec = self.recorder.start()
        try:
            self._hook(rec)
        except BaseException:
            self.stop()  # a half-hooked record is closed and signed, never left open
            raise
        return self

    def _hook(self, rec) -> None:
        st, mon = self.station, self.station.monitor
        if st.vehicle is not None:
            st.vehicle.start_tlog(rec.folder / "telemetry.tlog")
            self._undo.append(st.vehicle.stop_tlog)
            self._undo.append(st.vehicle.events.subscribe(self._vehicle_event))
        if mon is not None and mon.video is not None:
            self._listen(mon.video.access_unit_listeners, rec.on_access_unit)
        if mon is not None and mon.oculus is not None:
            self._listen(mon.oculus.raw_message_listeners, rec.on_sonar_message)
        if mon is not None:
            self._listen(mon.result_listeners, self._result)
        self._listen(st.alarm_listeners, self._alarm)
        self._poller = threading.Thread(target=self._poll_map, name="recording map", daemon=True)
        self._poller.start()

    def _listen(self, listeners: list, fn) -> None:
        listeners.append(fn)
        self._undo.append(lambda: fn in listeners and listeners.remove(fn))

    # ---- taps (producer threads) ------------------------------------------------------------
    def _result(self, source: str, result) -> None:
        d = result.detections
        if len(d) == 0 and not result.new_alarms:
            return
        from vision.classes import CLASSES

        self.recorder.event("detections", {
            "source": source, "frame_index": result.frame.index, "t_frame_s": result.frame.t_s,
            "xyxy": jsonable(d.xyxy.round(1)), "confidence": jsonable(d.confidence.round(3)),
            "class_name": [CLASSES[int(c)] for c in d.class_id],
            "track_id": jsonable(d.tracker_id) if d.tracker_id is not None else None,
            "latency_ms": round(result.latency_s * 1000.0, 1)})

    def _alarm(self, alarm) -> None:
        payload = {k: jsonable(v) for k, v in vars(alarm).items() if k != "snapshot"}
        if alarm.snapshot is not None:
            import cv2

            ok, png = cv2.imencode(".png", alarm.snapshot)
            if ok:
                self.recorder.add_file(f"snapshots/alarm_{alarm.alarm_id:04d}.png", png.tobytes(), "alarm", payload)
                return
        self.recorder.event("alarm", payload)

    def _vehicle_event(self, event) -> None:
        self.recorder.event("vehicle_" + type(event).__name__, jsonable(event))

    def action(self, what: str, **details) -> None:
        """An operator action or decision (arm, mode, review, note): who, what, when."""
        self.recorder.event("operator_" + what, jsonable(details))

    def add_audio_note(self, path, started_utc: float, ended_utc: float, *, operator: str = "") -> dict:
        """An operator's spoken note (the finished temporary file at `path`) into the record as
        notes/audio_NNNN.<ext> with an operator_audio_note event, through the recorder (so it is
        hashed in the manifest at close and committed like every other file). Blocks until the
        recorder wrote it (bounded): call it in a task. The temporary file is removed only once
        the record holds the same bytes; otherwise a UserError names it, so no note is lost."""
        import hashlib
        import wave

        from recording.mission_record import utc_iso

        from .errors import UserError

        src = Path(path)
        kept = f"the note is kept at {src}"
        try:
            data = src.read_bytes()
        except OSError as exc:
            raise UserError(f"audio note not recorded: cannot read {src} ({exc.strerror or exc})") from None
        if not data:
            raise UserError(f"audio note not recorded: {src} is empty (the microphone gave no sound)")
        duration_s = max(0.0, ended_utc - started_utc)
        if src.suffix.lower() == ".wav":
            try:  # the file's own length is the evidence; the clock only says when
                with wave.open(str(src), "rb") as w:
                    duration_s = w.getnframes() / float(w.getframerate())
            except (wave.Error, EOFError, OSError, ZeroDivisionError):
                pass
        rec, folder = self.recorder, self.recorder.folder
        if folder is None or rec.closed_summary is not None:
            raise UserError(f"audio note not recorded: no mission record is open; {kept}")
        digest = hashlib.sha256(data).hexdigest()
        with _AUDIO_NOTES_LOCK:  # one note at a time, so numbering from the folder holds
            notes = folder / "notes"
            stems = [p.stem[6:] for p in notes.glob("audio_*")] if notes.is_dir() else []
            number = 1 + max((int(s) for s in stems if s.isdigit()), default=0)
            relpath = f"notes/audio_{number:04d}{src.suffix.lower()}"
            payload = {"number": number, "duration_s": round(duration_s, 3), "t_start_utc": utc_iso(started_utc),
                       "t_end_utc": utc_iso(ended_utc), "operator": operator, "bytes": len(data)}
            rec.add_file(relpath, data, "operator_audio_note", payload, t_utc_s=ended_utc)

            def landed() -> bool:
                try:
                    target = folder / relpath
                    return (target.stat().st_size == len(data)
                            and hashlib.sha256(target.read_bytes()).hexdigest() == digest)
                except OSError:
                    return False

            deadline = time.monotonic() + AUDIO_NOTE_LANDED_S
            while not landed():
                status = rec.status()
                if time.monotonic() > deadline or rec.closed_summary is not None or status.media_stopped:
                    if landed():
                        break
                    why = status.warning or "the record closed, or its queue was full"
                    raise UserError(f"audio note not recorded in {folder.name} ({why}); {kept}")
                time.sleep(0.05)
        try:
            src.unlink()
        except OSError:
            pass  # the record holds the note; a leftover temporary copy is harmless
        return {"number": number, "file": relpath, "duration_s": payload["duration_s"], "folder": str(folder)}

    def _poll_map(self) -> None:
        next_coverage = 0.0
        while not self._stop.wait(MAP_POLL_S):
            smap = self.station.station_map
            if smap is None:
                continue
            snap = smap.worker.latest
            for f in snap.findings:
                key = (f.observations, round(f.uncertainty_m, 2), f.class_name)
                if self._findings_seen.get(f.finding_id) != key:
                    kind = "finding_updated" if f.finding_id in self._findings_seen else "finding"
                    self._findings_seen[f.finding_id] = key
                    self.recorder.event(kind, jsonable(f))
            if time.monotonic() >= next_coverage:
                next_coverage = time.monotonic() + COVERAGE_EVERY_S
                self.recorder.event("coverage", jsonable(snap.coverage))

    # ---- stop -------------------------------------------------------------------------
    def stop(self) -> dict:
        """Unhook every tap, write the map's final state, close and sign the record."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(5.0)
        for undo in reversed(self._undo):
            try:
                undo()
            except Exception:  # noqa: BLE001 - every tap is unhooked even if one fails
                pass
        self._undo.clear()
        self._write_map()
        return self.recorder.close()

    def _write_map(self) -> None:
        """The map at the end: the layers (PLY/OBJ/glb), the hull expansion image, the gaps,
        and coverage per side and per niche area with the findings (map/final.json)."""
        import hashlib

        from .map_actions import MapBusy, export_all

        smap = self.station.station_map
        if smap is None or self.recorder.folder is None:
            return
        folder = self.recorder.folder / "map"
        try:
            result = export_all(smap.worker, smap.model, smap.placement.draft_m, folder)
            files = {p.relative_to(self.recorder.folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                     for p in result.files}
        except (MapBusy, OSError, RuntimeError) as exc:
            self.recorder.event("map_export_failed", {"error": str(exc)})
            files = {}
        snap = smap.worker.latest
        seen_any = np.zeros(len(smap.samples), bool)
        for mask in snap.seen.values():
            seen_any |= np.asarray(mask, bool)
        doc = {"coverage": jsonable(snap.coverage), "per_side_pct": per_side_pct(smap.samples, seen_any),
               "findings": [jsonable(f) for f in snap.findings], "map_points": snap.map_points,
               "files": files}
        data = json.dumps(doc, indent=1).encode()
        self.recorder.add_file("map/final.json", data, "map_snapshot",
                               {"findings": len(snap.findings), "overall_pct": snap.coverage.overall_pct,
                                "files": files})


def per_side_pct(samples, seen) -> dict:
    """Seen share of the wetted area on each side (port, starboard, bottom), as SurfaceAddress
    names the sides: a surface facing down steeper than about 45 degrees is the bottom."""
    from hull.queries import BOTTOM_NORMAL_Z

    n = np.asarray(samples.normals_h)
    area = np.asarray(samples.area_m2)
    side = np.where(n[:, 2] < BOTTOM_NORMAL_Z, "bottom", np.where(np.asarray(samples.points_h)[:, 1] >= 0,
                                                                 "port", "starboard"))
    out = {}
    for name in ("port", "starboard", "bottom"):
        m = side == name
        total = float(area[m].sum())
        out[name] = round(100.0 * float(area[m & seen].sum()) / total, 2) if total else None
    return out

