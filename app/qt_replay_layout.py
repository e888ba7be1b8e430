"""Where the replay window's panels go. A record: the video in the middle, instruments on the
left, sonar and the findings review (tabbed with the events) on the right, the 3D map and
the track/depth plots in a strip under the video, the timeline across the bottom. A bare
telemetry log: no video, sonar, map or review; the track and depth take the middle."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QToolBar, QVBoxLayout, QWidget

NO_VIDEO = "no video in this log"
INSTRUMENTS_MIN_PX = 360


def _dock(window: QMainWindow, key: str, title: str, widget: QWidget, area) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"replay_{key}")
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def arrange(w) -> None:
    """Docks and the timeline toolbar of a QtReplayWindow `w` (its panels already made)."""
    w.depth_box = QWidget()
    lay = QVBoxLayout(w.depth_box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(w.depth, 1)
    lay.addWidget(w.modes)
    scroll = QScrollArea()
    scroll.setWidget(w.instruments)
    scroll.setWidgetResizable(True)
    scroll.setMinimumWidth(INSTRUMENTS_MIN_PX)
    L, R, B = Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea, Qt.BottomDockWidgetArea
    w.setCorner(Qt.BottomLeftCorner, L)
    w.setCorner(Qt.BottomRightCorner, R)
    w.docks = {k: _dock(w, k, t, widget, a) for k, t, widget, a in (
        ("instruments", "Instruments", scroll, L), ("sonar", "Sonar", w.sonar, R),
        ("findings", "Findings review", w.review, R), ("events", "Events", w.events, R),
        ("hull3d", "Hull map 3D", w.hull_view, B), ("track", "Track", w.track, B),
        ("depth", "Depth and modes", w.depth_box, B))}
    w.tabifyDockWidget(w.docks["findings"], w.docks["events"])
    w.docks["findings"].raise_()
    w.splitDockWidget(w.docks["hull3d"], w.docks["track"], Qt.Horizontal)
    w.tabifyDockWidget(w.docks["track"], w.docks["depth"])
    bar = QToolBar("Timeline", w)
    bar.setObjectName("replay_timeline")
    bar.setMovable(False)
    bar.addWidget(w.timeline)
    w.addToolBar(Qt.BottomToolBarArea, bar)
    w.align_bar = QToolBar("Align video", w)  # only for a log's video recorded apart (layout_for)
    w.align_bar.setObjectName("replay_align_video")
    w.align_bar.addWidget(w.align)
    w.addToolBar(Qt.TopToolBarArea, w.align_bar)
    w.align_bar.hide()


def layout_for(w, s) -> None:
    """Show what session `s` has; a log without video gets its plots in the middle."""
    if not s.has_video:
        w.video.set_no_signal(NO_VIDEO)
        w.plots_page.addWidget(w.track)  # takes them out of their docks
        w.plots_page.addWidget(w.depth_box)
        w.plots_page.setSizes([1, 2])
    else:
        w.docks["track"].setWidget(w.track)
        w.docks["depth"].setWidget(w.depth_box)
    w.center.setCurrentIndex(0 if s.has_video else 1)
    for key, shown in (("sonar", s.has_sonar), ("hull3d", s.is_record), ("findings", s.is_record),
                       ("track", s.has_video), ("depth", s.has_video)):
        w.docks[key].setVisible(shown)
    w.docks["events" if not s.is_record else "findings"].raise_()
    w.align_bar.setVisible(s.external_video is not None)
    if s.external_video is not None:
        w.align.set_video(s.external_video)
    QTimer.singleShot(0, w.default_sizes)  # dock sizes take once the window is laid out


def default_sizes(w) -> None:
    # the picture gets the room: the map and plots a strip under it, the side columns narrow
    w.resizeDocks([w.docks["hull3d"], w.docks["track"]], [260, 260], Qt.Vertical)
    w.resizeDocks([w.docks["instruments"], w.docks["sonar"]], [INSTRUMENTS_MIN_PX, 340], Qt.Horizontal)
    w.resizeDocks([w.docks["sonar"], w.docks["findings"]], [300, 400], Qt.Vertical)
