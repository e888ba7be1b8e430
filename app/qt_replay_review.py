"""The review of a record's findings and alarms: each finding (class, confidence, time,
place on the hull, decision), then each alarm no finding holds (class, confidence, time,
source, decision), and the reviewer's calls on the selected row: confirm, dismiss with a
reason, note, measurement, evidence photo (the camera frame or the sonar ping on screen).

Every call is written at once as a signed review addendum (app.replay_review.write_review,
target "finding" or "alarm") in a task, then the list is read back from the record (also
in a task), so it always shows what the record says. The reviewer's name is remembered in
QSettings.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGridLayout, QHBoxLayout, QHeaderView, QInputDialog,
                               QLabel, QLineEdit, QPushButton, QTableWidget, QVBoxLayout, QWidget)

from .qt_alarms_dialogs import DismissReasonDialog, NoteDialog
from .qt_replay_review_rows import COLUMNS, fill_table, history_text, read_rows
from .qt_tasks import run_task

BUTTON_MIN_PX = 40
PHOTO_SOURCES = (("camera", "camera frame"), ("sonar", "sonar ping"))


class QtReplayReview(QWidget):
    """seek_requested(t_s): show this row's time; review_written(path): an addendum was
    signed; message(str): what happened, for the status bar.

    current_frame() -> (frame index, "camera") and current_ping() -> (ping index, "sonar")
    name what is on screen (None: nothing); without current_ping, photos are camera only."""

    seek_requested = Signal(float)
    review_written = Signal(str)
    message = Signal(str)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None, *,
                 current_frame=lambda: None, current_ping=None, key=None) -> None:
        super().__init__(parent)
        self.settings = settings or QSettings("HullWatch", "HullWatch")
        self._shown = {"camera": current_frame, "sonar": current_ping}
        self._key = key  # None: this installation's key, loaded in the task
        self.session = None
        self.findings: list = []  # recording.report_findings.FindingInfo
        self.rows: list = []  # qt_replay_review_rows.ReviewRow: the findings, then the alarms no finding holds
        self._tasks: list = []
        self._reads = 0  # only the newest read of the record is shown (an older one may finish later)
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
        self.history = QLabel("")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.PlainText)
        self.photo_source = QComboBox()
        for source, text in PHOTO_SOURCES:
            self.photo_source.addItem(text, source)
        self.photo_source.setMinimumHeight(BUTTON_MIN_PX)
        self.photo_source.setToolTip("which view the evidence photo is taken from: the frame or ping on screen")
        if current_ping is None:  # the window does not say which ping is on screen
            self.photo_source.model().item(1).setEnabled(False)
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        for i, (key, text, slot) in enumerate((
                ("go", "Show", lambda: self._go_to(self.table.currentRow())), ("confirmed", "Confirm", self.confirm),
                ("dismissed", "Dismiss…", self.dismiss), ("note", "Note…", self.note),
                ("measurement", "Measure…", self.measure), ("evidence_photo", "Evidence photo", self.evidence_photo))):
            b = QPushButton(text)
            b.setMinimumHeight(BUTTON_MIN_PX)
            b.clicked.connect(slot)
            grid.addWidget(b, i // 3, i % 3)
            self.buttons[key] = b
        grid.addWidget(QLabel("Photo from"), 2, 1, Qt.AlignRight)
        grid.addWidget(self.photo_source, 2, 2)
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Reviewer"))
        name_row.addWidget(self.reviewer, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(name_row)
        lay.addWidget(self.table, 1)
        lay.addLayout(grid)
        lay.addWidget(self.history)
        self._selected()

    # -- model ------------------------------------------------------------------------------
    def set_session(self, session) -> None:
        """A ReplaySession of a record; reads its findings and alarms in a task."""
        self.session = session
        self.reload()

    def set_rows(self, findings, rows) -> None:
        keep = self.selected_row()
        self.findings, self.rows = list(findings), list(rows)
        fill_table(self.table, self.rows)
        if keep is not None:
            self._select(keep.target, keep.ref_id)
        self._selected()

    def reload(self) -> None:
        if self.session is None or not self.session.is_record:
            self.set_rows([], [])
            return
        self._reads += 1
        read = self._reads
        self._keep(run_task("read the findings and alarms", read_rows, self.session, parent=self,
                            on_done=lambda got: read == self._reads and self.set_rows(*got),
                            on_error=self.message.emit))

    def select(self, finding_id: int) -> bool:
        return self._select("finding", finding_id)

    def select_alarm(self, alarm_id: int) -> bool:
        return self._select("alarm", alarm_id)

    def _select(self, target: str, ref_id: int) -> bool:
        for r, row in enumerate(self.rows):
            if row.target == target and row.ref_id == ref_id:
                self.table.selectRow(r)
                return True
        return False

    def selected_row(self):
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.rows[rows[0].row()] if rows and rows[0].row() < len(self.rows) else None

    def selected_finding(self):
        row = self.selected_row()
        return next((f for f in self.findings if f.finding_id == row.ref_id), None) \
            if row is not None and row.target == "finding" else None

    def reviewer_name(self) -> str:
        return self.reviewer.text().strip()

    # -- the reviewer's calls -------------------------------------------------------------
    def confirm(self) -> None:
        self._decide("confirmed", "")

    def dismiss(self) -> None:
        row = self._target()
        if row is None:
            return
        dialog = DismissReasonDialog(f"{row.label} ({row.class_name})", self)
        dialog.setWindowTitle(f"Dismiss {row.target}")
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).setText(f"Dismiss {row.target}")
        dialog.accepted.connect(lambda: self._decide("dismissed", dialog.reason(), row=row))
        self._open(dialog)

    def note(self) -> None:
        row = self._target()
        if row is None:
            return
        dialog = NoteDialog(f"{row.label} ({row.class_name})", self)
        dialog.setWindowTitle(f"Note on {row.target}")
        dialog.accepted.connect(lambda: self._decide("note", dialog.text(), row=row))
        self._open(dialog)

    def measure(self) -> None:
        row = self._target()
        if row is None:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Measurement")
        dialog.setLabelText(f"Length of {row.label} ({row.class_name}), metres:")
        dialog.setInputMode(QInputDialog.DoubleInput)
        dialog.setDoubleRange(0.001, 1000.0)
        dialog.setDoubleDecimals(3)
        dialog.setDoubleValue(row.size_m[0] if row.size_m else 0.1)
        dialog.accepted.connect(lambda: self._decide("measurement", f"length {dialog.doubleValue():g} m", row=row,
                                                     extra={"length_m": round(dialog.doubleValue(), 4)}))
        self._open(dialog)

    def evidence_photo(self) -> None:
        source = self.photo_source.currentData()
        provider = self._shown.get(source)
        shown = provider() if provider is not None else None
        if shown is None:
            self.message.emit(f"evidence photo: no {source} {'frame' if source == 'camera' else 'ping'} on screen; "
                              f"seek to the {'frame' if source == 'camera' else 'ping'} that shows it")
            return
        index = int(shown[0])
        extra = {"frame_index": index, "source": "camera"} if source == "camera" else \
            {"ping_index": index, "source": "sonar"}
        self._decide("evidence_photo", f"{source} {'frame' if source == 'camera' else 'ping'} {index}", extra=extra)

    def _open(self, dialog) -> None:
        self._dialog = dialog
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()

    def _target(self):
        row = self.selected_row()
        if row is None:
            self.message.emit("select a finding or an alarm first")
        elif not self.reviewer_name():
            self.message.emit("type your name as reviewer first: it is written on every decision")
            self.reviewer.setFocus()
            return None
        return row

    def _decide(self, kind: str, text: str, *, row=None, extra: dict | None = None) -> None:
        row = row or self._target()
        if row is None or self.session is None:
            return
        from .replay_review import ReviewDecision, write_review

        name = self.reviewer_name()
        self.settings.setValue("reviewer", name)
        decision = ReviewDecision(row.target, row.ref_id, kind, text, name, dt.datetime.now(dt.timezone.utc),
                                  dict(extra or {}))
        key, folder = self._key, self.session.path

        def write():
            from recording.keys import InstallationKey

            return write_review(folder, [decision], key or InstallationKey.load_or_create(), name)

        self.message.emit(f"writing the review of {row.label}…")
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
        if 0 <= row < len(self.rows) and self.rows[row].t_utc_s is not None:
            self.seek_requested.emit(float(self.rows[row].t_utc_s))

    def _selected(self) -> None:
        row = self.selected_row()
        for b in self.buttons.values():
            b.setEnabled(row is not None and self.session is not None and self.session.is_record)
        self.history.setText(history_text(row, bool(self.rows)))
