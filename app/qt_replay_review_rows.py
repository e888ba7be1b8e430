"""The rows of the replay review list: every finding of a record, then every alarm no
finding holds (a record made without a hull model, or a sonar alarm raised without a pose,
has alarms but no findings). An alarm a finding holds is reviewed through that finding: a
decision on the finding is a decision on all its alarms (recording/report_findings.py).

A row is what the table shows and what a review decision is written on (target, ref_id).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from recording.report_findings import DECISION_KINDS, NOT_REVIEWED

from .qt_theme import colour

# "Decision" stays the sixth column: the finding rows kept their layout when alarms came in
COLUMNS = ("Id", "Class", "Confidence", "Time (UTC)", "Place on hull", "Decision", "Source")
_DECISION_ROLE = {"confirmed": "alarm", "dismissed": "stale"}


@dataclasses.dataclass(frozen=True)
class ReviewRow:
    target: str  # "finding" | "alarm": what a decision on this row is written on
    ref_id: int
    class_name: str
    confidence: float | None
    t_utc_s: float | None  # when the finding was first seen / the alarm was raised: "Show" goes there
    source: str  # "camera", "sonar", "camera, sonar"
    place: str
    decisions: tuple  # recording.report_findings.Decision, oldest first
    detail: str  # tooltip: how this row relates to the other kind
    size_m: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        return f"{self.target} {self.ref_id}"

    @property
    def decided(self):
        calls = [d for d in self.decisions if d.kind in DECISION_KINDS]
        return calls[-1] if calls else None

    @property
    def decision_text(self) -> str:
        d = self.decided
        return NOT_REVIEWED if d is None else f"{d.kind} by {d.reviewer}"


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


def utc_text(t_s: float | None) -> str:
    return "—" if t_s is None else dt.datetime.fromtimestamp(t_s, dt.timezone.utc).strftime("%H:%M:%S")


def finding_row(f) -> ReviewRow:
    held = ", ".join(f"alarm {a.alarm_id} ({a.source})" for a in f.alarms)
    detail = (f"{held}: part of this finding, reviewed here (a decision on the finding is a decision on "
              f"{'them' if len(f.alarms) > 1 else 'it'})" if held else "no alarm was raised for this finding")
    return ReviewRow("finding", int(f.finding_id), f.class_name, f.confidence, f.first_seen_utc_s,
                     ", ".join(f.sources) or "?", describe_place(f), tuple(f.decisions), detail, f.size_m)


def alarm_row(a) -> ReviewRow:
    return ReviewRow("alarm", int(a.alarm_id), a.class_name, a.confidence, a.t_utc_s, a.source,
                     "not placed (part of no finding)", tuple(a.decisions),
                     "this alarm never became a finding on the hull map: it is reviewed on its own")


def review_rows(findings, alarms) -> list[ReviewRow]:
    """Findings first, then the alarms none of them holds, each in id order."""
    held = {a.alarm_id for f in findings for a in f.alarms}
    return ([finding_row(f) for f in findings] +
            [alarm_row(a) for a in sorted(alarms, key=lambda a: a.alarm_id) if a.alarm_id not in held])


def read_rows(session) -> tuple[list, list[ReviewRow]]:
    """(findings, rows) of a ReplaySession, read from the record now (a task: this reads files)."""
    findings, alarms = session.reviewed()
    return findings, review_rows(findings, alarms)


def fill_table(table: QTableWidget, rows: list[ReviewRow]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        d = row.decided
        cells = (row.label, row.class_name, "—" if row.confidence is None else f"{row.confidence:.2f}",
                 utc_text(row.t_utc_s), row.place, row.decision_text, row.source)
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(row.detail)
            if COLUMNS[c] == "Decision" and d is not None and d.kind in _DECISION_ROLE:
                item.setForeground(colour(_DECISION_ROLE[d.kind]))
            table.setItem(r, c, item)


def history_text(row: ReviewRow | None, any_rows: bool) -> str:
    if row is None:
        return "select a finding or an alarm to review it" if any_rows else "no findings or alarms in this record"
    lines = [f"{d.kind} by {d.reviewer or d.author or '?'} at {utc_text(d.t_utc_s)}" + (f": {d.text}" if d.text else "")
             for d in row.decisions]
    return (f"{row.label.capitalize()} ({row.source}): " + ("; ".join(lines) if lines else "not reviewed yet") +
            f". {row.detail[0].upper()}{row.detail[1:]}.")
