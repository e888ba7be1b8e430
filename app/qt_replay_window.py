"""The replay-and-review window: a mission record (or a bare telemetry log from any ground
station) on one timeline. Video with the telemetry overlay and the recorded boxes, sonar,
instruments, the 3D hull with the vehicle's trail, track, depth, modes, events and the
findings to review all show the replay clock's time.

Threads: the session is opened, the hull rebuilt and findings read in tasks; a
ReplayWorker decodes the newest requested frame and ping. The GUI thread only reads the
clock (a 30 ms timer), looks up the telemetry state (a bisect) and paints.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton, QSplitter, QStackedWidget, QWidget

from .qt_replay_events import QtEventList, rows_of
from .qt_replay_hull import ReplayHull
from .qt_replay_layout import arrange, default_sizes, layout_for
from .qt_replay_plots import QtDepthProfile, QtModeStrip, QtTrackPlot
from .qt_replay_review import QtReplayReview
from .qt_replay_timeline import QtTimeline
from .qt_replay_video_align import QtVideoAlign, index_video, no_video_text, offer_box, open_for_replay
from .qt_tasks import run_task

TICK_MS = 30
TELEMETRY_STEP_S = 0.1


class QtReplayWindow(QMainWindow):
    """opened(session) once a record or log is loaded; open_failed(message) when it is not."""

    opened = Signal(object)
    open_failed = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None, *, key=None) -> None:
        super().__init__(parent)
        from .qt_hull_view import QtHullView
        from .qt_instruments import QtInstruments
        from .qt_sonar import QtSonarView
        from .qt_video import QtVideoView

        self.setWindowTitle("HullWatch replay")
        self.setObjectName("HullWatchReplayWindow")
        self.session = self.clock = self.worker = self.shown = None
        self._open_task = None
        self._shown_t: float | None = None
        self.error_box = self.offer_box = self._video_task = None
        self.video = QtVideoView(stale_after_s=float("inf"))  # a paused replay is not a stalled stream
        self.video.set_no_signal("open a record or a telemetry log (File menu of the main window)")
        self.center = QStackedWidget()  # the video, or for a log without video the track and depth
        self.center.addWidget(self.video)
        self.plots_page = QSplitter(Qt.Horizontal)
        self.center.addWidget(self.plots_page)
        self.setCentralWidget(self.center)
        self.sonar = QtSonarView()
        for w in (self.sonar.range_box, self.sonar.gain_slider):
            w.setEnabled(False)  # the recorded pings are what they are
        self.instruments = QtInstruments()
        self.hull_view = QtHullView()
        self.hull_view.legend.hide()  # the replayed hull is not coloured by coverage
        self.hull = ReplayHull(self.hull_view, self)
        self.hull.message.connect(self.say)
        self.review = QtReplayReview(settings, current_frame=self.current_frame, current_ping=self.current_ping,
                                     key=key)
        self.track = QtTrackPlot()
        self.depth = QtDepthProfile()
        self.modes = QtModeStrip()
        self.events = QtEventList()
        self.timeline = QtTimeline(self)
        self.align = QtVideoAlign()  # a log's video recorded apart: the reviewer corrects its time
        self.align.offset_changed.connect(self.align_video)
        arrange(self)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_open)
        self.message = QLabel("")
        for w in (self.progress, self.cancel_button):
            self.statusBar().addPermanentWidget(w)
            w.hide()
        self.statusBar().addWidget(self.message, 1)
        self._connect()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def _connect(self) -> None:
        t = self.timeline
        t.seek_requested.connect(self.seek)
        t.play_pause_requested.connect(self.toggle_play)
        t.step_requested.connect(self.step)
        t.speed_requested.connect(self.set_speed)
        t.reverse_requested.connect(self.set_reverse)
        t.mark_requested.connect(self.jump_to_mark)
        for w in (self.depth, self.modes, self.events, self.review):
            w.seek_requested.connect(self.seek)
        self.review.message.connect(self.say)

    # -- opening -----------------------------------------------------------------------------
    def open_path(self, path, video=None) -> None:
        """Open a record folder or a .tlog in a task (progress and Cancel in the status bar);
        `video`: a camera file recorded beside the .tlog, replayed with it."""
        old, self._open_task = self._open_task, None
        if old is not None:  # superseded: its outcome no longer matters
            old.finished.disconnect(self._loaded)
            old.failed.disconnect(self._open_failed)
            old.cancel()
        self.say(f"opening {path}…")
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._open_task = task = run_task(f"open {Path(path).name}", open_for_replay, Path(path),
                                          None if video is None else Path(video), report_progress=True,
                                          parent=self, on_done=self._loaded, on_error=self._open_failed)
        task.progress.connect(lambda f, text: (self.progress.setValue(int(100 * f)), self.say(text)))

    def cancel_open(self) -> None:
        if self._open_task is not None:
            self._open_task.cancel()

    def _opened_done(self) -> None:
        self._open_task = None
        self.progress.hide()
        self.cancel_button.hide()

    def _open_failed(self, message: str) -> None:
        cancelled = self._open_task is not None and self._open_task.cancelled.is_set()
        self._opened_done()
        self.say(message)
        if cancelled:
            return
        self.error_box = QMessageBox(QMessageBox.Warning, "Cannot open for replay", message, QMessageBox.Ok, self)
        self.error_box.setInformativeText("Choose a HullWatch mission record folder or a MAVLink telemetry log (.tlog).")
        self.error_box.setWindowModality(Qt.WindowModal)
        self.error_box.show()
        self.open_failed.emit(message)

    def _loaded(self, result) -> None:
        session, offers = result
        self._opened(session)
        if offers:  # a video beside the log, recorded during it: the reviewer decides
            self.offer_box = offer_box(self, offers[0], lambda p=offers[0][0]: self.open_video(p))

    def open_video(self, path) -> None:
        """Index a video file in a task, then replay it with the open telemetry log."""
        s = self.session
        self.say(f"indexing {Path(path).name}…")
        self._video_task = run_task(f"open {Path(path).name}", index_video, Path(path), parent=self,
                                    on_done=lambda v: self.session is s and self._opened(s.with_video(v)),
                                    on_error=self._open_failed)

    def align_video(self, offset_s: float) -> None:
        """The reviewer's correction of the video's time (seconds, + = later), shown at once."""
        v = self.session.external_video if self.session is not None else None
        if v is not None:
            v.set_offset_s(offset_s)
            self._shown_t = None
            self.show_time(self.clock.t_s)

    def _opened(self, session) -> None:
        from .replay_clock import ReplayClock

        self._opened_done()
        self._stop_worker()
        self.session = s = session
        self.clock = ReplayClock(s.t_start_s, s.t_end_s)
        self.setWindowTitle(f"HullWatch replay — {s.title}")
        tel = s.telemetry
        self.timeline.set_span(s.t_start_s, s.t_end_s)
        self.timeline.set_marks(s.marks)
        self.timeline.set_modes(tel.modes if tel else [])
        self.timeline.set_step_text("one frame" if s.has_video else f"{TELEMETRY_STEP_S:g} s")
        self.track.set_track(tel.track if tel else [], tel.track_source if tel else "")
        self.depth.set_depth(tel.depth if tel else [], s.t_start_s, s.t_end_s)
        self.modes.set_modes(tel.modes if tel else [], s.t_start_s, s.t_end_s)
        self.events.set_events(rows_of(tel.events if tel else (), s.marks if s.is_record else ()))
        layout_for(self, s)
        if s.has_video or s.has_sonar:
            from .qt_replay_worker import ReplayWorker

            self.worker = ReplayWorker(s, self)
            self.worker.decoded.connect(self._decoded)
            self.worker.failed.connect(self.say)
            self.worker.start()
        self.review.set_session(s)
        if s.is_record:
            self.hull.load(s)
        self._shown_t = None
        self.show_time(s.t_start_s)
        self._timer.start()
        self.say(f"{s.title}: {tel.summary_text if tel else 'no telemetry'}")
        self.opened.emit(s)

    # -- the clock ------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.clock is None:
            return
        t = self.clock.t_s
        self.timeline.set_playing(self.clock.playing)
        self.show_time(t)

    def show_time(self, t_s: float) -> None:
        if t_s == self._shown_t or self.session is None:
            return
        self._shown_t = t_s
        for w in (self.timeline, self.track, self.depth, self.modes, self.events):
            w.set_time(t_s)
        tel = self.session.telemetry
        state = tel.state_at(t_s) if tel is not None else None
        if state is not None:
            self.instruments.update_state(state, t_s, 0.0)
        if self.worker is not None:
            self.worker.request(t_s)
        self.hull.show(t_s, state, self.clock.playing)

    def default_sizes(self) -> None:
        default_sizes(self)

    def _decoded(self, frame) -> None:
        self.shown = frame
        if frame.video is not None:
            self.video.show_frame(frame.video)
            self.video.show_result(frame.video_result)
            self.video.set_overlay(frame.overlay)
        elif self.session.external_video is not None:
            self.video.set_no_signal(no_video_text(self.session.external_video, frame.t_s))
        if frame.sonar_result is not None:
            self.sonar.show_result(frame.sonar_result)
        elif frame.fan is not None:
            self.sonar.show_fan(frame.fan)

    def current_frame(self):
        """(frame index, "camera") of the picture on screen, or None."""
        v = self.shown.video if self.shown is not None else None
        return None if v is None else (v.index, "camera")

    def current_ping(self):
        """(ping index, "sonar") of the fan on screen, or None."""
        return (self.shown.ping, "sonar") if self.shown is not None and self.shown.ping >= 0 else None

    # -- intent from the timeline ------------------------------------------------------------------
    def seek(self, t_s: float) -> None:
        if self.clock is not None:
            self.clock.seek(t_s)
            self.show_time(self.clock.t_s)

    def toggle_play(self) -> None:
        if self.clock is not None:
            self.clock.toggle()
            self.timeline.set_playing(self.clock.playing)

    def set_speed(self, speed: float) -> None:
        if self.clock is not None:
            self.clock.set_speed(speed)
        self.timeline.set_speed(speed)

    def set_reverse(self, reverse: bool) -> None:
        if self.clock is not None:
            self.clock.set_reverse(reverse)
        self.timeline.set_reverse(reverse)

    def step(self, direction: int) -> None:
        if self.clock is None:
            return
        s, t = self.session, self.clock.t_s
        delta = TELEMETRY_STEP_S * direction
        shown = s.video_frame_at(t) if s.has_video else -1
        if s.has_video and (shown >= 0 or t < s.frame_t_s(0)):  # not after a log's video has ended
            i = shown + direction
            if i >= 0:
                try:
                    delta = s.frame_t_s(i) - t
                except (IndexError, ValueError):
                    delta = 0.0
        self.clock.step(delta)
        self.timeline.set_playing(False)
        self.show_time(self.clock.t_s)

    def jump_to_mark(self, direction: int) -> None:
        if self.clock is None:
            return
        mark = self.session.next_mark(self.clock.t_s, direction)
        if mark is None:
            self.say("no further alarm or finding " + ("after" if direction > 0 else "before") + " this time")
            return
        self.seek(mark.t_utc_s)
        self.say(f"{mark.kind}: {mark.label}")

    # -- housekeeping ----------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.message.setText(str(text))

    def _stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.decoded.disconnect(self._decoded)
            self.worker.stop()
            self.worker = None

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._timer.stop()
        self.cancel_open()
        self._stop_worker()
        self.hull.close()
        self.video.close()
        self.hull_view.close()
        super().closeEvent(event)
