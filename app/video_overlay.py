"""What the live video view shows, burned into BGR images for snapshots and burned-in
recordings: the telemetry band and the detection boxes. numpy + cv2 only (no Qt), so a
recorder thread can use it without a GUI."""
from __future__ import annotations

import cv2
import numpy as np

from vision.annotate import annotate

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
BAND_ALPHA = 0.6  # share of black in the band: white text stays legible over bright plating
TEXT_BGR = (255, 255, 255)
ADDRESS_BGR = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text_scale(width_px: int) -> tuple[float, int]:
    """Font scale and stroke for an image `width_px` wide: ~1/60 of the width per line."""
    scale = max(0.35, width_px / 1300.0)
    return scale, max(1, round(scale * 1.6))


def overlay_band_rect(shape, lines: list[str], *, corner: str = "top-left") -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the band burn_overlay darkens (x1, y1 exclusive), clipped to the image."""
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {', '.join(CORNERS)}, got {corner!r}")
    h, w = int(shape[0]), int(shape[1])
    if not lines:
        return (0, 0, 0, 0)
    scale, thick = _text_scale(w)
    sizes = [cv2.getTextSize(line, _FONT, scale, thick) for line in lines]
    pad = max(4, round(8 * scale))
    line_h = max(th + base for (_, th), base in sizes) + pad // 2
    band_w = min(w, max(tw for (tw, _), _ in sizes) + 2 * pad)
    band_h = min(h, line_h * len(lines) + pad)
    x0 = 0 if corner.endswith("left") else w - band_w
    y0 = 0 if corner.startswith("top") else h - band_h
    return (x0, y0, x0 + band_w, y0 + band_h)


def burn_overlay(image_bgr: np.ndarray, lines: list[str], *, corner: str = "top-left") -> np.ndarray:
    """A copy of `image_bgr` with `lines` (telemetry, UTC time) in white on a dark translucent
    band in `corner`; pixels outside the band are unchanged."""
    out = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR) if image_bgr.ndim == 2 else np.array(image_bgr, copy=True)
    x0, y0, x1, y1 = overlay_band_rect(out.shape, lines, corner=corner)
    if x1 <= x0 or y1 <= y0:
        return out
    band = out[y0:y1, x0:x1]
    band[:] = (band.astype(np.float32) * (1.0 - BAND_ALPHA)).astype(np.uint8)
    scale, thick = _text_scale(out.shape[1])
    pad = max(4, round(8 * scale))
    sizes = [cv2.getTextSize(line, _FONT, scale, thick) for line in lines]
    line_h = max(th + base for (_, th), base in sizes) + pad // 2
    for i, line in enumerate(lines):
        baseline_y = y0 + pad + i * line_h + sizes[i][0][1]
        # drawn into the band view so no stroke can leak outside it
        cv2.putText(band, line, (pad, baseline_y - y0), _FONT, scale, TEXT_BGR, thick, cv2.LINE_AA)
    return out


def draw_detections(image_bgr: np.ndarray, detections, class_names, *,
                    addresses: dict[int, str] | None = None) -> np.ndarray:
    """A copy of `image_bgr` with the boxes, track ids, classes and confidences (alarm classes
    in the alarm colour, vision.annotate's), and each tracked finding's hull-surface address
    under its box."""
    out = annotate(image_bgr, detections, class_names)
    if not addresses or detections.tracker_id is None:
        return out
    scale, thick = _text_scale(out.shape[1])
    scale *= 0.8
    h = out.shape[0]
    for i in range(len(detections)):
        text = addresses.get(int(detections.tracker_id[i]))
        if not text:
            continue
        x0, y0, _, y1 = (int(round(v)) for v in detections.xyxy[i])
        (tw, th), base = cv2.getTextSize(text, _FONT, scale, thick)
        # annotate puts the label under the box when there is no room above: go below it then
        below_label = y0 - th - base - 3 < 0
        ty = y1 + th + base + 4 + (th + base + 4 if below_label else 0)
        if ty + base > h:
            ty = max(th + base, y0 - th - base - 6)
        cv2.rectangle(out, (x0, ty - th - base), (x0 + tw, ty + base), (0, 0, 0), -1)
        cv2.putText(out, text, (x0, ty), _FONT, scale, ADDRESS_BGR, thick, cv2.LINE_AA)
    return out
