"""Before the dive: what the mission record is about (the vessel, the team, the plan
flown). The record is evidence, so the vessel must be named and its numbers must be
well-formed before recording can start; the reasons show inline, as they are typed.

The team's details are remembered (QSettings) for the next mission on the same vessel;
the notes are not, since they belong to one mission only.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QVBoxLayout, QWidget)

from recording.mission_record import MissionInfo

from .qt_theme import colour

MIN_BUTTON_PX = 40
SETTINGS_GROUP = "mission"
REMEMBERED = ("vessel_name", "imo", "mmsi", "berth", "operator", "team", "unit")
LABELS = {"vessel_name": "Vessel name *", "imo": "IMO number", "mmsi": "MMSI", "berth": "Berth / quay",
          "operator": "ROV operator", "team": "Team (comma-separated)", "unit": "Unit"}
PLACEHOLDERS = {"vessel_name": "e.g. MV Example", "imo": "7 digits, e.g. 9123456", "mmsi": "9 digits",
                "berth": "e.g. Waalhaven quay 3", "operator": "who flies the ROV",
                "team": "e.g. B. Tender, C. Analyst", "unit": "e.g. Port police dive team"}


def split_team(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


class QtRecordDialog(QDialog):
    def __init__(self, settings: QSettings | None = None, plan_path: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Start recording the mission")
        self.settings = settings
        self.plan_path = str(plan_path) if plan_path else None
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for key in REMEMBERED:
            edit = QLineEdit(self._remembered(key))
            edit.setObjectName(key)
            edit.setPlaceholderText(PLACEHOLDERS[key])
            edit.setMinimumHeight(MIN_BUTTON_PX)
            edit.textChanged.connect(self._validate)
            self.fields[key] = edit
            form.addRow(LABELS[key], edit)
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("notes")
        self.notes.setPlaceholderText("anything the record should say about this mission")
        self.notes.setMaximumHeight(90)
        form.addRow("Notes", self.notes)
        self.plan = QLineEdit(self.plan_path or "")
        self.plan.setObjectName("plan")
        self.plan.setReadOnly(True)
        self.plan.setPlaceholderText("no plan exported from the planner: the record names none")
        self.plan.setToolTip("the plan file last exported from the Planner; its SHA-256 goes into the record")
        form.addRow("Plan", self.plan)
        self.problems = QLabel("")
        self.problems.setObjectName("problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(f"color: {colour('alarm').name()}")
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText("Start recording")
        for b in self.buttons.buttons():
            b.setMinimumHeight(MIN_BUTTON_PX)
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problems)
        layout.addWidget(self.buttons)
        self.fields["vessel_name"].setFocus(Qt.OtherFocusReason)
        self._validate()

    def info(self) -> MissionInfo:
        text = {key: edit.text().strip() for key, edit in self.fields.items()}
        return MissionInfo(text["vessel_name"], imo=text["imo"], mmsi=text["mmsi"], berth=text["berth"],
                           operator=text["operator"], team=split_team(text["team"]), unit=text["unit"],
                           plan_path=self.plan_path, notes=self.notes.toPlainText().strip())

    def problem_list(self) -> list[str]:
        return self.info().problems()

    def _validate(self) -> bool:
        problems = self.problem_list()
        self.problems.setText("\n".join(problems))
        self.ok_button.setEnabled(not problems)
        self.ok_button.setToolTip("; ".join(problems))
        return not problems

    def _accept_if_valid(self) -> None:
        if not self._validate():
            return
        self._remember()
        self.accept()

    def _remembered(self, key: str) -> str:
        if self.settings is None:
            return ""
        return str(self.settings.value(f"{SETTINGS_GROUP}/{key}", "") or "")

    def _remember(self) -> None:
        if self.settings is None:
            return
        for key, edit in self.fields.items():
            self.settings.setValue(f"{SETTINGS_GROUP}/{key}", edit.text().strip())
