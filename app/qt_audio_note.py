"""The operator's spoken notes during a dive: one key press starts recording from the
default microphone, a second stops it (or the 120 s limit does), and the note goes into
the open mission record as notes/audio_NNNN.<ext> with an operator_audio_note event.

Qt Multimedia writes the note to a temporary file outside the record, on its own threads;
only once it is finished is the file handed to the record, in a task
(StationRecording.add_audio_note reads it, queues it to the recorder and waits until it is
written). Whatever goes wrong, the temporary file stays and the message names it: a note
is evidence and is never thrown away. The GUI thread only starts, stops and shows.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QStandardPaths, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtMultimedia import QAudioInput, QMediaCaptureSession, QMediaDevices, QMediaFormat, QMediaRecorder
from PySide6.QtWidgets import QLabel, QWidget

from .qt_tasks import run_task
from .qt_theme import colour

MAX_NOTE_S = 120.0
TICK_MS = 250
FINISH_TIMEOUT_MS = 10_000  # the encoder closes a 120 s note in well under a second
SHORTCUT = "Ctrl+Shift+N"
NO_MICROPHONE = "no microphone found"
NO_RECORD = "start a mission record first"
READY = f"Record a spoken note into the mission record ({SHORTCUT}; press again to stop; at most {MAX_NOTE_S:.0f} s)"

# Best first. WAV with PCM: lossless, no codec to license or install, plays on any court
# laptop or phone as it is, and Python's stdlib can check it; 120 s of mono speech is only
# ~11 MB. FLAC is lossless too but fewer stock players open it; AAC in .m4a plays everywhere
# but is lossy, so it is the last resort for a backend without PCM.
PREFERRED = ((QMediaFormat.FileFormat.Wave, QMediaFormat.AudioCodec.Wave, ".wav"),
             (QMediaFormat.FileFormat.FLAC, QMediaFormat.AudioCodec.FLAC, ".flac"),
             (QMediaFormat.FileFormat.Mpeg4Audio, QMediaFormat.AudioCodec.AAC, ".m4a"))


def offered_formats() -> dict:
    """What this Qt Multimedia backend can encode: file format -> audio codecs."""
    return {f: list(QMediaFormat(f).supportedAudioCodecs(QMediaFormat.Encode))
            for f in QMediaFormat().supportedFileFormats(QMediaFormat.Encode)}


def pick_format(offered: dict):
    """(file format, audio codec, suffix) from PREFERRED that the backend offers, or None."""
    for file_format, codec, suffix in PREFERRED:
        if codec in offered.get(file_format, ()):
            return file_format, codec, suffix
    return None


def availability(has_microphone: bool, record_open: bool, state: str) -> tuple[bool, str]:
    """Whether the action can be used, and its tooltip (the reason when it cannot)."""
    if state == "recording":
        return True, f"Stop the audio note and save it in the record ({SHORTCUT})"
    if state == "finishing":
        return False, "saving the last audio note…"
    if not has_microphone:
        return False, NO_MICROPHONE
    if not record_open:
        return False, NO_RECORD
    return True, READY


def indicator_text(elapsed_s: float) -> str:
    t = max(0, int(elapsed_s))
    return f"● NOTE {t // 60}:{t % 60:02d}"


class QtAudioNote(QObject):
    """`action` (Mission menu) toggles a note; `indicator` shows it running. `record()` gives
    the station's open StationRecording or None, `operator()` who speaks."""

    recording_changed = Signal(bool)
    message = Signal(str)  # what happened, for the status bar and the log
    note_saved = Signal(dict)  # {number, file, duration_s, folder}

    def __init__(self, record: Callable[[], object], operator: Callable[[], str] = lambda: "",
                 parent: QWidget | None = None, *, spool_dir: str | Path | None = None):
        super().__init__(parent)
        self._record, self._operator = record, operator
        self._spool = Path(spool_dir or QStandardPaths.writableLocation(QStandardPaths.TempLocation))
        self._state = "idle"  # recording -> finishing -> idle
        self._keep_only = ""  # why a stopping note is kept aside instead of handed to the record
        self._session = self._input = self._recorder = None
        self._path: Path | None = None
        self._started_utc = self._ended_utc = self._t0 = 0.0
        self._device_id = b""
        self._tasks: list = []
        self.action = QAction("Record audio note", self)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.triggered.connect(self.toggle)
        self.indicator = QLabel("")
        self.indicator.setStyleSheet(f"color: {colour('alarm').name()}; font-weight: bold;")
        self.indicator.hide()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._finish_timer = QTimer(self)
        self._finish_timer.setSingleShot(True)
        self._finish_timer.setInterval(FINISH_TIMEOUT_MS)
        self._finish_timer.timeout.connect(self._finish_timed_out)
        self._devices = QMediaDevices(self)
        self._devices.audioInputsChanged.connect(self._inputs_changed)
        self.refresh()

    # ---- state ------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @staticmethod
    def has_microphone() -> bool:
        return bool(QMediaDevices.audioInputs())

    def refresh(self) -> None:
        """Enable the action or say why not; call when a record opens or closes."""
        if self._state == "recording" and self._record() is None:
            self._keep_only = "the mission record closed while the note was recorded"
            self.stop()
        enabled, tip = availability(self.has_microphone(), self._record() is not None, self._state)
        self.action.setEnabled(enabled)
        self.action.setToolTip(tip)
        self.action.setStatusTip(tip)
        self.action.setText("Stop audio note" if self._state == "recording" else "Record audio note")

    def toggle(self) -> None:
        if self._state == "recording":
            self.stop()
        elif self._state == "idle":
            self.start()

    # ---- start and stop ---------------------------------------------------------------
    def start(self) -> None:
        if self._state != "idle":
            return
        if not self.has_microphone():
            self._tell(f"audio note: {NO_MICROPHONE}; connect a microphone and try again")
            return
        if self._record() is None:
            self._tell(f"audio note: {NO_RECORD} (Mission > Start recording…)")
            return
        chosen = pick_format(offered_formats())
        if chosen is None:
            self._tell("audio note: this system's Qt Multimedia cannot encode WAV, FLAC or AAC audio")
            return
        file_format, codec, suffix = chosen
        fmt = QMediaFormat(file_format)
        fmt.setAudioCodec(codec)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self._path = self._spool / f"hullwatch_note_{stamp}_{os.getpid()}{suffix}"
        device = QMediaDevices.defaultAudioInput()
        self._device_id = bytes(device.id())
        self._session = QMediaCaptureSession(self)
        self._input = QAudioInput(device, self)
        self._recorder = QMediaRecorder(self)
        self._session.setAudioInput(self._input)
        self._session.setRecorder(self._recorder)
        self._recorder.setMediaFormat(fmt)
        self._recorder.setQuality(QMediaRecorder.HighQuality)
        self._recorder.setOutputLocation(QUrl.fromLocalFile(str(self._path)))
        self._recorder.recorderStateChanged.connect(self._recorder_state)
        self._recorder.errorOccurred.connect(self._recorder_error)
        self._keep_only = ""
        self._started_utc, self._t0 = time.time(), time.monotonic()
        self._state = "recording"
        self.indicator.setText(indicator_text(0))
        self.indicator.show()
        self._timer.start()
        self.recording_changed.emit(True)
        self._recorder.record()  # a refusal comes at once through errorOccurred, which tears down
        self.refresh()

    def stop(self) -> None:
        """Finish the note; once the file is closed it goes to the record."""
        if self._state != "recording":
            return
        self._ended_utc = time.time()
        self._state = "finishing"
        self._timer.stop()
        self.indicator.setText("● NOTE saving…")
        self._finish_timer.start()
        self._recorder.stop()  # StoppedState follows once the file is complete
        self.refresh()

    def close(self) -> None:
        """The window closes (the record with it): a running note is kept aside, named."""
        if self._state != "idle":
            self._keep_only = self._keep_only or "HullWatch closed while the note was recorded"
        self.stop()

    def _tick(self) -> None:
        elapsed_s = time.monotonic() - self._t0
        self.indicator.setText(indicator_text(elapsed_s))
        if elapsed_s >= MAX_NOTE_S:
            self._tell(f"audio note: stopped at the {MAX_NOTE_S:.0f} s limit")
            self.stop()

    def _recorder_state(self, state) -> None:
        if state != QMediaRecorder.StoppedState:
            return
        if self._state == "recording":  # the backend stopped by itself (device gone, disk)
            self._ended_utc = time.time()
            self._state = "finishing"
        if self._state == "finishing":
            self._finished()

    def _recorder_error(self, error, text: str) -> None:
        if self._state == "idle":
            return
        where = self._path
        self._teardown()
        self._tell(f"audio note failed: {text or error}. Anything recorded so far is kept at {where}")

    def _finish_timed_out(self) -> None:
        if self._state == "finishing":
            where = self._path
            self._teardown()
            self._tell(f"audio note: the recorder did not finish the file within {FINISH_TIMEOUT_MS // 1000} s; "
                       f"what was recorded is kept at {where}")

    def _inputs_changed(self) -> None:
        if self._state == "recording" and self._device_id not in {bytes(d.id()) for d in QMediaDevices.audioInputs()}:
            self._tell("audio note: the microphone was disconnected; the note so far is being saved")
            self.stop()
        self.refresh()

    def _finished(self) -> None:
        actual = self._recorder.actualLocation().toLocalFile() if self._recorder is not None else ""
        path = actual or str(self._path)
        started, ended, keep_only = self._started_utc, self._ended_utc, self._keep_only
        self._teardown()
        if keep_only:
            self._tell(f"audio note not put in the record ({keep_only}); it is kept at {path}")
        else:
            self.hand_over(path, started, ended)

    def _teardown(self) -> None:
        self._timer.stop()
        self._finish_timer.stop()
        if self._recorder is not None:
            self._recorder.recorderStateChanged.disconnect(self._recorder_state)
            self._recorder.errorOccurred.disconnect(self._recorder_error)
            if self._recorder.recorderState() != QMediaRecorder.StoppedState:
                self._recorder.stop()  # after an error: close what was written, so it stays playable
        for obj in (self._recorder, self._input, self._session):
            if obj is not None:
                obj.deleteLater()
        self._session = self._input = self._recorder = None
        was = self._state
        self._state = "idle"
        self.indicator.hide()
        if was != "idle":
            self.recording_changed.emit(False)
        self.refresh()

    # ---- into the record --------------------------------------------------------------
    def hand_over(self, path, started_utc: float, ended_utc: float):
        """Give a finished note file to the open record, in a task; the Task, or None."""
        rec = self._record()
        if rec is None:
            self._tell(f"audio note not recorded: no mission record is open; the note is kept at {path}")
            return None
        held: list = []  # the task, once run_task returned it (it may report before that)

        def settle() -> None:
            for task in held:
                if task in self._tasks:
                    self._tasks.remove(task)
                task.deleteLater()
            held.clear()

        def saved(result: dict) -> None:
            self._tell(f"audio note {result['number']} saved in the record ({result['duration_s']:.1f} s)")
            self.note_saved.emit(result)
            settle()

        def not_saved(text: str) -> None:
            self._tell(text)
            settle()

        task = run_task("record the audio note", rec.add_audio_note, str(path), started_utc, ended_utc,
                        operator=str(self._operator() or ""), parent=self, on_done=saved, on_error=not_saved)
        held.append(task)
        self._tasks.append(task)
        return task

    def _tell(self, text: str) -> None:
        self.message.emit(text)
