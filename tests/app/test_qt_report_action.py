"""Mission > Inspection report…: asks for a record folder (starting in the records folder),
writes the report in a task while the window stays responsive, then offers to open the PDF."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from app.main_window import MainWindow
from app.station import Station, StationConfig
from tests.recording.test_report import make_record


@pytest.fixture(autouse=True)
def _app_look_restored(qapp):
    """The window themes the whole application: hand the next module the look it had."""
    palette, font, style = qapp.palette(), qapp.font(), qapp.style().name()
    yield
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)


def _action(window, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Mission")
    return next(a for a in menu.actions() if a.text() == text)


@pytest.mark.timeout(120)
def test_the_mission_menu_writes_the_report_and_offers_the_pdf(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("HULLWATCH_KEY_DIR", str(tmp_path / "keys"))
    records = tmp_path / "records"
    record = make_record(records).folder
    asked = []

    def choose(parent, caption, start_dir, *args):
        asked.append(start_dir)
        return str(record)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(choose))
    opened = []
    monkeypatch.setattr("PySide6.QtGui.QDesktopServices.openUrl", staticmethod(lambda url: opened.append(url)))
    window = MainWindow(Station(StationConfig(records_dir=records)), QSettings(str(tmp_path / "hw.ini"),
                                                                               QSettings.IniFormat))
    try:
        _action(window, "Inspection report…").trigger()
        assert asked == [str(records)]
        # a task: the result can only come back through the event loop, never inside trigger()
        assert getattr(window, "report_box", None) is None
        qtbot.waitUntil(lambda: getattr(window, "report_box", None) is not None, timeout=60_000)
        pdf = records / f"{record.name}_report.pdf"
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.with_suffix(".csv").exists()
        assert str(pdf) in window.report_box.text()
        window.open_report_button.click()
        assert [Path(u.toLocalFile()) for u in opened] == [pdf]
    finally:
        window.close()
        qtbot.waitUntil(lambda: window._closed_down, timeout=60_000)
