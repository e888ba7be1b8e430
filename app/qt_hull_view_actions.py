"""The hull map's actions under the 3D view: "Export map…" (PLY/OBJ/glb layers, the
expansion PNG and gaps.json into a folder), "Plan the gaps" (a fill-in plan for what the
map has not seen) and "Save plan…" (that plan as .hullplan.json or QGC .plan). The work
runs in tasks (app.map_actions); here only the dialogs, progress and the outcome.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from . import map_actions
from .qt_tasks import run_task
from .qt_theme import colour, finding_colour

BUTTON_MIN_PX = 40  # gloves


def _swatch(parent, rgb_hex: str, text: str) -> QLabel:
    label = QLabel(f'<span style="color:{rgb_hex}; font-size:16pt">\u25a0</span> {text}', parent)
    return label


def legend_row(parent=None) -> QWidget:
    """Coverage colours and finding classes, in the theme's status colours."""
    w = QWidget(parent)
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    for role, text in (("coverage_unseen", "unseen"), ("coverage_camera", "camera"), ("coverage_sonar", "sonar"),
                       ("coverage_both", "both")):
        lay.addWidget(_swatch(w, colour(role).name(), text))
    for cls, text in (("parasitic_container", "container"), ("niche_anomaly", "anomaly")):
        lay.addWidget(_swatch(w, finding_colour(cls).name(), text))
    return w


class QtHullMapActions(QWidget):
    """fill_in_plan_ready(PlanResult); export_finished(map_actions.ExportResult)."""

    fill_in_plan_ready = Signal(object)
    export_finished = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.export_button = QPushButton("Export map\u2026", self)
        self.gaps_button = QPushButton("Plan the gaps", self)
        self.save_button = QPushButton("Save plan\u2026", self)
        self.cancel_button = QPushButton("Cancel", self)
        for b in (self.export_button, self.gaps_button, self.save_button, self.cancel_button):
            b.setMinimumHeight(BUTTON_MIN_PX)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        for b in (self.export_button, self.gaps_button, self.save_button):
            row.addWidget(b)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.status)
        self._station_map = None
        self._plan = None
        self._start_h = None
        self._layout = None  # the expansion layout, when a QtExpansionView has one to share
        self.gap_plan: map_actions.GapPlan | None = None
        self.task = None
        self._done = None
        self.export_button.clicked.connect(self.ask_export)
        self.gaps_button.clicked.connect(self.plan_gaps)
        self.save_button.clicked.connect(self.ask_save)
        self.cancel_button.clicked.connect(self.cancel)
        self._busy(None)

    def set_station_map(self, station_map) -> None:
        self._station_map = station_map
        self._busy(None)

    def set_plan(self, plan) -> None:
        self._plan = plan

    def set_start(self, position_h) -> None:
        self._start_h = position_h

    def set_expansion_layout(self, layout) -> None:
        self._layout = layout

    # ---- actions --------------------------------------------------------------------
    def ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the hull map into a folder")
        if folder:
            self.export_to(folder)

    def export_to(self, folder) -> None:
        sm = self._station_map
        self._start("Exporting the map", map_actions.export_all, sm.worker, sm.model, sm.placement.draft_m, folder,
                    layout=self._layout, done=self._exported)

    def plan_gaps(self) -> None:
        sm = self._station_map
        self._start("Planning the gaps", map_actions.plan_gaps, sm.worker, sm.model, sm.placement, plan=self._plan,
                    start_h=self._start_h, done=self._planned)

    def ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the fill-in plan", "fill-in.hullplan.json",
                                              "HullWatch plan (*.hullplan.json);;QGroundControl plan (*.plan)")
        if path:
            self.save_to(path)

    def save_to(self, path) -> None:
        self._start("Saving the plan", map_actions.save_fill_in, self.gap_plan.result.plan, path,
                    done=self._saved)

    def _saved(self, path) -> None:
        self.status.setText(f"saved the fill-in plan to {path}")

    def cancel(self) -> None:
        if self.task is not None:
            # the text first: a task not started yet reports failed("cancelled") from within cancel()
            self.status.setText("cancelling\u2026 (stops after the current step)")
            self.task.cancel()

    # ---- plumbing -------------------------------------------------------------------
    def _start(self, title: str, fn, *args, done, **kwargs) -> None:
        self.status.setText(f"{title}\u2026")
        self.progress.setValue(0)
        self._done = done
        # bound methods only: the task's signals come from a worker thread and must queue to this widget's
        self.task = run_task(title, fn, *args, report_progress=True, on_done=self._finish, on_error=self._failed,
                             **kwargs)
        self.task.progress.connect(self._progress)
        self._busy(self.task)

    def _progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(round(100 * fraction)))
        if text:
            self.status.setText(text)

    def _finish(self, value) -> None:
        self.task = None
        self.progress.setValue(100)
        self._busy(None)
        self._done(value)

    def _failed(self, message: str) -> None:
        self.task = None
        self.progress.setValue(0)
        self._busy(None)
        self.status.setText(message)

    def _exported(self, result) -> None:
        self.status.setText(result.describe())
        self.export_finished.emit(result)

    def _planned(self, gap_plan) -> None:
        self.gap_plan = gap_plan
        self.status.setText(gap_plan.describe())
        self._busy(None)
        if gap_plan.result is not None:
            self.fill_in_plan_ready.emit(gap_plan.result)

    def _busy(self, task) -> None:
        idle, has_map = task is None, self._station_map is not None
        self.export_button.setEnabled(idle and has_map)
        self.gaps_button.setEnabled(idle and has_map)
        self.save_button.setEnabled(idle and self.gap_plan is not None and self.gap_plan.result is not None)
        self.cancel_button.setEnabled(not idle)

    def closeEvent(self, event):  # noqa: N802
        self.cancel()
        super().closeEvent(event)

    def close(self) -> bool:
        self.cancel()
        return super().close()
