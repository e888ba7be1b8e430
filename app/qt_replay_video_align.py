"""A telemetry log with the camera video another ground station recorded beside it: opening
the two (in the open task), offering a video found beside a log, and the "Align video"
control with which the reviewer corrects the video's time live.

The control says how the video was placed in time (the file's creation time, the time in its
name, its modification time) because that decides how much to trust it: a QGC file name is
in the station's local time, an MP4's creation time has whole seconds only.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

BUTTON_MIN_PX = 40  # gloves
STEP_S = 0.1
MAX_OFFSET_S = 86_400.0  # a day: a file name in local time can be hours off


def open_for_replay(path: Path, video: Path | None, task):
    """(session, offers): the record or log at `path`, with `video` replayed as its camera when
    given; for a bare .tlog without one, the videos beside it that overlap its span
    (app.replay_external_video.beside_videos) to offer. Runs in a task (reads files)."""
    from .replay_external_video import ExternalVideo, beside_videos
    from .replay_session import ReplaySession

    session = ReplaySession.open(path, progress=task.report, cancel=task.cancelled)
    if video is not None:
        task.report(0.99, f"indexing {Path(video).name}…")
        return session.with_video(ExternalVideo.open(video)), []
    if session.is_record or session.telemetry is None:
        return session, []
    return session, beside_videos(path, session.t_start_s, session.t_end_s)


def index_video(path: Path):
    """An app.replay_external_video.ExternalVideo (runs in a task: it reads the file)."""
    from .replay_external_video import ExternalVideo

    return ExternalVideo.open(path)


def no_video_text(video, t_s: float) -> str:
    """What the video panel says at t_s when the log's video does not cover it."""
    start, end = video.t0_utc_s - t_s, video.t0_utc_s + video.duration_s - t_s
    return (f"no video at this time: {video.path.name} starts in {start:.1f} s" if start > 0 else
            f"no video at this time: {video.path.name} ended {-end:.1f} s ago")


def _utc(t_s: float) -> str:
    return dt.datetime.fromtimestamp(t_s, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-4] + " UTC"


def offer_box(parent: QWidget, offer, accept) -> QMessageBox:
    """A window-modal question: replay the log with the video `offer` (path, start_utc_s,
    start_source) found beside it? `accept()` is called on Yes."""
    path, start, source = offer
    how = "its creation time" if source == "metadata" else "the time in its name"
    box = QMessageBox(QMessageBox.Question, "Video beside the log",
                      f"{path.name} was recorded during this telemetry log (it starts {_utc(start)}, by {how}).\n"
                      "Replay the log with this video?", QMessageBox.Yes | QMessageBox.No, parent)
    box.setInformativeText("You can correct its alignment afterwards with \"Align video\".")
    box.setWindowModality(Qt.WindowModal)
    box.button(QMessageBox.Yes).clicked.connect(lambda _checked=False: accept())
    box.show()
    return box


class QtVideoAlign(QWidget):
    """offset_changed(seconds): the reviewer moved the video in time (+ = later)."""

    offset_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._video = None
        self.setObjectName("replay_video_align")
        self.title = QLabel("Align video")
        self.offset = QDoubleSpinBox()
        self.offset.setRange(-MAX_OFFSET_S, MAX_OFFSET_S)
        self.offset.setDecimals(2)
        self.offset.setSingleStep(STEP_S)
        self.offset.setSuffix(" s")
        self.offset.setKeyboardTracking(False)  # typing "-1.5" is one change, not four
        self.offset.setToolTip("Added to every frame's time: + shows the video later against the telemetry")
        self.earlier = QPushButton(f"−{STEP_S:g} s")
        self.later = QPushButton(f"+{STEP_S:g} s")
        self.source = QLabel("")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        for w in (self.title, self.offset, self.earlier, self.later):
            lay.addWidget(w)
        lay.addWidget(self.source, 1)
        for w in (self.offset, self.earlier, self.later):
            w.setMinimumHeight(BUTTON_MIN_PX)
        self.earlier.clicked.connect(lambda: self.offset.setValue(self.offset.value() - STEP_S))
        self.later.clicked.connect(lambda: self.offset.setValue(self.offset.value() + STEP_S))
        self.offset.valueChanged.connect(self._changed)

    def set_video(self, video) -> None:
        """The ExternalVideo replayed (its offset shown, no offset_changed for it)."""
        self._video = video
        self.offset.blockSignals(True)
        self.offset.setValue(video.offset_s)
        self.offset.blockSignals(False)
        self._describe()

    def _changed(self, value: float) -> None:
        value = round(value, 2)
        self.offset_changed.emit(value)
        self._describe(value)

    def _describe(self, offset_s: float | None = None) -> None:
        v = self._video
        if v is None:
            self.source.setText("")
            return
        offset_s = v.offset_s if offset_s is None else offset_s
        self.source.setText(f"{v.path.name}: first frame {_utc(v.start_utc_s + offset_s)}, placed by "
                            f"{v.start_text}" + (f", corrected {offset_s:+.2f} s" if offset_s else ""))
