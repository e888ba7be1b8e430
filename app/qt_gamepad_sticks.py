"""What the pilot's sticks are sending, drawn small: a move box (lateral, forward), a yaw
strip and a vertical bar. Values are the MANUAL_CONTROL ones actually sent, so a dot in
the centre while the pilot pushes the stick means the deadman is not held."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QWidget

from .gamepad_map import NEUTRAL_STICKS
from .qt_theme import colour

_BOX_PX = 90
_BAR_PX = 22
_GAP_PX = 12
_DOT_PX = 7
_CAPTION_PX = 20
_CAPTIONS = ("move", "yaw", "up")


class QtStickView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._sticks = NEUTRAL_STICKS
        self._live = False
        self.setMinimumSize(self.sizeHint())

    def sizeHint(self) -> QSize:
        return QSize(2 * _BOX_PX + _BAR_PX + 2 * _GAP_PX + 2, _BOX_PX + _CAPTION_PX + 2)

    def set_sticks(self, sticks: tuple[int, int, int, int], live: bool) -> None:
        if (sticks, live) != (self._sticks, self._live):
            self._sticks, self._live = sticks, live
            self.update()

    def dot_centres(self) -> dict[str, QPointF]:
        """Where each value is drawn (widget pixels): move, yaw, vertical."""
        x, y, z, r = self._sticks
        move, yaw, bar = self._rects()
        return {"move": QPointF(move.center().x() + y / 1000 * move.width() / 2,
                                move.center().y() - x / 1000 * move.height() / 2),
                "yaw": QPointF(yaw.center().x() + r / 1000 * yaw.width() / 2, yaw.center().y()),
                "vertical": QPointF(bar.center().x(), bar.center().y() - (z - 500) / 500 * bar.height() / 2)}

    def _rects(self) -> tuple[QRectF, QRectF, QRectF]:
        move = QRectF(1, 1, _BOX_PX - 2, _BOX_PX - 2)
        yaw = move.translated(_BOX_PX + _GAP_PX, 0)
        bar = QRectF(yaw.right() + _GAP_PX, 1, _BAR_PX, _BOX_PX - 2)
        return move, yaw, bar

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        pal = self.palette()
        frame = QPen(pal.color(QPalette.WindowText), 1)
        dot = colour("ok") if self._live else colour("stale")
        p.setPen(frame)
        p.setBrush(pal.color(QPalette.Base))
        for rect in self._rects():
            p.drawRect(rect)
        move, yaw, bar = self._rects()
        guide = QColor(pal.color(QPalette.WindowText))
        guide.setAlpha(70)
        p.setPen(QPen(guide, 1, Qt.DashLine))
        p.drawLine(QPointF(move.center().x(), move.top()), QPointF(move.center().x(), move.bottom()))
        p.drawLine(QPointF(move.left(), move.center().y()), QPointF(move.right(), move.center().y()))
        p.drawLine(QPointF(yaw.left(), yaw.center().y()), QPointF(yaw.right(), yaw.center().y()))
        p.drawLine(QPointF(bar.left(), bar.center().y()), QPointF(bar.right(), bar.center().y()))
        p.setPen(pal.color(QPalette.WindowText))
        for rect, caption in zip(self._rects(), _CAPTIONS):
            p.drawText(QRectF(rect.left() - _GAP_PX / 2, rect.bottom(), rect.width() + _GAP_PX, _CAPTION_PX),
                       Qt.AlignCenter, caption)
        p.setPen(Qt.NoPen)
        p.setBrush(dot)
        for centre in self.dot_centres().values():
            p.drawEllipse(centre, _DOT_PX, _DOT_PX)
        p.end()
