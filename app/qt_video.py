"""The live camera view: the newest frame scaled to fit (letterboxed), the detector's boxes
over it, the alarm banner, the telemetry overlay and the link's health (fps, drops, stall).

Painting is cheap: each frame is wrapped once in a QImage over its own (read-only) buffer,
and everything else is drawn by QPainter at paint time. A timer repaints a few times a
second so the stall counter and the alarm banner's flashing run without new frames.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.qt_theme import big_font, colour
from app.video_overlay import burn_overlay, draw_detections
from vision.classes import ALARM_CLASSES, CLASSES

STALE_AFTER_S = 2.0  # no frame for this long: the picture is frozen, say so
RESULT_MAX_AGE_S = 1.0  # boxes from a result this much older than the shown frame would be misplaced
REPAINT_MS = 250
ALARM_PEN_PX = 4
BOX_PEN_PX = 2


def _qimage(image: np.ndarray) -> tuple[QImage, np.ndarray]:
    """A QImage over `image`'s buffer, and the array it reads (kept alive by the caller)."""
    a = image if image.flags.c_contiguous else np.ascontiguousarray(image)
    if a.ndim == 2:
        return QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format_Grayscale8), a
    return QImage(a.data, a.shape[1], a.shape[0], a.strides[0], QImage.Format_BGR888), a


class QtVideoView(QWidget):
    def __init__(self, parent: QWidget | None = None, *, class_names=CLASSES, stale_after_s: float = STALE_AFTER_S,
                 clock=time.monotonic) -> None:
        super().__init__(parent)
        self.class_names = tuple(class_names)
        self.stale_after_s = float(stale_after_s)
        self._clock = clock
        self._frame = None
        self._qimg: QImage | None = None
        self._buffer: np.ndarray | None = None  # the array _qimg reads
        self._frame_at_s = 0.0
        self._result = None
        self._addresses: dict[int, str] = {}
        self._overlay: list[str] = []
        self._overlay_visible = True
        self._recording = False
        self._stats: tuple[float, int, float] | None = None
        self._no_signal = "no video — waiting for the camera stream"
        self._flash = False
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(REPAINT_MS)

    # -- slots -----------------------------------------------------------------------
    def show_frame(self, frame) -> None:
        """A vision.video.source.VideoFrame; only the newest is kept."""
        self._frame = frame
        self._qimg, self._buffer = _qimage(frame.image)
        self._frame_at_s = self._clock()
        self._no_signal = ""
        self.update()

    def show_result(self, result) -> None:
        """A vision.detect.pipeline.DetectionResult (or None to clear the boxes)."""
        self._result = result
        self.update()

    def set_addresses(self, addresses: dict[int, str]) -> None:
        """Hull-surface address of each finding, by track id, drawn under its box."""
        self._addresses = dict(addresses)
        self.update()

    def set_overlay(self, lines) -> None:
        self._overlay = [str(line) for line in lines]
        self.update()

    def set_overlay_visible(self, visible: bool) -> None:
        self._overlay_visible = bool(visible)
        self.update()

    def set_recording(self, recording: bool) -> None:
        self._recording = bool(recording)
        self.update()

    def set_stats(self, fps: float, dropped: int, detect_fps: float) -> None:
        self._stats = (float(fps), int(dropped), float(detect_fps))
        self.update()

    def set_no_signal(self, text: str) -> None:
        """Show `text` instead of the picture (the stream is gone); "" returns to the picture."""
        self._no_signal = str(text)
        if text:
            self._frame = self._qimg = self._buffer = None
        self.update()

    # -- state the pilot sees ----------------------------------------------------------
    def stalled_s(self) -> float | None:
        """Seconds since the last frame when that is longer than stale_after_s, else None."""
        if self._frame is None:
            return None
        age = self._clock() - self._frame_at_s
        return age if age > self.stale_after_s else None

    def status_text(self) -> str:
        """The message over the picture ("" when the picture is live)."""
        if self._frame is None:
            return self._no_signal or "no video"
        stalled = self.stalled_s()
        return f"video stalled {stalled:.1f} s" if stalled is not None else ""

    def drawn_detections(self):
        """The detections drawn over the current frame, in frame pixels (None: none drawn)."""
        r, f = self._result, self._frame
        if r is None or f is None or len(r.detections) == 0:
            return None
        if f.t_capture_s - r.frame.t_s > RESULT_MAX_AGE_S:
            return None
        rh, rw = r.frame.image.shape[:2]
        det = r.detections
        if (rw, rh) != (f.width, f.height):  # detected on a scaled copy: bring the boxes to this frame
            from vision.detections import Detections

            s = np.array([f.width / rw, f.height / rh] * 2, np.float32)
            det = Detections(det.xyxy * s, det.confidence, det.class_id, det.tracker_id)
        return det

    def alarm_in_view(self) -> str | None:
        """The class of a tracked alarm-class detection on screen (the banner's), or None."""
        det = self.drawn_detections()
        if det is None:
            return None
        for i in range(len(det)):
            name = self.class_names[int(det.class_id[i])]
            tracked = det.tracker_id is None or det.tracker_id[i] > 0
            if name in ALARM_CLASSES and tracked:
                return name
        return None

    def image_rect(self) -> QRectF:
        """Where the frame is painted in widget coordinates (aspect kept, letterboxed)."""
        if self._frame is None:
            return QRectF()
        fw, fh = self._frame.width, self._frame.height
        s = min(self.width() / fw, self.height() / fh)
        w, h = fw * s, fh * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def snapshot(self) -> np.ndarray | None:
        """The current frame with boxes and the overlay burned in (BGR), or None without one."""
        if self._frame is None:
            return None
        img = self._frame.image
        det = self.drawn_detections()
        if det is not None:
            img = draw_detections(img, det, self.class_names, addresses=self._addresses)
        if self._overlay and self._overlay_visible:
            img = burn_overlay(img, self._overlay)
        return np.array(img, copy=True)

    def closeEvent(self, event) -> None:
        self._timer.stop()
        super().closeEvent(event)

    # -- painting --------------------------------------------------------------------
    def _tick(self) -> None:
        self._flash = not self._flash
        if self._frame is not None or self._stats is not None:
            self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        small = QFont(self.font())
        if self._frame is None:
            p.setPen(colour("stale"))
            p.setFont(small)
            p.drawText(self.rect().adjusted(20, 20, -20, -20), Qt.AlignCenter | Qt.TextWordWrap, self.status_text())
        else:
            target = self.image_rect()
            p.setRenderHint(QPainter.SmoothPixmapTransform, True)
            p.drawImage(target, self._qimg)
            self._paint_boxes(p, target)
            stalled = self.stalled_s()
            if stalled is not None:
                self._paint_stall(p, target, stalled)
        self._paint_overlay(p)
        self._paint_corner(p)
        p.end()

    def _paint_boxes(self, p: QPainter, target: QRectF) -> None:
        det = self.drawn_detections()
        if det is None:
            return
        s = target.width() / self._frame.width
        fm = QFontMetrics(self.font())
        for i in range(len(det)):
            name = self.class_names[int(det.class_id[i])]
            alarm = name in ALARM_CLASSES
            c = colour("alarm") if alarm else colour("info")
            x0, y0, x1, y1 = (float(v) for v in det.xyxy[i])
            box = QRectF(target.x() + x0 * s, target.y() + y0 * s, (x1 - x0) * s, (y1 - y0) * s)
            p.setRenderHint(QPainter.Antialiasing, False)
            pen = QPen(c, ALARM_PEN_PX if alarm else BOX_PEN_PX)
            pen.setJoinStyle(Qt.MiterJoin)
            p.setPen(pen)
            p.setBrush(Qt.NoBrush)
            p.drawRect(box)
            tid = None if det.tracker_id is None else int(det.tracker_id[i])
            label = f"{name}{f' #{tid}' if tid is not None and tid > 0 else ''} {det.confidence[i]:.2f}"
            self._label(p, fm, label, box.x(), box.y() - fm.height() - 2 if box.y() > fm.height() + 2
                        else box.bottom() + 2, c)
            address = self._addresses.get(tid) if tid is not None else None
            if address:
                self._label(p, fm, address, box.x(), box.bottom() + 2 + (fm.height() + 2) * (box.y() <= fm.height() + 2),
                            QColor(0, 0, 0, 190))
        alarm = self.alarm_in_view()
        if alarm:
            band = QRectF(target.x(), target.bottom() - fm.height() * 2.2, target.width(), fm.height() * 2.2)
            red = colour("alarm")
            p.fillRect(band, red if self._flash else red.darker(140))
            f = QFont(self.font())
            f.setBold(True)
            f.setPointSizeF(self.font().pointSizeF() * 1.3)
            p.setFont(f)
            p.setPen(QColor(255, 255, 255))
            p.drawText(band, Qt.AlignCenter, f"ALARM: {alarm}")
            p.setFont(self.font())

    def _label(self, p: QPainter, fm: QFontMetrics, text: str, x: float, y: float, bg: QColor) -> None:
        r = QRectF(x, y, fm.horizontalAdvance(text) + 8, fm.height() + 2)
        p.fillRect(r, bg)
        p.setPen(QColor(255, 255, 255))
        p.drawText(r, Qt.AlignCenter, text)

    def _paint_stall(self, p: QPainter, target: QRectF, stalled: float) -> None:
        p.fillRect(target, QColor(0, 0, 0, 150))  # dim the frozen picture so nobody steers by it
        font = big_font(self.font())
        fm = QFontMetrics(font)
        text = f"video stalled {stalled:.1f} s"
        band = QRectF(0, 0, fm.horizontalAdvance(text) + 32, fm.height() + 16)
        band.moveCenter(target.center())
        p.fillRect(band, QColor(0, 0, 0, 200))
        p.setPen(colour("stale"))
        p.setFont(font)
        p.drawText(band, Qt.AlignCenter, text)
        p.setFont(self.font())

    def _paint_overlay(self, p: QPainter) -> None:
        if not (self._overlay and self._overlay_visible) or self._frame is None:
            return
        fm = QFontMetrics(self.font())
        target = self.image_rect()
        w = max(fm.horizontalAdvance(line) for line in self._overlay) + 16
        band = QRectF(target.x(), target.y(), min(w, target.width()), fm.height() * len(self._overlay) + 12)
        p.fillRect(band, QColor(0, 0, 0, 150))
        p.setPen(QColor(255, 255, 255))
        for i, line in enumerate(self._overlay):
            p.drawText(QRectF(band.x() + 8, band.y() + 6 + i * fm.height(), w, fm.height()),
                       Qt.AlignLeft | Qt.AlignVCenter, line)

    def _paint_corner(self, p: QPainter) -> None:
        fm = QFontMetrics(self.font())
        y = 6.0
        right = self.width() - 8.0
        if self._stats is not None:
            fps, dropped, det_fps = self._stats
            text = f"{fps:.1f} fps  dropped {dropped}  detect {det_fps:.1f} fps"
            r = QRectF(right - fm.horizontalAdvance(text) - 12, y, fm.horizontalAdvance(text) + 12, fm.height() + 4)
            p.fillRect(r, QColor(0, 0, 0, 150))
            p.setPen(QColor(255, 255, 255))
            p.drawText(r, Qt.AlignCenter, text)
            y += r.height() + 4
        if self._recording:
            text_w = fm.horizontalAdvance("REC")
            d = fm.height() * 0.7
            p.setRenderHint(QPainter.Antialiasing, True)
            p.setBrush(colour("alarm"))
            p.setPen(Qt.NoPen)
            p.drawEllipse(QRectF(right - text_w - d - 6, y + (fm.height() - d) / 2, d, d))
            p.setPen(colour("alarm"))
            p.drawText(QRectF(right - text_w, y, text_w, fm.height()), Qt.AlignCenter, "REC")
