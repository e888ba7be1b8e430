"""QtNicheEditor: the niche areas of the hull as an editable table (name, kind, side, box
centre and size in the hull frame H, metres). Apply validates every row with
hull.niche.NicheArea's own rules and reports the first problem inline, naming the row and
the field; only a valid set is kept and announced (areas_changed). add_area_at() adds a
row at a point picked on the hull (the 3D view's "Place niche area"), to be checked and
applied like any other edit."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from hull.niche import SIDES, NicheArea, NicheAreaError, NicheKind

from .qt_theme import colour

COLUMNS = ("Name", "Kind", "Side", "x m", "y m", "z m", "Width m", "Height m", "Depth m")
NUMBER_FIELDS = ("center x", "center y", "center z", "width", "height", "depth")
BUTTON_MIN_HEIGHT_PX = 40
TABLE_MIN_HEIGHT_PX = 220
# the outward normal a new area gets from its side (an existing area keeps its own)
SIDE_NORMALS = {"port": (0.0, 1.0, 0.0), "starboard": (0.0, -1.0, 0.0), "bottom": (0.0, 0.0, -1.0),
                "centreline": (0.0, 1.0, 0.0)}
_NORMAL_ROLE = Qt.UserRole + 1
BOTTOM_NORMAL_Z = 0.7  # a picked normal pointing down more steeply than this is on the bottom (~45 deg)


def area_from_fields(row: int, name: str, kind: str, side: str, numbers: list[str], normal_h=None) -> NicheArea:
    """One table row as a NicheArea; ValueError names the row and the field."""
    label = f"row {row + 1} ({name or 'no name'})"
    if not name.strip():
        raise ValueError(f"{label}: name: give the niche area a name")
    values = []
    for field, text in zip(NUMBER_FIELDS, numbers):
        try:
            values.append(float(text))
        except ValueError:
            raise ValueError(f"{label}: {field}: {text!r} is not a number (metres)") from None
        if not np.isfinite(values[-1]):
            raise ValueError(f"{label}: {field}: must be a finite number of metres")
    cx, cy, cz, width, height, depth = values
    normal = normal_h if normal_h is not None else SIDE_NORMALS.get(side, (0.0, 1.0, 0.0))
    try:
        return NicheArea(name.strip(), kind, (cx, cy, cz), normal, (width, height), depth, side)
    except NicheAreaError as exc:
        raise ValueError(f"{label}: {exc.field}: {exc.detail}") from None


class QtNicheEditor(QWidget):
    areas_changed = Signal(object)  # tuple[NicheArea, ...], valid

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._areas: tuple[NicheArea, ...] = ()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setMinimumHeight(TABLE_MIN_HEIGHT_PX)
        self.table.cellChanged.connect(self._edited)
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.apply_button = QPushButton("Apply")
        for b in (self.add_button, self.remove_button, self.apply_button):
            b.setMinimumHeight(BUTTON_MIN_HEIGHT_PX)
        self.add_button.clicked.connect(self.add_area)
        self.remove_button.clicked.connect(self.remove_selected)
        self.apply_button.clicked.connect(self.apply)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.apply_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    # ---- in -------------------------------------------------------------------------
    def set_areas(self, areas) -> None:
        """Show these (valid) areas; the previous edits are dropped."""
        self._areas = tuple(areas)
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for area in self._areas:
            self._append_row(area.name, area.kind.value, area.side, [*area.center_h, *area.size_m, area.depth_m],
                             tuple(float(x) for x in area.normal_h))
        self.table.blockSignals(False)
        self._say("", None)

    def areas(self) -> tuple[NicheArea, ...]:
        """The last valid set (what Apply accepted or set_areas gave)."""
        return self._areas

    # ---- editing ----------------------------------------------------------------------
    @Slot()
    def add_area(self) -> None:
        self.table.blockSignals(True)
        self._append_row(self._free_name(), NicheKind.SEA_CHEST.value, "port", [0.0, 0.0, 0.0, 1.0, 1.0, 0.0], None)
        self.table.blockSignals(False)
        self._say("new area added: set its box, then Apply", "info")

    def add_area_at(self, center_h, normal_h, kind: str = NicheKind.SEA_CHEST.value,
                    size_m=(1.0, 1.0, 0.6)) -> int:
        """A new row centred at center_h on the hull with its outward normal_h (H, m),
        size_m = (width, height, depth); selected for editing, kept only once applied.
        Returns the row. The side follows the normal: bottom when it points down."""
        n = np.asarray(normal_h, float).reshape(3)
        side = "bottom" if n[2] < -BOTTOM_NORMAL_Z else ("port" if n[1] >= 0 else "starboard")
        kind = NicheKind(kind).value  # an unknown kind is the caller's bug, not the user's
        self.table.blockSignals(True)
        self._append_row(self._free_name(), kind, side, [*np.asarray(center_h, float).reshape(3), *size_m],
                         tuple(float(x) for x in n))
        self.table.blockSignals(False)
        r = self.table.rowCount() - 1
        self.table.selectRow(r)
        self.table.scrollToItem(self.table.item(r, 0))
        self.table.setFocus()
        try:
            area_from_fields(r, self._text(r, 0), kind, side, [self._text(r, c) for c in range(3, 9)],
                             self.table.item(r, 0).data(_NORMAL_ROLE))
        except ValueError as exc:
            self._say(f"{exc}: fix it, then Apply", "alarm")
            return r
        self._say(f"{self._text(r, 0)} placed on the hull at x {self._text(r, 3)} m, y {self._text(r, 4)} m, "
                  f"z {self._text(r, 5)} m: check its kind and box, then Apply", "info")
        return r

    @Slot()
    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            self.table.removeRow(r)
        if rows:
            self._say(f"removed {len(rows)} area(s): Apply to keep the change", "info")

    @Slot()
    def apply(self) -> tuple[NicheArea, ...] | None:
        """Validate every row; keep and announce the set when all are valid."""
        try:
            areas = self.validated()
        except ValueError as exc:
            self._say(f"{exc} — fix it and Apply again (the previous niche areas are kept)", "alarm")
            return None
        self._areas = areas
        self._say(f"{len(areas)} niche area(s) applied", "ok")
        self.areas_changed.emit(areas)
        return areas

    def validated(self) -> tuple[NicheArea, ...]:
        out, seen = [], {}
        for r in range(self.table.rowCount()):
            area = area_from_fields(r, self._text(r, 0), self.table.cellWidget(r, 1).currentText(),
                                    self.table.cellWidget(r, 2).currentText(),
                                    [self._text(r, c) for c in range(3, 9)], self.table.item(r, 0).data(_NORMAL_ROLE))
            if area.name in seen:
                raise ValueError(f"row {r + 1} ({area.name}): name: also used in row {seen[area.name] + 1}")
            seen[area.name] = r
            out.append(area)
        return tuple(out)

    # ---- helpers ----------------------------------------------------------------------
    def _free_name(self) -> str:
        names = {self._text(r, 0) for r in range(self.table.rowCount())}
        n = self.table.rowCount() + 1
        while f"niche {n}" in names:
            n += 1
        return f"niche {n}"

    def _append_row(self, name, kind, side, numbers, normal) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        item = QTableWidgetItem(name)
        item.setData(_NORMAL_ROLE, normal)
        self.table.setItem(r, 0, item)
        for col, choices, value in ((1, [k.value for k in NicheKind], kind), (2, list(SIDES), side)):
            box = QComboBox()
            box.addItems(choices)
            box.setCurrentText(value)
            box.currentTextChanged.connect(self._edited)
            self.table.setCellWidget(r, col, box)
        for c, v in enumerate(numbers, 3):
            self.table.setItem(r, c, QTableWidgetItem(f"{round(float(v), 3):g}"))  # to the millimetre

    def _text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text().strip() if item is not None else ""

    @Slot()
    def _edited(self, *_) -> None:
        self._say("edited: Apply to use the change", "warning")

    def _say(self, text: str, role: str | None) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("" if role is None else f"color: {colour(role).name()};")
