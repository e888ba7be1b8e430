"""QtPlanResults: what a sweep plan is — its legs, totals, and the coverage the planner
predicts overall and per niche area — for the mission planner panel."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from .planner_session import leg_rows
from .qt_theme import big_font, colour

LEG_COLUMNS = ("#", "Kind", "Niche area / side", "Length m", "Duration s")
NICHE_COLUMNS = ("Niche area", "Coverage %")
NICHE_OK_PCT = 90.0  # a niche area seen less than this needs a look before diving
NICHE_POOR_PCT = 50.0
TABLE_MIN_HEIGHT_PX = 220


def coverage_role(pct: float) -> str:
    return "ok" if pct >= NICHE_OK_PCT else "warning" if pct >= NICHE_POOR_PCT else "alarm"


def duration_text(t_s: float) -> str:
    hours, rest = divmod(int(round(t_s)), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def _cell(text: str, number: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if number:
        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)  # numbers line up
    return item


class QtPlanResults(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.totals = QLabel("no plan yet")
        self.totals.setFont(big_font(self.font()))
        self.coverage = QLabel("")
        self.coverage.setFont(big_font(self.font()))
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.niche_table = QTableWidget(0, len(NICHE_COLUMNS))
        self.niche_table.setHorizontalHeaderLabels(NICHE_COLUMNS)
        self.legs_table = QTableWidget(0, len(LEG_COLUMNS))
        self.legs_table.setHorizontalHeaderLabels(LEG_COLUMNS)
        for t in (self.niche_table, self.legs_table):
            t.setEditTriggers(QTableWidget.NoEditTriggers)
            t.verticalHeader().setVisible(False)
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
            t.horizontalHeader().setStretchLastSection(True)
            t.setMinimumHeight(TABLE_MIN_HEIGHT_PX)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.totals, self.coverage, self.details, self.warnings, QLabel("Coverage per niche area"),
                  self.niche_table, QLabel("Legs, in flying order"), self.legs_table):
            layout.addWidget(w)

    def clear(self) -> None:
        self.totals.setText("no plan yet")
        for w in (self.coverage, self.details, self.warnings):
            w.setText("")
        self.niche_table.setRowCount(0)
        self.legs_table.setRowCount(0)

    def show_result(self, result, warnings=()) -> None:
        """result: mission_plans.planner.PlanResult."""
        plan = result.plan
        pred = plan.prediction
        self.totals.setText(f"{plan.length_m:.0f} m, {duration_text(plan.duration_s)}")
        self.coverage.setText(f"coverage {pred.overall_pct:.1f} %")
        self.coverage.setStyleSheet(f"color: {colour(coverage_role(pred.overall_pct)).name()};")
        area = sum(u.area_m2 for u in pred.uncovered)
        self.details.setText(f"{len(plan.legs)} legs at {plan.cruise_speed_m_s:g} m/s; "
                             f"{result.reachable_coverage_pct:.1f} % of what the vehicle can reach; "
                             f"uncovered patches: {len(pred.uncovered)} ({area:.1f} m2)")
        self.warnings.setText("\n".join(f"warning: {w}" for w in warnings))
        self.warnings.setStyleSheet(f"color: {colour('warning').name()};" if warnings else "")
        self.niche_table.setRowCount(len(pred.per_niche_pct))
        for r, (name, pct) in enumerate(pred.per_niche_pct):
            self.niche_table.setItem(r, 0, _cell(name))
            cell = _cell(f"{pct:.1f}", number=True)
            cell.setForeground(colour(coverage_role(pct)))
            self.niche_table.setItem(r, 1, cell)
        rows = leg_rows(plan)
        self.legs_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, (text, number) in enumerate(((str(row.order), True), (row.kind, False), (row.where, False),
                                                (f"{row.length_m:.1f}", True), (f"{row.duration_s:.0f}", True))):
                self.legs_table.setItem(r, c, _cell(text, number))
