"""The two themes (high-contrast day for sunlight at the quay, dark for the van at night)
and the status colours every panel uses, so an alarm looks the same everywhere.

Colours that carry meaning (alarm, warning, ok, stale, coverage) are fixed across themes;
everything else comes from the palette, so widgets follow the theme by painting with
palette roles. Coverage colours are the map exports' (vision.hullmap.export), so the
screen, the 3D files and the report agree.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from vision.hullmap.export import BOTH, CAMERA_ONLY, COVERAGE_RGB, FINDING_RGB, SONAR_ONLY, UNSEEN

THEMES = ("day", "dark")
BASE_POINT_SIZE = 12  # read at arm's length on a 14" laptop
BIG_POINT_SIZE = 22  # depth, heading: the numbers the pilot reads at a glance

_STATUS = {
    "alarm": (220, 0, 0),
    "warning": (255, 170, 0),
    "ok": (0, 160, 60),
    "info": (0, 110, 220),
    "stale": (128, 128, 128),  # last known value of a lost link
    "coverage_unseen": COVERAGE_RGB[UNSEEN],
    "coverage_camera": COVERAGE_RGB[CAMERA_ONLY],
    "coverage_sonar": COVERAGE_RGB[SONAR_ONLY],
    "coverage_both": COVERAGE_RGB[BOTH],
    "finding_container": FINDING_RGB["parasitic_container"],
    "finding_anomaly": FINDING_RGB["niche_anomaly"],
}

_PALETTES = {
    # day: black on white, saturated accents; sunlight washes out greys
    "day": {QPalette.Window: (255, 255, 255), QPalette.WindowText: (0, 0, 0), QPalette.Base: (255, 255, 255),
            QPalette.AlternateBase: (235, 235, 235), QPalette.Text: (0, 0, 0), QPalette.Button: (230, 230, 230),
            QPalette.ButtonText: (0, 0, 0), QPalette.Highlight: (0, 90, 200), QPalette.HighlightedText: (255, 255, 255),
            QPalette.ToolTipBase: (255, 255, 220), QPalette.ToolTipText: (0, 0, 0), QPalette.PlaceholderText: (90, 90, 90)},
    "dark": {QPalette.Window: (30, 30, 32), QPalette.WindowText: (230, 230, 230), QPalette.Base: (20, 20, 22),
             QPalette.AlternateBase: (45, 45, 48), QPalette.Text: (230, 230, 230), QPalette.Button: (55, 55, 60),
             QPalette.ButtonText: (235, 235, 235), QPalette.Highlight: (60, 130, 230),
             QPalette.HighlightedText: (255, 255, 255), QPalette.ToolTipBase: (50, 50, 50),
             QPalette.ToolTipText: (240, 240, 240), QPalette.PlaceholderText: (150, 150, 150)},
}


def colour(role: str) -> QColor:
    """A status colour: alarm, warning, ok, info, stale, coverage_unseen, coverage_camera,
    coverage_sonar, coverage_both, finding_container, finding_anomaly."""
    return QColor(*_STATUS[role])


def finding_colour(class_name: str) -> QColor:
    from vision.hullmap.export import finding_rgb

    return QColor(*finding_rgb(class_name))


def palette(name: str) -> QPalette:
    if name not in _PALETTES:
        raise ValueError(f"unknown theme {name!r}: choose one of {', '.join(THEMES)}")
    pal = QPalette()
    for role, rgb in _PALETTES[name].items():
        pal.setColor(role, QColor(*rgb))
    pal.setColor(QPalette.Disabled, QPalette.Text, colour("stale"))
    pal.setColor(QPalette.Disabled, QPalette.WindowText, colour("stale"))
    pal.setColor(QPalette.Disabled, QPalette.ButtonText, colour("stale"))
    return pal


def apply_theme(app: QApplication, name: str) -> None:
    app.setStyle("Fusion")  # the same look on every platform, and it honours the palette fully
    app.setPalette(palette(name))
    font = QFont(app.font())
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)


def big_font(base: QFont | None = None, point_size: int = BIG_POINT_SIZE) -> QFont:
    font = QFont(base) if base is not None else QFont()
    font.setPointSize(point_size)
    font.setBold(True)
    return font
