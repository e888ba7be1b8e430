"""QtPlanner: the mission planner dock panel. The pilot sets up the vessel and its hull (a
mesh file or a parametric hull), edits the niche areas, plans the sweep, looks at the
legs and the predicted coverage, exports the plan and uploads it to the vehicle.

Every blocking step (mesh loading and repair, planning, mission items, file writing, the
upload) is an app.planner_session function run through app.qt_tasks.run_task; this widget
only starts them and shows what comes back. One job runs at a time. The planner cannot be
interrupted, so Cancel lets it finish in the background and throws its result away.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QScrollArea,
                               QVBoxLayout, QWidget)

from . import planner_session as session
from .errors import UserError
from .qt_niche_editor import QtNicheEditor
from .qt_planner_form import QtPlannerForm, button
from .qt_planner_results import QtPlanResults
from .qt_tasks import run_task
from .qt_theme import colour

PROGRESS_STEPS = 1000
MESH_FILTER = "Hull meshes (*.stl *.obj *.ply *.gz);;All files (*)"
EXPORT_FILTERS = {"hullplan": "HullWatch plan (*.hullplan.json)", "qgc": "QGroundControl plan (*.plan)",
                  "wpl": "QGC WPL 110 (*.waypoints *.txt)"}
EXPORT_SUFFIXES = {"hullplan": ".hullplan.json", "qgc": ".plan", "wpl": ".waypoints"}


def export_kind(path: str) -> str | None:
    name = path.lower()
    if name.endswith(".json"):
        return "hullplan"
    if name.endswith(".plan"):
        return "qgc"
    if name.endswith((".waypoints", ".txt")):
        return "wpl"
    return None


class QtPlanner(QWidget):
    plan_ready = Signal(object)  # mission_plans.planner.PlanResult
    hull_loaded = Signal(object, object)  # hull.model.HullModel, hull.placement.Placement | None

    def __init__(self, vehicle=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = None  # hull.model.HullModel
        self.result = None  # PlanResult
        self.warnings: tuple[str, ...] = ()
        self.last_upload: session.UploadResult | None = None
        self.last_export: tuple[Path, ...] = ()
        self._vehicle = vehicle
        self._task = None
        self._job = ""
        self.form = QtPlannerForm()
        self.niches = QtNicheEditor()
        self.results = QtPlanResults()
        self.plan_button = button("Plan")
        self.cancel_button = button("Cancel")
        self.upload_button = button("Upload to vehicle")
        self.export_button = button("Export…")
        self.save_niches_button = button("Save niche areas beside the mesh")
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.status = QLabel("load a hull mesh or build a parametric hull")
        self.status.setWordWrap(True)
        self._build_layout()
        self.form.browse_button.clicked.connect(self.browse_mesh)
        self.form.load_button.clicked.connect(self.load_mesh)
        self.form.build_button.clicked.connect(self.build_parametric)
        self.plan_button.clicked.connect(self.plan)
        self.cancel_button.clicked.connect(self.cancel)
        self.upload_button.clicked.connect(self.upload)
        self.export_button.clicked.connect(self.choose_export)
        self.save_niches_button.clicked.connect(self.save_niches)
        self._update_buttons()

    def _build_layout(self) -> None:
        niche_box = QGroupBox("Niche areas (hull frame, metres)")
        QVBoxLayout(niche_box).addWidget(self.niches)
        niche_box.layout().addWidget(self.save_niches_button)
        result_box = QGroupBox("Plan")
        QVBoxLayout(result_box).addWidget(self.results)
        inner = QWidget()
        col = QVBoxLayout(inner)
        col.addWidget(self.form)
        col.addWidget(niche_box)
        col.addWidget(result_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        actions = QHBoxLayout()
        for b in (self.plan_button, self.cancel_button, self.upload_button, self.export_button):
            actions.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(actions)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    # ---- inputs from the main window ---------------------------------------------------
    def set_vehicle(self, vehicle) -> None:
        """The connected vehicle (vehicle.Vehicle) or None; upload needs one."""
        self._vehicle = vehicle
        self._update_buttons()

    @property
    def busy(self) -> bool:
        return self._task is not None

    # ---- hull ----------------------------------------------------------------------------
    @Slot()
    def browse_mesh(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Hull mesh", self.form.mesh_path.text(), MESH_FILTER)
        if path:
            self.form.mesh_path.setText(path)
            self.load_mesh()

    @Slot()
    def load_mesh(self) -> None:
        path = self.form.mesh_path.text().strip()
        if not path:
            return self._say("choose a hull mesh file first (Browse…)", "alarm")
        self.form.use_mesh.setChecked(True)
        self._start("load hull", session.load_mesh, path, self.form.mesh_units(), self.form.scale.value(),
                    done=self._hull_done)

    @Slot()
    def build_parametric(self) -> None:
        try:
            dims = self.form.dims()
        except UserError as exc:
            return self._say(str(exc), "alarm")
        self.form.use_parametric.setChecked(True)
        self.form.draft.setValue(dims.draft_m)
        self._start("build hull", session.build_parametric, dims, done=self._hull_done)

    @Slot(object)
    def _hull_done(self, loaded) -> None:
        if not self._finish():
            return
        self.model = loaded.model
        self.result = None
        self.results.clear()
        if self.form.draft.value() >= self.model.depth_m:  # a model-scale mesh: keep the draft inside the hull
            self.form.draft.setValue(round(0.6 * self.model.depth_m, 3))
        self.form.hull_info.setPlainText("\n".join(loaded.lines))
        self.niches.set_areas(self.model.niche_areas)
        self._say(f"hull ready: {self.model.name}, {self.model.length_m:.2f} m long"
                  + ("; " + "; ".join(loaded.warnings) if loaded.warnings else ""),
                  "warning" if loaded.warnings else "ok")
        try:
            placement = self.form.request(self.model, ()).placement()
        except UserError:
            placement = None  # the form is not complete yet; the map follows once a plan is made
        self.hull_loaded.emit(self.model, placement)

    @Slot()
    def save_niches(self) -> None:
        if self.model is None or self.model.source_path is None:
            return self._say("niche areas are saved beside a mesh file: load a mesh first", "alarm")
        self._start("save niche areas", session.save_niches, self.model.source_path, self.niches.areas(),
                    done=self._saved_niches)

    @Slot(object)
    def _saved_niches(self, path) -> None:
        if self._finish():
            self._say(f"niche areas saved to {path}", "ok")

    # ---- plan ----------------------------------------------------------------------------
    @Slot()
    def plan(self) -> None:
        if self.model is None:
            return self._say("load a hull mesh or build a parametric hull before planning", "alarm")
        try:
            request = self.form.request(self.model, self.niches.areas())
            request.placement()
        except UserError as exc:
            return self._say(str(exc), "alarm")
        self._start("plan", session.make_plan, request, done=self._plan_done)

    @Slot(object)
    def _plan_done(self, value) -> None:
        if self._finish():
            self.set_plan_result(*value)

    def set_plan_result(self, result, warnings=()) -> None:
        """Show a plan (a PlanResult, e.g. a re-plan made elsewhere) as this panel's plan."""
        self.result, self.warnings = result, tuple(warnings)
        self.results.show_result(result, self.warnings)
        self._update_buttons()
        pred = result.plan.prediction
        self._say(f"plan ready: {len(result.plan.legs)} legs, coverage {pred.overall_pct:.1f} %", "ok")
        self.plan_ready.emit(result)

    @Slot()
    def cancel(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        self._disown()
        note = {"plan": " (the planner cannot stop mid-way: it finishes in the background and its result is "
                        "discarded)",
                "upload": " (a transfer under way cannot be stopped halfway: check the vehicle's mission before "
                          "flying)"}.get(self._job, " (its result is discarded)")
        self._say(f"{self._job} cancelled{note}", "warning")

    # ---- out: vehicle and files ---------------------------------------------------------
    @Slot()
    def upload(self) -> None:
        if self._vehicle is None or self.result is None:
            return self._say("upload needs a plan and a connected vehicle", "alarm")
        self._start("upload", session.upload_plan, self._vehicle, self.result.plan, executor=self._vehicle,
                    done=self._uploaded)

    @Slot(object)
    def _uploaded(self, outcome) -> None:
        if self._finish():
            self.last_upload = outcome
            self._say(f"uploaded: the vehicle confirmed {outcome.items} mission items", "ok")

    @Slot()
    def choose_export(self) -> None:
        if self.result is None:
            return self._say("plan first, then export", "alarm")
        name = (self.form.vessel_name.text().strip() or "sweep").replace(" ", "_")
        path, chosen = QFileDialog.getSaveFileName(self, "Export plan", name + EXPORT_SUFFIXES["hullplan"],
                                                   ";;".join(EXPORT_FILTERS.values()))
        if not path:
            return
        kind = export_kind(path) or next(k for k, f in EXPORT_FILTERS.items() if f == chosen)
        if export_kind(path) is None:
            path += EXPORT_SUFFIXES[kind]
        self.export_to(path, kind)

    def export_to(self, path, kind: str) -> None:
        """Write the plan as kind (hullplan, qgc, wpl) to path, in a task."""
        if self.result is None:
            return self._say("plan first, then export", "alarm")
        origin = self._vehicle.state.ekf_origin if self._vehicle is not None else None
        self._start("export", session.export_plan, self.result.plan, kind, str(path), origin, done=self._exported)

    @Slot(object)
    def _exported(self, paths) -> None:
        if self._finish():
            self.last_export = tuple(paths)
            self._say("wrote " + ", ".join(str(p) for p in paths), "ok")

    # ---- tasks ---------------------------------------------------------------------------
    def _start(self, job: str, fn, *args, executor=None, done) -> None:
        if self._task is not None:
            return self._say(f"wait for {self._job} to finish (or Cancel it)", "warning")
        self._job = job
        self.progress.setValue(0)
        self._say(f"{job} …", "info")
        self._task = run_task(job, fn, *args, executor=executor, report_progress=True, on_done=done,
                              on_error=self._failed)
        self._task.progress.connect(self._progress)
        self._update_buttons()

    def _finish(self) -> bool:
        """True when the signal comes from the running task (a cancelled one is ignored)."""
        if self._task is None or self.sender() is not self._task:
            return False
        self._task = None
        self.progress.setValue(PROGRESS_STEPS)
        self._update_buttons()
        return True

    @Slot(float, str)
    def _progress(self, fraction: float, text: str) -> None:
        # a progress call queued before a cancel can arrive after it, with no sender: ignore it
        if self._task is not None and self.sender() is self._task:
            self.progress.setValue(int(max(0.0, min(1.0, fraction)) * PROGRESS_STEPS))
            if text:
                self._say(text, "info")

    @Slot(str)
    def _failed(self, message: str) -> None:
        if self._finish():
            self.progress.setValue(0)
            self._say(message, "alarm")

    def _disown(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            for sig in (task.finished, task.failed, task.progress):
                try:
                    sig.disconnect()
                except (RuntimeError, TypeError):
                    pass
        self.progress.setValue(0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self._task is None
        for b in (self.form.load_button, self.form.browse_button, self.form.build_button,
                  self.save_niches_button):
            b.setEnabled(idle)
        self.plan_button.setEnabled(idle)
        self.cancel_button.setEnabled(not idle)
        self.export_button.setEnabled(idle and self.result is not None)
        self.upload_button.setEnabled(idle and self.result is not None and self._vehicle is not None)
        self.upload_button.setToolTip("" if self._vehicle is not None else "connect a vehicle to upload")

    def _say(self, text: str, role: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour(role).name()};")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self._task is not None:
            self._task.cancel()
            self._disown()
        super().closeEvent(event)
