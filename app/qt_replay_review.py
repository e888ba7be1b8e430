"""The review of a record's findings: each finding with its class, confidence, time, place
on the hull and decision, and the reviewer's calls on it (confirm, dismiss with a reason,
note, measurement, evidence photo of the frame on screen).

Every call is written at once as a signed review addendum (app.replay_review.write_review)
in a task, then the findings are read back from the record (also in a task), so the list
always shows what the record says. The reviewer's name is remembered in QSettings.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .qt_alarms_dialogs import DismissReasonDialog, NoteDialog
from .qt_tasks import run_task
from .qt_theme import colour

COLUMNS = ("Id", "Class", "Confidence", "First seen (UTC)", "Place on hull", "Decision")
BUTTON_MIN_PX = 40
_DECISION_ROLE = {"confirmed": "alarm", "dismissed": "stale"}


def describe_place(f) -> str:
    parts = []
    if f.side:
        parts.append(f.side)
    if f.x_from_stern_m is not None:
        parts.append(f"{f.x_from_stern_m:.1f} m from stern")
    if f.depth_below_waterline_m is not None:
        parts.append(f"{f.depth_below_waterline_m:.1f} m below waterline")
    if f.niche:
        parts.append(f.niche)
    return ", ".join(parts) or "not placed"


def _utc(t_s: float | None) -> str:
    return "—" if t_s is None else dt.datetime.fromtimestamp(t_s, dt.timezone.utc).strftime("%H:%M:%S")


class QtReplayReview(QWidget):
    """seek_requested(t_s): show this finding's time; review_written(path): an addendum
    was signed; message(str): what happened, for the status bar."""

    seek_requested = Signal(float)
    review_written = Signal(str)
    message = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None, *,
                 current_frame=lambda: None, key=None) -> None:
        super().__init__(parent)
        self.settings = settings or QSettings("HullWatch", "HullWatch")
        self._current_frame = current_frame  # () -> (frame index, source) on screen, or None
        self._key = key  # None: this installation's key, loaded in the task
        self.session = None
        self.findings: list = []
        self._tasks: list = []
        self._dialog = None
        self.reviewer = QLineEdit(str(self.settings.value("reviewer", "") or ""))
        self.reviewer.setPlaceholderText("your name (on every decision)")
        self.reviewer.setMinimumHeight(BUTTON_MIN_PX)
        self.reviewer.editingFinished.connect(lambda: self.settings.setValue("reviewer", self.reviewer_name()))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(COLUMNS.index("Place on hull"), QHeaderView.Stretch)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.cellDoubleClicked.connect(lambda row, _c: self._go_to(row))
        self.history = QLabel("select a finding to review it")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.PlainText)
        self.buttons: dict[str, QPushButton] = {}
        row = QGridLayout()
        for i, (key, text, slot) in enumerate((
                ("go", "Show", lambda: self._go_to(self.table.currentRow())), ("confirmed", "Confirm", self.confirm),
                ("dismissed", "Dismiss…", self.dismiss), ("note", "Note…", self.note),
                ("measurement", "Measure…", self.measure), ("evidence_photo", "Evidence photo", self.evidence_photo))):
            b = QPushButton(text)
            b.setMinimumHeight(BUTTON_MIN_PX)
            b.clicked.connect(slot)
            row.addWidget(b, i // 3, i % 3)
            self.buttons[key] = b
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Reviewer"))
        name_row.addWidget(self.reviewer, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(name_row)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        lay.addWidget(self.history)
        self._selected()

    # -- model ------------------------------------------------------------------------------
    def set_session(self, session) -> None:
        """A ReplaySession of a record; reads its findings in a task."""
        self.session = session
        self.reload()

    def set_findings(self, findings) -> None:
        keep = self.selected_finding()
        self.findings = list(findings)
        self.table.setRowCount(len(self.findings))
        for r, f in enumerate(self.findings):
            d = f.decided
            decision = f.decision if d is None else f"{d.kind} by {d.reviewer}"
            cells = (str(f.finding_id), f.class_name, "—" if f.confidence is None else f"{f.confidence:.2f}",
                     _utc(f.first_seen_utc_s), describe_place(f), decision)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == COLUMNS.index("Decision") and d is not None and d.kind in _DECISION_ROLE:
                    item.setForeground(colour(_DECISION_ROLE[d.kind]))
                self.table.setItem(r, c, item)
        if keep is not None:
            self.select(keep.finding_id)
        self._selected()

    def reload(self) -> None:
        if self.session is None or not self.session.is_record:
            self.set_findings([])
            return
        self._keep(run_task("read the findings", self.session.findings, parent=self, on_done=self.set_findings,
                            on_error=self.message.emit))

    def select(self, finding_id: int) -> bool:
        for r, f in enumerate(self.findings):
            if f.finding_id == finding_id:
                self.table.selectRow(r)
                return True
        return False

    def selected_finding(self):
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.findings[rows[0].row()] if rows and rows[0].row() < len(self.findings) else None

    def reviewer_name(self) -> str:
        return self.reviewer.text().strip()

    # -- the reviewer's calls -------------------------------------------------------------
    def confirm(self) -> None:
        self._decide("confirmed", "")

    def dismiss(self) -> None:
        f = self._target()
        if f is None:
            return
        dialog = DismissReasonDialog(f"finding {f.finding_id} ({f.class_name})", self)
        dialog.setWindowTitle("Dismiss finding")
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).setText("Dismiss finding")
        dialog.accepted.connect(lambda: self._decide("dismissed", dialog.reason(), finding=f))
        self._open(dialog)

    def note(self) -> None:
        f = self._target()
        if f is None:
            return
        dialog = NoteDialog(f"finding {f.finding_id} ({f.class_name})", self)
        dialog.setWindowTitle("Note on finding")
        dialog.accepted.connect(lambda: self._decide("note", dialog.text(), finding=f))
        self._open(dialog)

    def measure(self) -> None:
        f = self._target()
        if f is None:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Measurement")
        dialog.setLabelText(f"Length of finding {f.finding_id} ({f.class_name}), metres:")
        dialog.setInputMode(QInputDialog.DoubleInput)
        dialog.setDoubleRange(0.001, 1000.0)
        dialog.setDoubleDecimals(3)
        dialog.setDoubleValue(f.size_m[0] if f.size_m else 0.1)
        dialog.accepted.connect(lambda: self._decide("measurement", f"length {dialog.doubleValue():g} m", finding=f,
                                                     extra={"length_m": round(dialog.doubleValue(), 4)}))
        self._open(dialog)

    def evidence_photo(self) -> None:
        shown = self._current_frame()
        if shown is None:
            self.message.emit("evidence photo: no video frame on screen; seek to the frame that shows the finding")
            return
        index, source = shown
        self._decide("evidence_photo", f"{source} frame {index}", extra={"frame_index": int(index), "source": source})

    def _open(self, dialog) -> None:
        self._dialog = dialog
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()

    def _target(self):
        f = self.selected_finding()
        if f is None:
            self.message.emit("select a finding first")
        elif not self.reviewer_name():
            self.message.emit("type your name as reviewer first: it is written on every decision")
            self.reviewer.setFocus()
            return None
        return f

    def _decide(self, kind: str, text: str, *, finding=None, extra: dict | None = None) -> None:
        f = finding or self._target()
        if f is None or self.session is None:
            return
        from .replay_review import ReviewDecision, write_review

        name = self.reviewer_name()
        self.settings.setValue("reviewer", name)
        decision = ReviewDecision("finding", int(f.finding_id), kind, text, name,
                                  dt.datetime.now(dt.timezone.utc), dict(extra or {}))
        key = self._key

        def write():
            from recording.keys import InstallationKey

            return write_review(self.session.path, [decision], key or InstallationKey.load_or_create(), name)

        self.message.emit(f"writing the review of finding {f.finding_id}…")
        self._keep(run_task("write the review", write, parent=self, on_done=self._written,
                            on_error=self.message.emit))

    def _written(self, path) -> None:
        self.message.emit(f"review signed into the record: {path}")
        self.review_written.emit(str(path))
        self.reload()

    # -- helpers ----------------------------------------------------------------------------
    def _keep(self, task) -> None:
        self._tasks.append(task)
        drop = lambda *_: task in self._tasks and self._tasks.remove(task)  # noqa: E731
        task.finished.connect(drop)
        task.failed.connect(drop)

    def busy(self) -> bool:
        return bool(self._tasks)

    def _go_to(self, row: int) -> None:
        if 0 <= row < len(self.findings) and self.findings[row].first_seen_utc_s is not None:
            self.seek_requested.emit(float(self.findings[row].first_seen_utc_s))

    def _selected(self) -> None:
        f = self.selected_finding()
        for b in self.buttons.values():
            b.setEnabled(f is not None and self.session is not None and self.session.is_record)
        if f is None:
            self.history.setText("select a finding to review it" if self.findings else "no findings in this record")
            return
        lines = [f"{d.kind} by {d.reviewer or d.author or '?'} at {_utc(d.t_utc_s)}" + (f": {d.text}" if d.text else "")
                 for d in f.decisions]
        self.history.setText(f"Finding {f.finding_id}: " + ("; ".join(lines) if lines else "not reviewed yet"))
