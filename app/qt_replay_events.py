"""The replay's events list: the log's mode changes, arming, status texts, failsafes and
link gaps, and a record's alarms, findings and warnings, in time order. The row of the
latest event at the replay time is highlighted; a click seeks to an event."""
from __future__ import annotations

import bisect
import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from .qt_theme import colour

_ROLES = {"alarm": "alarm", "finding": "finding_anomaly", "warning": "warning", "failsafe": "alarm",
          "leak": "alarm", "link_gap": "warning", "armed": "alarm"}


class EventRow:
    """One line of the list (t_utc_s, kind, text)."""

    __slots__ = ("t_utc_s", "kind", "text")

    def __init__(self, t_utc_s: float, kind: str, text: str) -> None:
        self.t_utc_s, self.kind, self.text = float(t_utc_s), str(kind), str(text)


def rows_of(telemetry_events=(), marks=()) -> list[EventRow]:
    """The telemetry events (all of them), and the record's alarms, findings and warnings
    (telemetry events are already there as themselves)."""
    rows = [EventRow(e.t_utc_s, e.kind, e.text) for e in telemetry_events]
    rows += [EventRow(m.t_utc_s, m.kind, m.label) for m in marks if m.kind in ("alarm", "finding", "warning")]
    return sorted(rows, key=lambda r: r.t_utc_s)


class QtEventList(QListWidget):
    seek_requested = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._times: list[float] = []
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setUniformItemSizes(True)
        self.itemClicked.connect(lambda item: self.seek_requested.emit(float(item.data(Qt.UserRole))))

    def set_events(self, rows) -> None:
        self.clear()
        self._times = [r.t_utc_s for r in rows]
        for r in rows:
            clock = dt.datetime.fromtimestamp(r.t_utc_s, dt.timezone.utc).strftime("%H:%M:%S")
            item = QListWidgetItem(f"{clock}  {r.kind:<10} {r.text}")
            item.setData(Qt.UserRole, r.t_utc_s)
            if r.kind in _ROLES:
                item.setForeground(QBrush(colour(_ROLES[r.kind])))
            self.addItem(item)
        if not rows:
            self.addItem(QListWidgetItem("no events in this log"))

    def texts(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def set_time(self, t_s: float) -> None:
        """Highlight the latest event at or before t_s (without stealing the reviewer's scroll
        when it has not changed)."""
        i = bisect.bisect_right(self._times, t_s) - 1
        if i != self.currentRow() and i >= 0:
            self.setCurrentRow(i)
        elif i < 0 and self.currentRow() >= 0:
            self.setCurrentRow(-1)
