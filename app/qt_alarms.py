"""The alarms panel: every alarm of the dive with its snapshot and place on the hull, the
reviewer's decision on it, and the alert (flashing row, sound, alarm_raised signal) that
lasts until someone acknowledges it.

The AlarmReview is the model; its listeners may fire on any thread (the pipeline bridge
adds alarms), so they are relayed through a Qt signal and every change is drawn on the
GUI thread. The sound repeats while an alarm is unacknowledged: a pilot flying with both
hands on the sticks must not miss one.
"""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .alarm_review import AlarmEvent, AlarmReview
from .qt_alarms_dialogs import DismissReasonDialog, NoteDialog
from .qt_alarms_sound import AlarmSound
from .qt_theme import colour

log = logging.getLogger(__name__)

COLUMNS = ("Snapshot", "Class", "Confidence", "Source", "Place on hull", "Time (UTC)", "Status")
THUMB = QSize(96, 72)
FLASH_PERIOD_MS = 400
MIN_BUTTON_PX = 40
_STATUS_COLOUR = {"new": "alarm", "acknowledged": "warning", "confirmed": "alarm", "dismissed": "stale"}


def snapshot_pixmap(snapshot: np.ndarray | None, size: QSize = THUMB) -> QPixmap | None:
    """A BGR uint8 crop as a thumbnail (aspect kept), or None when there is none."""
    if snapshot is None or snapshot.ndim != 3 or snapshot.shape[2] != 3 or snapshot.size == 0:
        return None
    data = np.ascontiguousarray(snapshot, dtype=np.uint8)
    h, w = data.shape[:2]
    image = QImage(data.data, w, h, 3 * w, QImage.Format_BGR888).copy()  # copy: Qt must not keep numpy's buffer
    return QPixmap.fromImage(image).scaled(size, Qt.KeepAspectRatio, Qt.SmoothTransformation)


def describe_place(alarm) -> str:
    address = getattr(alarm, "address", None)
    if address is None:
        return "locating…"
    return address.describe() if hasattr(address, "describe") else str(address)


class _Relay(QObject):
    event = Signal(object)


class QtAlarms(QWidget):
    alarm_raised = Signal(int)  # alarm id: the main window flashes its title/status bar
    fly_to_requested = Signal(int)  # alarm id of a located alarm the user double-clicked
    acknowledged = Signal()

    def __init__(self, review: AlarmReview, reviewer: Callable[[], str], parent: QWidget | None = None):
        super().__init__(parent)
        self.review = review
        self._reviewer = reviewer
        self._flashing: set[int] = set()
        self._flash_on = False
        self._dialog = None  # the open dismiss/note dialog, if any
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setIconSize(THUMB)
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 6)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(COLUMNS.index("Place on hull"), QHeaderView.Stretch)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.table.itemSelectionChanged.connect(self._refresh_buttons)
        self.buttons = {}
        row = QHBoxLayout()
        for key, text, slot in (("confirm", "Confirm", self.confirm_selected),
                                ("dismiss", "Dismiss…", self.dismiss_selected),
                                ("note", "Note…", self.note_selected),
                                ("acknowledge", "Acknowledge", self.acknowledge)):
            button = QPushButton(text)
            button.setMinimumHeight(MIN_BUTTON_PX)
            button.clicked.connect(slot)
            self.buttons[key] = button
            row.addWidget(button)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._flash_timer = QTimer(self, interval=FLASH_PERIOD_MS)
        self._flash_timer.timeout.connect(self._flash)
        self.sound = AlarmSound(self)
        self._relay = _Relay(self)
        self._relay.event.connect(self._on_event)
        self._unsubscribe = review.listeners(self._relay.event.emit)
        self._relay.destroyed.connect(self._unsubscribe)  # deleted without close(): stop listening
        for alarm in review.alarms():
            self._upsert(alarm)
        self._refresh_buttons()

    # -- public ---------------------------------------------------------------
    def selected_alarm_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self._alarm_id_at(rows[0].row()) if rows else None

    def select_alarm(self, alarm_id: int) -> None:
        row = self._row_of(alarm_id)
        if row is not None:
            self.table.selectRow(row)

    def flashing_ids(self) -> set[int]:
        return set(self._flashing)

    @Slot()
    def acknowledge(self) -> None:
        """Everything current is seen: stop the sound and the flashing (the gamepad's button)."""
        try:
            self.review.acknowledge(None, self._reviewer_name())
        except (KeyError, ValueError) as exc:
            self._say(str(exc), "alarm")
        self.sound.stop()
        for alarm_id in list(self._flashing):
            self._paint_row(alarm_id, flash=False)
        self._flashing.clear()
        self._flash_timer.stop()
        self.acknowledged.emit()

    @Slot()
    def confirm_selected(self) -> None:
        alarm_id = self._require_selection("confirm")
        if alarm_id is not None:
            self._decide(alarm_id, "confirmed", "")

    @Slot()
    def dismiss_selected(self) -> None:
        alarm_id = self._require_selection("dismiss")
        if alarm_id is None:
            return
        dialog = DismissReasonDialog(self._alarm_text(alarm_id), self)
        dialog.accepted.connect(lambda: self._decide(alarm_id, "dismissed", dialog.reason()))
        self._open_dialog(dialog)

    @Slot()
    def note_selected(self) -> None:
        alarm_id = self._require_selection("add a note to")
        if alarm_id is None:
            return
        dialog = NoteDialog(self._alarm_text(alarm_id), self)
        dialog.accepted.connect(lambda: self._note(alarm_id, dialog.text()))
        self._open_dialog(dialog)

    @property
    def dialog(self):
        return self._dialog

    # -- model events ---------------------------------------------------------
    @Slot(object)
    def _on_event(self, event: AlarmEvent) -> None:
        self._upsert(event.alarm)
        if event.kind == "added" and self.review.status(event.alarm_id) == "new":  # not seen meanwhile
            self._raise(event.alarm_id)
        elif event.kind in ("confirmed", "dismissed", "acknowledged") and event.alarm_id in self._flashing:
            self._flashing.discard(event.alarm_id)
            self._paint_row(event.alarm_id, flash=False)
            if not self._flashing:
                self._flash_timer.stop()
                self.sound.stop()
        self._refresh_buttons()

    def _raise(self, alarm_id: int) -> None:
        self._flashing.add(alarm_id)
        self._flash_on = True
        self._paint_row(alarm_id, flash=True)
        if not self._flash_timer.isActive():
            self._flash_timer.start()
        self.sound.start()
        if self.sound.reason:
            self.setToolTip(f"Alarm sound: {self.sound.reason}; the system beep is used instead")
        self.alarm_raised.emit(alarm_id)

    def _upsert(self, alarm) -> None:
        row = self._row_of(alarm.alarm_id)
        if row is None:
            row = 0  # newest on top
            self.table.insertRow(row)
            for col in range(len(COLUMNS)):
                item = QTableWidgetItem()
                item.setData(Qt.UserRole, alarm.alarm_id)
                self.table.setItem(row, col, item)
        pixmap = snapshot_pixmap(alarm.snapshot)
        thumb = self.table.item(row, 0)
        if pixmap is not None:
            thumb.setData(Qt.DecorationRole, pixmap)
            thumb.setText("")
        else:
            thumb.setText("no picture")
        status = self.review.status(alarm.alarm_id)
        texts = (None, alarm.class_name.replace("_", " "), f"{alarm.confidence:.0%}", alarm.source,
                 describe_place(alarm), self.review.raised_utc(alarm.alarm_id).strftime("%H:%M:%S"), status)
        for col, text in enumerate(texts):
            if text is not None:
                self.table.item(row, col).setText(text)
        entry = self.review.decision(alarm.alarm_id)
        tip = f"{entry.kind} by {entry.reviewer} at {entry.t_utc:%H:%M:%S} UTC" + (f": {entry.text}" if entry.text else "") \
            if entry else ""
        self.table.item(row, COLUMNS.index("Status")).setToolTip(tip)
        self._paint_row(alarm.alarm_id, flash=alarm.alarm_id in self._flashing and self._flash_on)

    # -- flashing ---------------------------------------------------
    def _flash(self) -> None:
        self._flash_on = not self._flash_on
        for alarm_id in self._flashing:
            self._paint_row(alarm_id, flash=self._flash_on)

    def _paint_row(self, alarm_id: int, flash: bool) -> None:
        row = self._row_of(alarm_id)
        if row is None:
            return
        brush = QBrush(colour("alarm")) if flash else QBrush()
        status_col = COLUMNS.index("Status")
        status_text = QBrush(colour(_STATUS_COLOUR[self.review.status(alarm_id)]))
        for col in range(len(COLUMNS)):
            item = self.table.item(row, col)
            item.setBackground(brush)
            # white on the flash (red status text would vanish on red); palette text otherwise
            item.setForeground(QBrush(Qt.white) if flash else status_text if col == status_col else QBrush())

    # -- helpers --------------------------------------------------------------
    def _decide(self, alarm_id: int, decision: str, reason: str) -> None:
        try:
            self.review.decide(alarm_id, decision, self._reviewer_name(), reason)
        except (KeyError, ValueError) as exc:
            self._say(str(exc), "alarm")
            return
        self._say(f"alarm {alarm_id} {decision}", "ok")

    def _note(self, alarm_id: int, text: str) -> None:
        try:
            self.review.note(alarm_id, text, self._reviewer_name())
        except (KeyError, ValueError) as exc:
            self._say(str(exc), "alarm")
            return
        self._say(f"note added to alarm {alarm_id}", "ok")

    def _open_dialog(self, dialog) -> None:
        if self._dialog is not None:
            self._dialog.close()
        self._dialog = dialog
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        dialog.open()

    def _dialog_closed(self, dialog) -> None:
        if self._dialog is dialog:
            self._dialog = None
        dialog.deleteLater()

    def _require_selection(self, verb: str) -> int | None:
        alarm_id = self.selected_alarm_id()
        if alarm_id is None:
            self._say(f"select an alarm in the list to {verb} it", "warning")
        return alarm_id

    def _reviewer_name(self) -> str:
        try:
            return (self._reviewer() or "").strip()
        except Exception:  # noqa: BLE001 - a broken getter must not lose the click
            log.exception("reviewer name getter failed")
            return ""

    def _alarm_text(self, alarm_id: int) -> str:
        alarm = self.review.alarm(alarm_id)
        return f"alarm {alarm_id} ({alarm.class_name.replace('_', ' ')}, {describe_place(alarm)})"

    def _say(self, text: str, role: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour(role).name()}")

    def _refresh_buttons(self) -> None:
        selected = self.selected_alarm_id() is not None
        for key in ("confirm", "dismiss", "note"):
            self.buttons[key].setEnabled(selected)
        self.buttons["acknowledge"].setEnabled(bool(self._flashing) or bool(self.review.unacknowledged()))

    def _double_clicked(self, row: int, _col: int) -> None:
        alarm_id = self._alarm_id_at(row)
        if alarm_id is not None and getattr(self.review.alarm(alarm_id), "address", None) is not None:
            self.fly_to_requested.emit(alarm_id)
        elif alarm_id is not None:
            self._say(f"alarm {alarm_id} is not located on the hull yet", "warning")

    def _alarm_id_at(self, row: int) -> int | None:
        item = self.table.item(row, 0)
        return None if item is None else int(item.data(Qt.UserRole))

    def _row_of(self, alarm_id: int) -> int | None:
        for row in range(self.table.rowCount()):
            if self._alarm_id_at(row) == alarm_id:
                return row
        return None

    def closeEvent(self, event) -> None:
        self._unsubscribe()
        self._flash_timer.stop()
        self.sound.stop()
        if self._dialog is not None:
            self._dialog.close()
        super().closeEvent(event)
