"""The mission record as the main window drives it: start and stop (disk I/O, so tasks),
a once-a-second status line, the closing summary, and the operator's actions written
into the record as they happen (a police dive team's record must show who decided what,
and when).

The station (app.station.Station) does the recording; this controller only asks it,
reads the recorder's cheap status() on the GUI thread and queues the operator's actions
(StationRecording.action only queues). The station is reached through a getter, so a
window that switches vehicles (a new Station) keeps one controller.
"""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from .qt_tasks import run_task

STATUS_PERIOD_MS = 1000
SHA_SHOWN = 16  # hex digits of the manifest hash in the summary (enough to read out on a phone)
REVIEW_KINDS = ("confirmed", "dismissed", "note", "acknowledged")


def clock(t_s: float) -> str:
    t = max(0, int(t_s))
    h, m, s = t // 3600, t // 60 % 60, t % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def status_line(status) -> str:
    """REC 12:34 · 7,450 frames · 1,220 pings · 3 files · 2.1 GB free (a RecorderStatus)."""
    parts = [f"REC {clock(status.t_elapsed_s)}", f"{status.video_frames:,} frames",
             f"{status.sonar_pings:,} pings", f"{status.files:,} files"]
    if status.disk_free_bytes is not None:
        parts.append(f"{status.disk_free_bytes / 1e9:.1f} GB free")
    if status.dropped:
        parts.append(f"{status.dropped:,} dropped")
    return " · ".join(parts)


def summary_text(summary: dict) -> str:
    lines = [f"Folder: {summary.get('folder')}",
             f"Size: {summary.get('bytes', 0) / 1e6:,.1f} MB in {summary.get('files', 0)} files",
             f"Duration: {clock(summary.get('duration_s') or 0.0)}",
             f"Video frames: {summary.get('video_frames', 0):,} · sonar pings: {summary.get('sonar_pings', 0):,} · "
             f"events: {summary.get('events', 0):,}",
             f"Manifest SHA-256: {str(summary.get('manifest_sha256') or '?')[:SHA_SHOWN]}…",
             f"Signed with key {summary.get('key_id') or '?'}"]
    if summary.get("dropped"):
        lines.append(f"{summary['dropped']:,} items were dropped (the disk was too slow)")
    if summary.get("warning"):
        lines.append(f"Warning: {summary['warning']}")
    return "\n".join(lines)


def command_action(name: str) -> tuple[str, dict]:
    """A vehicle command's name (the panel's "mode ALT_HOLD", the gamepad's "mode_alt_hold")
    as the record's action and details."""
    if name in ("arm", "disarm"):
        return name, {}
    if name.startswith("mode ") or name.startswith("mode_"):
        return "mode", {"mode": name[5:].upper()}
    return "vehicle_command", {"command": name}


def recovered_message(lines, parent: QWidget | None = None) -> QMessageBox:
    """The non-modal box that tells the team which interrupted records the start closed."""
    what = "an interrupted record" if len(lines) == 1 else f"{len(lines)} interrupted records"
    box = QMessageBox(QMessageBox.Information, "Interrupted mission record", f"Recovered {what}:", QMessageBox.Ok,
                      parent)
    box.setInformativeText("\n\n".join(lines))
    box.setWindowModality(Qt.NonModal)
    return box


class QtRecording(QObject):
    recording_changed = Signal(bool)
    status_text = Signal(str)  # once a second while recording; the sticky warning included
    warning_changed = Signal(str)  # the recorder's warning ("" once a new record starts)
    failed = Signal(str)  # start or stop failed: what went wrong, what to do
    closed = Signal(dict)  # the closed record's summary
    settled = Signal()  # a start or stop finished (either way)

    def __init__(self, station: Callable[[], object], parent: QWidget | None = None, *, log=None):
        super().__init__(parent)
        self._station = station
        self._log = log or (lambda text: None)
        self._recording = False
        self._start_task = self._stop_task = None
        self._snapshot_tasks: list = []
        self._warning = ""
        self._media_stopped = False
        self._snapshots = 0
        self.summary_box: QMessageBox | None = None
        self.warning_box: QMessageBox | None = None
        self._unwatch: list = []
        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_PERIOD_MS)
        self._timer.timeout.connect(self._tick)

    # ---- state ------------------------------------------------------------------------
    def is_recording(self) -> bool:
        return self._recording

    def busy(self) -> bool:
        return self._start_task is not None or self._stop_task is not None

    @property
    def warning(self) -> str:
        return self._warning

    @staticmethod
    def _drop(task) -> None:
        if task is not None:
            task.deleteLater()

    def _live(self):
        """The station's open StationRecording, or None."""
        station = self._station()
        return None if station is None else station.recording

    # ---- start and stop ---------------------------------------------------------------
    def start(self, info) -> None:
        """Open a record for `info` (recording.mission_record.MissionInfo) in a task."""
        if self.busy() or self._recording:
            self.failed.emit("a record is already open (or opening): stop it first")
            return
        station = self._station()
        self.status_text.emit("opening the record…")
        self._start_task = run_task("start recording", station.start_recording, info, parent=self,
                                    on_done=self._started, on_error=self._start_failed)

    def _started(self, rec) -> None:
        self._start_task = self._drop(self._start_task)
        self._recording, self._warning, self._media_stopped, self._snapshots = True, "", False, 0
        self.warning_changed.emit("")
        self._log(f"recording the mission to {rec.folder}")
        self._timer.start()
        self.recording_changed.emit(True)
        self._tick()
        self.settled.emit()

    def _start_failed(self, message: str) -> None:
        self._start_task = self._drop(self._start_task)
        self.status_text.emit("not recording")
        self.failed.emit(message)
        self.settled.emit()

    def stop(self) -> None:
        """Close and sign the record in a task; the summary follows."""
        if self.busy() or not self._recording:
            return
        station = self._station()
        self._timer.stop()
        self.status_text.emit("closing the record…")
        self._stop_task = run_task("close the record", station.stop_recording, parent=self,
                                   on_done=self._stopped, on_error=self._stop_failed)

    def _stopped(self, summary) -> None:
        self._stop_task = self._drop(self._stop_task)
        self._ended("record closed")
        if summary:
            self._log("record closed: " + summary_text(summary).replace("\n", "; "))
            self.closed.emit(summary)
            self._show_summary(summary)
        self.settled.emit()

    def _stop_failed(self, message: str) -> None:
        self._stop_task = self._drop(self._stop_task)
        self._ended("the record could not be closed")
        self.failed.emit(message)
        self.settled.emit()

    def _ended(self, text: str) -> None:
        self._timer.stop()
        self._recording = False
        if self._warning:  # shown in the summary from now on; the status line goes back to plain
            self._warning = ""
            self.warning_changed.emit("")
        self.recording_changed.emit(False)
        self.status_text.emit(f"not recording ({text})")

    def closing(self) -> None:
        """The window is shutting down: the station closes the record; say so."""
        self._timer.stop()
        if self._recording:
            self.status_text.emit("closing the record…")

    def close(self) -> None:
        self._timer.stop()
        for unwatch in self._unwatch:
            unwatch()
        self._unwatch.clear()
        for box in (self.summary_box, self.warning_box):
            if box is not None:
                box.close()

    # ---- status -----------------------------------------------------------------------
    def _tick(self) -> None:
        rec = self._live()
        if rec is None:
            if self._recording and not self.busy():  # closed behind our back (the station was switched)
                self._ended("the station closed the record")
            return
        status = rec.recorder.status()
        if status.warning and status.warning != self._warning:
            self._warning = status.warning
            self._log(f"recording: {status.warning}")
            self.warning_changed.emit(status.warning)
        if status.media_stopped and not self._media_stopped:
            self._media_stopped = True
            self._warn_box(status.warning)
        text = status_line(status)
        if self._warning:  # sticky: stays until the record closes, even if the recorder moved on
            text += f" · WARNING: {self._warning}"
        self.status_text.emit(text)

    # ---- what the operator did --------------------------------------------------------
    def action(self, what: str, **details) -> bool:
        """Record an operator action in the open record (queued, no I/O); False when none is open."""
        rec = self._live()
        if rec is None:
            return False
        rec.action(what, **details)
        return True

    def vehicle_command(self, name: str, ok: bool, message: str = "", via: str = "vehicle panel") -> None:
        what, details = command_action(name)
        self.action(what, ok=bool(ok), message=message, via=via, **details)

    def snapshot(self, image, **details) -> None:
        """The operator's snapshot (BGR image) into the record: PNG-encoded in a task, then
        queued with its event."""
        rec = self._live()
        if rec is None or image is None:
            return
        self._snapshots += 1
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
        relpath = f"snapshots/operator_{self._snapshots:04d}_{stamp}.png"
        payload = {"width": int(image.shape[1]), "height": int(image.shape[0]), **details}

        def encode() -> bytes:
            import cv2

            ok, png = cv2.imencode(".png", image)
            if not ok:
                raise RuntimeError("the snapshot could not be encoded as PNG")
            return png.tobytes()

        held: list = []  # the task, once run_task returned it (it may report before that)

        def settle() -> None:
            for task in held:
                if task in self._snapshot_tasks:
                    self._snapshot_tasks.remove(task)
                task.deleteLater()
            held.clear()

        def encoded(data: bytes) -> None:
            rec.recorder.add_file(relpath, data, "operator_snapshot", payload)
            settle()

        def not_encoded(message: str) -> None:
            self._log(f"snapshot not recorded: {message}")
            settle()

        task = run_task("record the snapshot", encode, parent=self, on_done=encoded, on_error=not_encoded)
        held.append(task)
        self._snapshot_tasks.append(task)

    def watch_vehicle_panel(self, panel) -> None:
        """Record the commands the operator gives in the Vehicle panel (arm, disarm, modes,
        lights, tilt, dive...), each with its outcome."""
        panel.command_finished.connect(self.vehicle_command)
        self._unwatch.append(lambda: panel.command_finished.disconnect(self.vehicle_command))

    def watch_review(self, review) -> None:
        """Record every review entry (confirm, dismiss with its reason, note, acknowledge)."""
        self._unwatch.append(review.listeners(self._review_event))

    def _review_event(self, event) -> None:  # the caller's thread; action() only queues
        entry = event.entry
        if entry is None or entry.kind not in REVIEW_KINDS:
            return
        alarm = event.alarm
        self.action(f"alarm_{entry.kind}", alarm_id=entry.alarm_id, reviewer=entry.reviewer,
                    t_review_utc=entry.t_utc.isoformat(), text=entry.text,
                    class_name=getattr(alarm, "class_name", None), source=getattr(alarm, "source", None))

    # ---- messages ---------------------------------------------------------------------
    def _parent_widget(self) -> QWidget | None:
        parent = self.parent()
        return parent if isinstance(parent, QWidget) else None

    def _show_summary(self, summary: dict) -> None:
        if self.summary_box is not None:
            self.summary_box.close()
        box = QMessageBox(QMessageBox.Information, "Mission record closed",
                          "The mission record is closed and signed.", QMessageBox.Close, self._parent_widget())
        box.setInformativeText(summary_text(summary))
        box.setTextInteractionFlags(Qt.TextSelectableByMouse)
        box.setWindowModality(Qt.NonModal)
        folder = summary.get("folder")
        self.open_folder_button = box.addButton("Open folder", QMessageBox.ActionRole)
        self.open_folder_button.setMinimumHeight(40)
        self.open_folder_button.setEnabled(bool(folder))
        box.buttonClicked.connect(lambda b: b is self.open_folder_button and folder
                                  and QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(folder)))))
        self.summary_box = box
        box.show()

    def _warn_box(self, text: str) -> None:
        if self.warning_box is not None:
            self.warning_box.close()
        box = QMessageBox(QMessageBox.Warning, "Recording stopped writing video and sonar", text,
                          QMessageBox.Ok, self._parent_widget())
        box.setWindowModality(Qt.NonModal)  # the pilot keeps flying while it is up
        self.warning_box = box
        box.show()
