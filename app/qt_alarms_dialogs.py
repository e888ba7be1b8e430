"""The small dialogs of the alarms panel: why an alarm is dismissed, and a free note.

They open with open() (window-modal, non-blocking) so the panel's flashing, sound and the
rest of the GUI keep running while the reviewer types; the caller reads the text on
accepted."""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QPlainTextEdit,
                               QVBoxLayout, QWidget)

from .alarm_review import COMMON_DISMISS_REASONS

MIN_BUTTON_PX = 40
_CHOOSE = "choose a reason…"


def _big_buttons(box: QDialogButtonBox) -> None:
    for button in box.buttons():
        button.setMinimumHeight(MIN_BUTTON_PX)


class DismissReasonDialog(QDialog):
    """A common reason from a list, free text, or both; OK only once there is a reason."""

    def __init__(self, alarm_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Dismiss alarm")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Why is {alarm_text} not a finding?"))
        self.reasons = QComboBox()
        self.reasons.addItems([_CHOOSE, *COMMON_DISMISS_REASONS])
        self.reasons.setMinimumHeight(MIN_BUTTON_PX)
        layout.addWidget(self.reasons)
        self.details = QLineEdit()
        self.details.setPlaceholderText("other reason or details")
        self.details.setMinimumHeight(MIN_BUTTON_PX)
        layout.addWidget(self.details)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Dismiss alarm")
        _big_buttons(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reasons.currentIndexChanged.connect(self._refresh)
        self.details.textChanged.connect(self._refresh)
        self._refresh()

    def reason(self) -> str:
        parts = []
        if self.reasons.currentIndex() > 0:
            parts.append(self.reasons.currentText())
        if self.details.text().strip():
            parts.append(self.details.text().strip())
        return "; ".join(parts)

    def _refresh(self) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(self.reason()))


class NoteDialog(QDialog):
    def __init__(self, alarm_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Note on alarm")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Note on {alarm_text}:"))
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("what the diver saw, size, follow-up…")
        layout.addWidget(self.editor)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Add note")
        _big_buttons(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.editor.textChanged.connect(self._refresh)
        self._refresh()

    def text(self) -> str:
        return self.editor.toPlainText().strip()

    def _refresh(self) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(self.text()))
