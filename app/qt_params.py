"""The vehicle's parameters: fetch them all, find one by name, change it, and save or load
a .params file (QGC's format, also read by Mission Planner and MAVProxy).

Fetching, setting and file reading/writing all block (radio round trips, disk), so each
runs as a task; a changed cell shows what the vehicle confirmed, or why it refused.
"""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, Slot
from PySide6.QtGui import QBrush, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QTableView, QVBoxLayout, QWidget)

from vehicle.events import TransferProgress
from vehicle.params import read_params_file

from .qt_tasks import run_task
from .qt_theme import colour

NAME, VALUE, STATUS = range(3)
MIN_BUTTON_PX = 40
FILE_FILTER = "Parameter files (*.params *.param *.parm);;All files (*)"


def format_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _fetch(vehicle, task=None) -> dict[str, float]:
    def progress(event) -> None:  # link thread: task.report only emits a signal
        if isinstance(event, TransferProgress) and event.total:
            task.report(event.done / event.total, f"{event.done} / {event.total}")
    unsubscribe = vehicle.events.subscribe(progress) if task is not None else None
    try:
        return vehicle.params.fetch_all()
    finally:
        if unsubscribe is not None:
            unsubscribe()


def _load(vehicle, path: str) -> dict[str, float]:
    return vehicle.params.apply(read_params_file(path))


class _TaskSlot:
    task = None


class QtParamEditor(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.vehicle = None
        self._running: set[_TaskSlot] = set()
        self._updating = False  # the model is being filled by code, not edited by the user
        self.model = QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels(["Name", "Value", "Vehicle says"])
        self.model.itemChanged.connect(self._edited)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(NAME)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(NAME, Qt.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(NAME, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(STATUS, QHeaderView.Stretch)
        self.table.verticalHeader().hide()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search parameters (e.g. LIGHTS, BTN0)")
        self.search.setMinimumHeight(MIN_BUTTON_PX)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.fetch_button = self._button("Fetch all", self.fetch)
        self.save_button = self._button("Save to file…", self._ask_save)
        self.load_button = self._button("Load file…", self._ask_load)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        for b in (self.fetch_button, self.save_button, self.load_button):
            top.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        self._refresh_buttons()

    def set_vehicle(self, vehicle) -> None:
        self.vehicle = vehicle
        self._fill({} if vehicle is None else vehicle.params.values)
        self._refresh_buttons()

    # -- actions --------------------------------------------------------------
    @Slot()
    def fetch(self) -> None:
        if self.vehicle is None:
            return
        self.progress.setValue(0)
        self.progress.show()
        self._say("fetching parameters…", "info")
        task = self._start("fetch parameters", _fetch, self.vehicle, executor=self.vehicle, report_progress=True,
                           on_done=self._fetched)
        task.progress.connect(self._progress)

    def save_to(self, path: str | Path) -> None:
        """Write the cached parameters to path (in a task: disk I/O)."""
        if self.vehicle is None:
            return
        if not self.vehicle.params.values:
            self._say("nothing to save: fetch the parameters first", "warning")
            return
        path = str(path)
        self._say(f"saving {path}…", "info")
        self._start("save parameters", self.vehicle.params.save, path,
                    on_done=lambda _r: self._say(f"saved {len(self.vehicle.params.values)} parameters to {path}", "ok"))

    def load_from(self, path: str | Path) -> None:
        """Read a .params file and set every value that differs on the vehicle."""
        if self.vehicle is None:
            return
        path = str(path)
        self._say(f"loading {path}…", "info")
        self._start("load parameters", _load, self.vehicle, path, executor=self.vehicle, on_done=self._loaded)

    def set_value(self, name: str, value: float) -> None:
        """Send one value; the row shows the vehicle's answer."""
        row = self._row_of(name)
        if row is not None:
            self._set_status(row, "sending…", "info")
        self._start(f"set {name}", self.vehicle.params.set, name, value, executor=self.vehicle,
                    on_done=lambda stored: self._confirmed(name, stored),
                    on_error=lambda text: self._refused(name, text))

    # -- results ----------------------------------------------------------------
    def _fetched(self, values: dict) -> None:
        self.progress.hide()
        self._fill(values)
        self._say(f"{len(values)} parameters", "ok")

    def _loaded(self, changed: dict) -> None:
        self._fill(self.vehicle.params.values)
        for name, value in changed.items():
            row = self._row_of(name)
            if row is not None:
                self._set_status(row, f"loaded: {format_value(value)}", "ok")
        self._say(f"file applied: {len(changed)} parameter(s) changed", "ok")

    def _confirmed(self, name: str, stored: float) -> None:
        row = self._row_of(name)
        if row is None:
            self._fill(self.vehicle.params.values)
            row = self._row_of(name)
        self._set_cell(row, VALUE, format_value(stored))
        self._set_status(row, f"confirmed {format_value(stored)}", "ok")
        self._say(f"{name} = {format_value(stored)}", "ok")

    def _refused(self, name: str, text: str) -> None:
        row = self._row_of(name)
        if row is not None:
            cached = self.vehicle.params.cached(name)
            self._set_cell(row, VALUE, "" if cached is None else format_value(cached))
            self._set_status(row, text, "alarm")
        self._say(text, "alarm")

    def _progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(text)

    # -- table ------------------------------------------------------------------
    def _fill(self, values) -> None:
        self._updating = True
        try:
            self.model.setRowCount(0)
            for name, value in sorted(values.items()):
                name_item = QStandardItem(name)
                name_item.setEditable(False)
                status = QStandardItem("")
                status.setEditable(False)
                self.model.appendRow([name_item, QStandardItem(format_value(value)), status])
        finally:
            self._updating = False

    def _edited(self, item: QStandardItem) -> None:
        if self._updating or item.column() != VALUE or self.vehicle is None:
            return
        name = self.model.item(item.row(), NAME).text()
        try:
            value = float(item.text().strip())
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            self._refused(name, f"{name}: {item.text()!r} is not a number; type a value like 1 or 0.25")
            return
        self.set_value(name, value)

    def _row_of(self, name: str) -> int | None:
        found = self.model.findItems(name.upper(), Qt.MatchExactly, NAME)
        return found[0].row() if found else None

    def _set_cell(self, row: int, column: int, text: str) -> None:
        self._updating = True
        try:
            self.model.item(row, column).setText(text)
        finally:
            self._updating = False

    def _set_status(self, row: int, text: str, role: str) -> None:
        self._set_cell(row, STATUS, text)
        self.model.item(row, STATUS).setForeground(QBrush(colour(role)))

    # -- plumbing -----------------------------------------------------------------
    def _start(self, name, fn, *args, executor=None, report_progress=False, on_done=None, on_error=None):
        def failed(text: str) -> None:
            self.progress.hide()
            self._say(text, "alarm")
        on_error = on_error or failed
        slot = _TaskSlot()  # a fast failure reports before run_task returns the Task
        self._running.add(slot)
        task = run_task(name, fn, *args, executor=executor, report_progress=report_progress, parent=self,
                        on_done=lambda v: (self._task_over(slot), on_done and on_done(v)),
                        on_error=lambda t: (self._task_over(slot), on_error(t)))
        if slot in self._running:
            slot.task = task
        else:
            task.deleteLater()
        self._refresh_buttons()
        return task

    def _task_over(self, slot) -> None:
        self._running.discard(slot)
        if slot.task is not None:
            slot.task.deleteLater()
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        idle = self.vehicle is not None and not self._running
        for b in (self.fetch_button, self.save_button, self.load_button):
            b.setEnabled(idle)

    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save parameters", "vehicle.params", FILE_FILTER)
        if path:
            self.save_to(path)

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load parameters", "", FILE_FILTER)
        if path:
            self.load_from(path)

    def _say(self, text: str, role: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour(role).name()}")

    def _button(self, text: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setMinimumHeight(MIN_BUTTON_PX)
        button.clicked.connect(slot)
        return button

    def closeEvent(self, event) -> None:
        for slot in list(self._running):
            if slot.task is not None:
                slot.task.cancel()
        super().closeEvent(event)
