"""The ground station's main window: the camera in the middle, every other panel a dock
the crew arranges (saved and restored per user), day and dark themes, and an ordered
shutdown that never cuts a worker off mid-write.

The window only composes: each panel is a Qt<Thing> view fed by the StationBridge's
signals and reporting intent by its own signals; vehicle commands, exports and plans run
as tasks (app.qt_tasks). Nothing here blocks the GUI thread.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QPlainTextEdit,
                               QProgressBar, QScrollArea, QWidget)

from vehicle.events import LinkLost, LinkRestored

from .qt_theme import THEMES, apply_theme, colour
from .qt_tasks import run_task
from .telemetry_line import forward_standoff_m, overlay_line

SETTINGS_VERSION = 1  # bump when the dock layout changes incompatibly (old layouts are then ignored)
LOG_LINES_MAX = 2000
POSE_RENDER_HZ = 2.0  # the 3D view's re-render for the vehicle's pose (a whole-hull render each)
POSE_MOVE_M, POSE_TURN_DEG = 0.1, 2.0  # smaller moves are not worth a render
SIDE_COLUMN_PX = 400
PRIORITY_PERIOD_MS = 2000  # the instruments and vehicle controls stay readable beside the video


def _scrolled(widget: QWidget, min_width_px: int = 0) -> QScrollArea:
    area = QScrollArea()
    area.setMinimumWidth(min_width_px)
    area.setWidget(widget)
    area.setWidgetResizable(True)
    return area


class MainWindow(QMainWindow):
    log_line = Signal(str)  # from any thread
    shut_down = Signal()  # every worker stopped; the window is closing

    def __init__(self, station, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.station = station
        self.settings = settings or QSettings("HullWatch", "HullWatch")
        self.bridge = None
        self._start_task = self._stop_task = None
        self._tasks: list = []
        self._overlay: list[str] = []
        self._last_pose_drawn = None  # (monotonic s, position_h, heading_deg) last sent to the 3D view
        self._closing = self._closed_down = False
        self.replay_windows: list = []  # open QtReplayWindows (closed with this window)
        self.setWindowTitle("HullWatch")
        self.setObjectName("HullWatchMainWindow")
        self.setDockOptions(QMainWindow.AllowTabbedDocks | QMainWindow.AllowNestedDocks | QMainWindow.AnimatedDocks)
        self._build_panels()
        self._build_recording()
        self._build_status_bar()
        self._build_menus()
        self.log_line.connect(self._append_log)
        self._connect_panels()
        self._restore_settings()
        from .thread_priority import favour_gui_thread, prefer_gui_in_gil

        prefer_gui_in_gil()
        # workers started during the mission are lowered too (a /proc listing: well under 1 ms)
        self._priority_timer = QTimer(self)
        self._priority_timer.setInterval(PRIORITY_PERIOD_MS)
        self._priority_timer.timeout.connect(favour_gui_thread)
        self._priority_timer.start()

    def _connect_panels(self) -> None:
        """Panel to panel, once: these outlive any one station."""
        self.planner.plan_ready.connect(self.hull_view.set_plan)
        self.planner.hull_loaded.connect(self._hull_loaded)
        self.hull_view.fly_to_requested.connect(self._fly_to)
        self.expansion.fly_to_requested.connect(self._fly_to)
        self.expansion.layout_ready.connect(self.hull_view.actions.set_expansion_layout)
        # a fill-in plan for the gaps lands in the planner, which uploads and exports it
        self.hull_view.fill_in_plan_ready.connect(self._fill_in_ready)
        # niche areas: placed by a click on the 3D hull, drawn there once applied
        self.hull_view.hull_point_picked.connect(self._niche_picked)
        self.planner.niches.areas_changed.connect(self.hull_view.set_niche_areas)

    # ---- panels -----------------------------------------------------------------------
    def _build_panels(self) -> None:
        from .alarm_review import AlarmReview
        from .qt_alarms import QtAlarms
        from .qt_expansion_view import QtExpansionView
        from .qt_hull_view import QtHullView
        from .qt_instruments import QtInstruments
        from .qt_params import QtParamEditor
        from .qt_ping360 import QtPing360View
        from .qt_planner import QtPlanner
        from .qt_sonar import QtSonarView
        from .qt_vehicle import QtVehiclePanel
        from .qt_video import QtVideoView

        self.video = QtVideoView()
        self.setCentralWidget(self.video)
        self.review = AlarmReview()
        self.sonar = QtSonarView()
        self.ping360 = QtPing360View()
        self.instruments = QtInstruments()
        self.vehicle_panel = QtVehiclePanel()
        # the reviewer named on each decision: the mission's operator from the record dialog
        self.alarms = QtAlarms(self.review, lambda: self.settings.value("reviewer")
                               or self.settings.value("mission/operator") or "operator")
        self.hull_view = QtHullView()
        self.expansion = QtExpansionView()
        self.planner = QtPlanner()
        self.params = QtParamEditor()
        self.gamepad = None  # app.qt_gamepad.QtGamepadPanel, once there is a vehicle to fly
        self.pad_pilot = None
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES_MAX)
        self.docks: dict[str, QDockWidget] = {}
        # the side columns run the full height: instruments and vehicle on the left, sonar and
        # alarms on the right; the map, planner and log share the space under the video
        self.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
        right, bottom, left = Qt.RightDockWidgetArea, Qt.BottomDockWidgetArea, Qt.LeftDockWidgetArea
        for key, title, widget, area in (
                ("instruments", "Instruments", _scrolled(self.instruments, SIDE_COLUMN_PX), left),
                ("vehicle", "Vehicle", _scrolled(self.vehicle_panel, SIDE_COLUMN_PX), left),
                ("sonar", "Sonar", self.sonar, right),
                ("ping360", "Ping360 scan", self.ping360, right),
                ("alarms", "Alarms and findings", self.alarms, right),
                ("hull3d", "Hull map 3D", self.hull_view, bottom),
                ("expansion", "Hull expansion", self.expansion, bottom),
                ("planner", "Planner", _scrolled(self.planner), bottom),
                ("params", "Parameters", self.params, bottom),
                ("gamepad", "Gamepad", QLabel("the gamepad comes alive with the vehicle link"), left),
                ("log", "Log", self.log, bottom)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{key}")  # saveState needs stable names
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks[key] = dock
        self.tabifyDockWidget(self.docks["sonar"], self.docks["ping360"])
        self.docks["sonar"].raise_()
        self.tabifyDockWidget(self.docks["hull3d"], self.docks["expansion"])
        self.tabifyDockWidget(self.docks["expansion"], self.docks["planner"])
        self.tabifyDockWidget(self.docks["planner"], self.docks["params"])
        self.tabifyDockWidget(self.docks["params"], self.docks["log"])
        self.docks["hull3d"].raise_()
        self.tabifyDockWidget(self.docks["vehicle"], self.docks["gamepad"])
        self.docks["vehicle"].raise_()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.link_label = QLabel("no vehicle")
        self.rec_label = QLabel("not recording")
        self.alarm_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.progress.setRange(0, 100)
        self.progress.hide()
        for w in (self.link_label, self.alarm_label, self.audio_note.indicator, self.rec_label):
            bar.addPermanentWidget(w)
        self.recording.status_text.connect(self._recording_status)
        bar.addWidget(self.progress)
        self._flash = QTimer(self)
        self._flash.setInterval(500)
        self._flash.timeout.connect(self._flash_alarm)
        self._flash_on = False

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_record_action = QAction("Open record…", self)
        self.open_record_action.triggered.connect(lambda: self.open_replay(record=True))
        self.open_tlog_action = QAction("Open telemetry log…", self)
        self.open_tlog_action.triggered.connect(lambda: self.open_replay(record=False))
        file_menu.addAction(self.open_record_action)
        file_menu.addAction(self.open_tlog_action)
        self.open_tlog_video_action = QAction("Open telemetry log with video…", self)
        self.open_tlog_video_action.triggered.connect(lambda: self.open_replay(record=False, with_video=True))
        file_menu.addAction(self.open_tlog_video_action)
        view = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        themes = QActionGroup(self)
        self.theme_actions = {}
        for name in THEMES:
            act = QAction(f"{name.capitalize()} theme", self, checkable=True)
            act.triggered.connect(lambda checked, n=name: self.set_theme(n))
            themes.addAction(act)
            view.addAction(act)
            self.theme_actions[name] = act
        vehicle = self.menuBar().addMenu("V&ehicle")
        connect = QAction("Connect…", self)
        connect.triggered.connect(self.choose_connection)
        vehicle.addAction(connect)
        mission = self.menuBar().addMenu("&Mission")
        self.start_recording_action = QAction("Start recording…", self)
        self.start_recording_action.triggered.connect(self.open_record_dialog)
        self.stop_recording_action = QAction("Stop recording", self)
        self.stop_recording_action.triggered.connect(self.recording.stop)
        mission.addAction(self.start_recording_action)
        mission.addAction(self.stop_recording_action)
        mission.addAction(self.audio_note.action)
        mission.setToolTipsVisible(True)  # a disabled note action says why (no microphone, no record)
        mission.addSeparator()
        self.report_action = QAction("Inspection report…", self)
        self.report_action.triggered.connect(self.make_report)
        mission.addAction(self.report_action)
        self._update_recording_actions()
        alarms = self.menuBar().addMenu("&Alarms")
        ack = QAction("Acknowledge alarms", self)
        ack.setShortcut(QKeySequence(Qt.Key_F2))
        ack.triggered.connect(self.alarms.acknowledge)
        alarms.addAction(ack)

    # ---- start ------------------------------------------------------------------------
    def start_station(self) -> None:
        """Start the station's workers in a task; panels come alive when it is up."""
        self.station.set_log(self.log_line.emit)
        self.progress.show()
        self.statusBar().showMessage("starting the station…")

        station = self.station

        def start(task):
            task.report(0.0, "closing mission records an earlier station left open…")
            try:
                recovered = station.recover_interrupted()
            except Exception as exc:  # noqa: BLE001 - the mission must still start; the record waits
                recovered = [f"could not check for interrupted mission records: {exc}"]
            station.start(progress=task.report)
            return recovered

        self._start_task = run_task("start the station", start, report_progress=True, parent=self,
                                    on_done=self._attach, on_error=self._start_failed)
        self._start_task.progress.connect(self._show_progress)

    def _show_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(100 * fraction))
        self.statusBar().showMessage(text)

    def _start_failed(self, message: str) -> None:
        self.progress.hide()
        self.statusBar().showMessage(message)
        self.log_line.emit(message)
        if not self._closing:
            QMessageBox.critical(self, "HullWatch could not start", message)

    def _attach(self, recovered=()) -> None:
        from .qt_bridge import StationBridge

        self.progress.hide()
        self.statusBar().showMessage("station running", 5000)
        st = self.station
        self.bridge = b = StationBridge(st, self)
        b.frame_ready.connect(self.video.show_frame)
        b.detection_ready.connect(self.video.show_result)
        b.sonar_ready.connect(self.sonar.show_result)
        b.ping360_ready.connect(self.ping360.add_ping)
        b.state_changed.connect(self._state)
        b.map_changed.connect(self._map)
        b.alarm_raised.connect(self._alarm)
        b.alarm_updated.connect(self._alarm_improved)
        b.vehicle_event.connect(self._vehicle_event)
        b.stats_changed.connect(self._stats)
        self.vehicle_panel.set_vehicle(st.vehicle)
        self.params.set_vehicle(st.vehicle)
        self.planner.set_vehicle(st.vehicle)
        if st.station_map is not None:
            self.hull_view.set_station_map(st.station_map)
            self.expansion.set_station_map(st.station_map)
            self.hull_view.set_niche_areas(st.station_map.model.niche_areas)
        if st.monitor is not None and st.monitor.oculus is not None:
            self._sonar_unlink = self.sonar.apply_to(st.monitor.oculus)
        self._start_gamepad(st.vehicle)
        # the station holds neutral sticks when no pad is live, as QGC does with a joystick
        # enabled: ArduSub's pilot-input failsafe (FS_PILOT_INPUT) would otherwise disarm
        st.vehicle.manual.keep_alive(True)
        b.start()
        self._update_recording_actions()
        if recovered:
            self._tell_recovered(recovered)

    def _hull_loaded(self, model, placement) -> None:
        """A hull from the planner: on a real vehicle the map follows it (the embedded
        world's ship stays the one the simulated sensors see)."""
        if self.station.embedded or placement is None:
            return

        def remap():
            self.station.set_hull(model, placement)
            return self.station.station_map

        def mapped(station_map):
            self.hull_view.set_station_map(station_map)
            self.expansion.set_station_map(station_map)
            self.hull_view.set_niche_areas(self.planner.niches.areas())
            self.log_line.emit(f"hull map now on {model.name}")
        self._keep(run_task("map the new hull", remap, parent=self, on_done=mapped,
                                    on_error=self._command_failed))

    def _start_gamepad(self, vehicle) -> None:
        from .gamepad import PadPilot
        from .gamepad_sdl import PygameSource
        from .qt_gamepad import QtGamepadPanel

        self.pad_pilot = PadPilot(vehicle, PygameSource())
        self.gamepad = QtGamepadPanel(self.pad_pilot)
        self.docks["gamepad"].setWidget(_scrolled(self.gamepad))
        self.gamepad.action_triggered.connect(self.gamepad_action)
        self.gamepad.install_keyboard(self)
        self.pad_pilot.start()

    # ---- switching vehicles ------------------------------------------------------------
    def choose_connection(self) -> None:
        from .qt_connect_dialog import QtConnectDialog

        dialog = QtConnectDialog(self, self.station.config.connect_url)
        dialog.accepted.connect(lambda: self.reconnect(dialog.url()))
        dialog.open()

    def reconnect(self, url: str) -> None:
        """Stop this station (in order, in a task) and start one on `url` ("embedded" for
        the embedded world); the panels follow the new one."""
        import dataclasses

        from .station import Station

        if self._closing:
            return
        old = self.station
        self._detach()
        self.log_line.emit(f"switching to {url}: stopping the current station…")

        def started_again(_):
            self.station = Station(dataclasses.replace(old.config, connect_url=url))
            self.start_station()
        self._keep(run_task("stop the station", old.close, parent=self, on_done=started_again,
                                    on_error=lambda m: (self._command_failed(m), started_again(None))))

    def _detach(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge.deleteLater()
            self.bridge = None
        if self.pad_pilot is not None:
            self.pad_pilot.stop()
            self.pad_pilot = None
        if getattr(self, "_sonar_unlink", None) is not None:
            self._sonar_unlink()
            self._sonar_unlink = None
        for panel in (self.vehicle_panel, self.params, self.planner):
            panel.set_vehicle(None)
        self._set_link("no vehicle", "stale")

    # ---- live data --------------------------------------------------------------------
    def _state(self, state, now_s: float, loss_pct: float) -> None:
        standoff = forward_standoff_m(state)
        if standoff is None and self.station.station_map is not None:
            standoff = self.station.station_map.worker.latest.standoff_m  # to the hull model, from the pose
        self.instruments.update_state(state, now_s, loss_pct, standoff)
        self.vehicle_panel.update_state(state)
        age = state.heartbeat_age_s(now_s)
        if not state.discovered:
            self._set_link("waiting for the vehicle's heartbeat", "warning")
        elif state.link_ok:
            self._set_link(f"link ok, heartbeat {age:.1f} s, loss {loss_pct:.0f}%", "ok")
        lines = [overlay_line(state, standoff)]
        if lines != self._overlay:  # each new overlay repaints the video
            self._overlay = lines
            self.video.set_overlay(lines)
        if self.station.station_map is not None and state.discovered:
            self._vehicle_moved(state)

    def _vehicle_moved(self, state) -> None:
        """The 3D view re-renders the whole hull for a new pose: only for a visible move,
        and at most POSE_RENDER_HZ times a second."""
        import time

        from .station_map import vehicle_pose_of

        pose = vehicle_pose_of(state, self.station.station_map.placement)
        if pose is None:
            return
        now = time.monotonic()
        heading = state.heading_deg or 0.0
        last = self._last_pose_drawn
        if last is not None:
            moved = float(np.linalg.norm(np.asarray(pose.position_h) - last[1]))
            turned = abs((heading - last[2] + 180.0) % 360.0 - 180.0)
            if now - last[0] < 1.0 / POSE_RENDER_HZ or (moved < POSE_MOVE_M and turned < POSE_TURN_DEG):
                return
        self._last_pose_drawn = (now, np.asarray(pose.position_h, float), heading)
        self.hull_view.set_vehicle_pose(tuple(pose.position_h), heading)

    def _map(self, snapshot) -> None:
        import dataclasses

        self.hull_view.set_map(snapshot)
        self.expansion.set_map(snapshot)
        place = {}  # (source, track id) -> the finding's hull-surface address
        for f in snapshot.findings:
            for key in f.tracks:
                place[key] = f.address
        if not place:
            return
        self.video.set_addresses({tid: a.describe() for (src, tid), a in place.items() if src == "camera"})
        for alarm in self.review.alarms():
            address = next((place[(alarm.source, t)] for t in alarm.track_ids if (alarm.source, t) in place), None)
            if address is not None and address != alarm.address:
                self.review.update(dataclasses.replace(alarm, address=address))

    def _alarm(self, alarm) -> None:
        self.review.add(alarm)
        self.alarm_label.setText(f"ALARM {alarm.alarm_id}: {alarm.class_name}")
        self._flash.start()

    def _alarm_improved(self, alarm) -> None:
        import dataclasses

        try:
            known = self.review.alarm(alarm.alarm_id)
        except KeyError:
            return  # its raise has not reached the GUI yet; it will carry the better look
        self.review.update(dataclasses.replace(alarm, address=alarm.address or known.address))

    def _flash_alarm(self) -> None:
        if not self.review.unacknowledged():
            self._flash.stop()
            self.alarm_label.setStyleSheet("")
            return
        self._flash_on = not self._flash_on
        c = colour("alarm").name()
        self.alarm_label.setStyleSheet(f"background: {c}; color: white; font-weight: bold;" if self._flash_on
                                       else f"color: {c}; font-weight: bold;")

    def _vehicle_event(self, event) -> None:
        if isinstance(event, LinkLost):
            self._set_link(f"LINK LOST: {event.reason}", "alarm")
            self.log_line.emit(f"link lost: {event.reason}")
        elif isinstance(event, LinkRestored):
            self._set_link(f"link restored after {event.after_s:.1f} s", "ok")
            self.log_line.emit(f"link restored after {event.after_s:.1f} s")

    def _set_link(self, text: str, role: str) -> None:
        self.link_label.setText(text)
        self.link_label.setStyleSheet(f"color: {colour(role).name()}; font-weight: bold;")

    def _stats(self, stats: dict) -> None:
        self.video.set_stats(stats["video_fps"], stats["video_dropped"], stats["detect_fps"])

    def _append_log(self, text: str) -> None:
        self.log.appendPlainText(text)

    # ---- actions ----------------------------------------------------------------------
    def gamepad_action(self, name: str) -> None:
        """A gamepad (or keyboard) action: the UI's key actions and the vehicle's."""
        from .gamepad import VEHICLE_ACTIONS, run_vehicle_action

        if name == "acknowledge_alarm":
            self.alarms.acknowledge()
        elif name == "snapshot":
            self._snapshot()
        elif name == "mark_point":
            self._mark_point()
        elif name == "toggle_recording":
            if self.recording.is_recording():
                self.recording.stop()
            else:
                self.open_record_dialog()
        elif name in VEHICLE_ACTIONS and self.station.vehicle is not None:
            rec = self.recording

            def failed(message: str) -> None:
                rec.vehicle_command(name, False, message, via="gamepad")
                self._command_failed(message)
            self._keep(run_task(name, run_vehicle_action, self.station.vehicle, name,
                                        executor=self.station.vehicle, parent=self, on_error=failed,
                                        on_done=lambda _: rec.vehicle_command(name, True, via="gamepad")))

    def _keep(self, task) -> None:
        """Hold a running task until it reports (a long mission starts many)."""
        self._tasks.append(task)

        def drop(*_):
            if task in self._tasks:
                self._tasks.remove(task)
        task.finished.connect(drop)
        task.failed.connect(drop)

    def _command_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 10_000)
        self.log_line.emit(message)

    def _mark_point(self) -> None:
        st = self.station
        if st.vehicle is None or st.station_map is None:
            return
        from .station_map import vehicle_pose_of

        pose = vehicle_pose_of(st.vehicle.state, st.station_map.placement)
        if pose is None:
            self.log_line.emit("mark point: no position estimate yet")
            return
        x, y, z = (float(v) for v in pose.position_h)
        self.log_line.emit(f"marked point at x {x:.1f} m, y {y:.1f} m, z {z:.1f} m (hull frame)")
        self.recording.action("mark_point", x_m=round(x, 3), y_m=round(y, 3), z_m=round(z, 3), frame="hull",
                              depth_m=st.vehicle.state.depth_m, heading_deg=st.vehicle.state.heading_deg)

    def _snapshot(self) -> None:
        image = self.video.snapshot()
        if image is not None:
            self.log_line.emit(f"snapshot taken ({image.shape[1]}x{image.shape[0]})")
            state = self.station.vehicle.state if self.station.vehicle is not None else None
            self.recording.snapshot(image, depth_m=getattr(state, "depth_m", None),
                                    heading_deg=getattr(state, "heading_deg", None))

    def _niche_picked(self, position_h, normal_h) -> None:
        self.planner.niches.add_area_at(position_h, normal_h)
        self.docks["planner"].raise_()  # the new row is there, selected, waiting for Apply
        self.log_line.emit("new niche area in the planner: set its kind and size, then Apply")

    def _fill_in_ready(self, result) -> None:
        self.planner.set_plan_result(result)
        self.docks["planner"].raise_()
        self.log_line.emit("fill-in plan for the gaps is in the planner: upload or export it from there")

    def _fly_to(self, finding_id, position_h) -> None:
        """Back to a finding: a guided target 1.5 m off the hull, facing it."""
        from .fly_to import fly_to, target_for

        st = self.station
        if st.vehicle is None or st.station_map is None:
            return
        if not st.vehicle.state.has_position:
            self._command_failed("fly to finding: the vehicle has no position estimate; GUIDED needs one")
            return
        station_map, log = st.station_map, self.log_line.emit

        def go() -> float:  # the hull query (Open3D) and the flight run on the vehicle's worker
            target = target_for(station_map.model.queries, station_map.placement, position_h)
            log(f"flying to finding {finding_id}: {target.north_m:.1f} N, {target.east_m:.1f} E, "
                f"{target.down_m:.1f} m deep, heading {target.yaw_deg:.0f}")
            return fly_to(st.vehicle, target)

        self._keep(run_task(f"fly to finding {finding_id}", go, executor=st.vehicle, parent=self,
                                    on_error=self._command_failed,
                                    on_done=lambda left: log(f"at finding {finding_id} ({left:.1f} m from the target)")))

    # ---- mission record ---------------------------------------------------------------
    def _build_recording(self) -> None:
        from .qt_recording import QtRecording

        self.recording = QtRecording(lambda: self.station, self, log=self.log_line.emit)
        self.recording.recording_changed.connect(self.video.set_recording)
        self.recording.recording_changed.connect(lambda _on: self._update_recording_actions())
        self.recording.settled.connect(self._update_recording_actions)
        self.recording.failed.connect(self._recording_failed)
        self.recording.watch_vehicle_panel(self.vehicle_panel)
        self.recording.watch_review(self.review)
        self.record_dialog = None
        from .qt_audio_note import QtAudioNote

        # a spoken note into the open record (Mission menu, Ctrl+Shift+N); the speaker is the operator
        self.audio_note = QtAudioNote(lambda: self.station.recording,
                                      lambda: self.settings.value("mission/operator") or "", self)
        self.recording.recording_changed.connect(lambda _on: self.audio_note.refresh())
        self.audio_note.message.connect(self._command_failed)  # status bar for 10 s, and the log

    def open_record_dialog(self) -> None:
        """The mission's details, then the record opens (the plan last exported is named)."""
        from .qt_record_dialog import QtRecordDialog

        if self.record_dialog is not None:
            self.record_dialog.raise_()
            return
        if not self.start_recording_action.isEnabled():
            self._command_failed("recording can start once the station runs and no record is open")
            return
        exported = self.planner.last_export
        plan = next((p for p in exported if str(p).endswith(".hullplan.json")), exported[0] if exported else None)
        dialog = QtRecordDialog(self.settings, plan, self)
        dialog.accepted.connect(lambda: self.recording.start(dialog.info()))
        dialog.finished.connect(lambda _r: self._record_dialog_closed(dialog))
        self.record_dialog = dialog
        dialog.open()

    def _record_dialog_closed(self, dialog) -> None:
        if self.record_dialog is dialog:
            self.record_dialog = None
        dialog.deleteLater()

    def _update_recording_actions(self) -> None:
        idle = self.bridge is not None and not self._closing and not self.recording.busy()
        self.start_recording_action.setEnabled(idle and not self.recording.is_recording())
        self.stop_recording_action.setEnabled(idle and self.recording.is_recording())

    def _recording_status(self, text: str) -> None:
        self.rec_label.setText(text)
        if self.recording.warning:  # sticky until the record closes: the team must see it
            self.rec_label.setStyleSheet(f"color: {colour('alarm').name()}; font-weight: bold;")
        else:
            self.rec_label.setStyleSheet("font-weight: bold;" if self.recording.is_recording() else "")

    def _recording_failed(self, message: str) -> None:
        self._command_failed(message)
        if not self._closing:
            box = QMessageBox(QMessageBox.Warning, "Mission record", message, QMessageBox.Ok, self)
            box.setWindowModality(Qt.NonModal)
            box.setAttribute(Qt.WA_DeleteOnClose)
            box.show()

    def _tell_recovered(self, lines) -> None:
        """The station closed records an earlier one left open (its log said so as it went)."""
        from .qt_recording import recovered_message

        self.recovered_box = recovered_message(lines, self)
        self.recovered_box.show()

    def make_report(self) -> None:
        """A closed record's inspection report (PDF, HTML, JSON, CSV beside the record), in a task."""
        from PySide6.QtWidgets import QFileDialog

        from recording.report import write_report

        from .station import records_root

        folder = QFileDialog.getExistingDirectory(self, "Mission record to report on",
                                                  str(records_root(self.station.config)))
        if not folder:
            return
        self.statusBar().showMessage(f"writing the inspection report of {folder}…")
        self._keep(run_task("inspection report", write_report, folder, parent=self,
                            on_done=self._report_written, on_error=self._recording_failed))

    def open_replay(self, record: bool = True, path=None, *, video=None, with_video: bool = False):
        """A replay-and-review window on a record folder or a telemetry log (asked for when
        `path` is None), with_video: and the camera file another ground station recorded
        beside the log (`video`, asked for when None); it loads in its own task, so the live
        station runs on."""
        from PySide6.QtWidgets import QFileDialog

        from pathlib import Path

        from .qt_replay_window import QtReplayWindow
        from .replay_external_video import VIDEO_SUFFIXES
        from .station import records_root

        if path is None:
            start = str(records_root(self.station.config))
            path = (QFileDialog.getExistingDirectory(self, "Mission record to replay", start) if record else
                    QFileDialog.getOpenFileName(self, "Telemetry log to replay", start,
                                                "MAVLink telemetry logs (*.tlog);;All files (*)")[0])
            if not path:
                return None
        if with_video and video is None:
            video = QFileDialog.getOpenFileName(
                self, "Video recorded with the log", str(Path(path).parent),
                f"Videos ({' '.join('*' + x for x in VIDEO_SUFFIXES)});;All files (*)")[0]
            if not video:
                return None
        window = QtReplayWindow(self.settings)
        window.setAttribute(Qt.WA_DeleteOnClose)
        self.replay_windows.append(window)
        window.destroyed.connect(lambda _=None, w=window: w in self.replay_windows and self.replay_windows.remove(w))
        window.resize(1400, 900)
        window.show()
        window.open_path(path, video=video)
        return window

    def _report_written(self, files) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        self.log_line.emit(f"inspection report written: {files.pdf} (and .html, .json, .csv)")
        box = QMessageBox(QMessageBox.Information, "Inspection report", f"Written:\n{files.pdf}\n{files.html}\n"
                          f"{files.json}\n{files.csv}", QMessageBox.Close, self)
        box.setWindowModality(Qt.NonModal)
        box.setAttribute(Qt.WA_DeleteOnClose)
        self.open_report_button = box.addButton("Open the PDF", QMessageBox.AcceptRole)
        self.open_report_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(files.pdf))))
        self.report_box = box
        box.show()

    # ---- settings and theme -----------------------------------------------------------
    def set_theme(self, name: str) -> None:
        apply_theme(QApplication.instance(), name)
        self.settings.setValue("theme", name)
        self.theme_actions[name].setChecked(True)

    def _restore_settings(self) -> None:
        theme = str(self.settings.value("theme", "day"))
        self.set_theme(theme if theme in THEMES else "day")
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        self._default_layout = state is None or not self.restoreState(state, SETTINGS_VERSION)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._default_layout:
            self._default_layout = False
            # dock sizes only take once the window is laid out
            QTimer.singleShot(0, self._default_sizes)

    def _default_sizes(self) -> None:
        # the instruments are what the pilot reads: the taller share of their column
        self.resizeDocks([self.docks["instruments"], self.docks["vehicle"]], [620, 440], Qt.Vertical)
        self.resizeDocks([self.docks["hull3d"]], [320], Qt.Vertical)
        self.resizeDocks([self.docks["instruments"], self.docks["sonar"]], [SIDE_COLUMN_PX + 20, 400],
                         Qt.Horizontal)

    def save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState(SETTINGS_VERSION))
        self.settings.sync()

    # ---- shutdown ---------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self._closed_down:
            event.accept()
            return
        event.ignore()
        if self._closing:
            return
        if self.recording.busy():  # a record opening or closing: let it finish, then close
            self.statusBar().showMessage("closing: waiting for the mission record to open or close…")
            self.recording.settled.connect(self.close, Qt.SingleShotConnection)
            return
        self._closing = True
        self.save_settings()
        self.audio_note.close()  # a running note is kept aside and named; the record closes now
        for replay in list(self.replay_windows):
            replay.close()
        if self.recording.is_recording():
            self.recording.closing()
            self.statusBar().showMessage("shutting down: closing the record, then stopping sources, detectors, "
                                         "map and link in order…")
        else:
            self.statusBar().showMessage("shutting down: stopping sources, detectors, map and link in order…")
        self._update_recording_actions()
        self.centralWidget().setEnabled(False)
        self._detach()  # the pad sends neutral sticks before the link closes
        self._stop_task = run_task("shut down", self.station.close, parent=self,
                                   on_done=lambda _: self._finish_close(), on_error=lambda m: self._finish_close(m))

    def _finish_close(self, error: str = "") -> None:
        if error:
            self.log_line.emit(error)
        self._closed_down = True
        self.recording.close()
        self.shut_down.emit()
        self.close()
