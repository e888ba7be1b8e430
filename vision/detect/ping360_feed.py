"""Ping360 (mechanically scanning sonar) sector scans into the live detection pipeline.

A sector scan (vision.sonar.ping360_client.Ping360Scan: one row of samples per head
angle) becomes a multibeam-like polar image, a vision.sonar.SonarPing, so the same fan
view (vision.sonar.fan.fan_image), detector and fan -> range/bearing mapping
(sonar_geometry) serve both sonars:

  * bearings: head angle in gradians (400 a turn, 0 = vehicle forward, growing towards
    starboard) -> degrees + to starboard in (-180, +180], increasing. A sector across 0
    grad (e.g. 350..50 grad) comes out contiguous (-45..+45 deg); one swept backwards is
    reordered;
  * intensities: transposed to [range_row, beam];
  * ranges: row i at ``i * range_resolution_m`` (the SonarPing convention). The Ping360's
    sample i covers ``[i, i + 1) * range_resolution_m`` and the client quotes its centre,
    ``(i + 0.5) * range_resolution_m``: the fan therefore draws each sample at its near
    edge, half a sample (e.g. 8 mm at 10 m over 600 samples) nearer than its centre, well
    under a fan pixel. The rows are not resampled, so every echo keeps its height.

fan_image draws one sector whose bearings increase within (-180, +180] deg (any width up
to that, apex moved up when the sector is wider than 180 deg), so a full-turn scan and a
sector across astern (200 grad) are refused with a ValueError that says what to scan.

Live use: `Ping360SectorReader.read(timeout_s)` pings a configured sector angle by angle
(back and forth, as the head sweeps a sector) and returns each completed sector scan;
it is the `read` of the station's SourceFeeder. `Ping360Feeder` puts the two together:

    client = Ping360Client(host).connect()
    client.configure(range_m=10, number_of_samples=600)
    feeder = Ping360Feeder(client, pipeline, start_deg=-60, stop_deg=60).start()
    ...
    feeder.close()   # also closes the client: that cuts short a ping waiting for an answer
"""
from __future__ import annotations

import logging
import math
import threading
import time

import numpy as np

from .feeder import SourceFeeder
from .pipeline import FrameIn

log = logging.getLogger(__name__)

__all__ = ["Ping360Feeder", "Ping360SectorReader", "ping360_frame_in", "ping360_scan_to_ping", "sector_angles_grad"]

GRADIANS_PER_TURN = 400
DEG_PER_GRAD = 360.0 / GRADIANS_PER_TURN
_HALF_TURN = GRADIANS_PER_TURN // 2
_FIX = ("scan a sector that does not reach astern instead, e.g. the forward one: "
        "Ping360Client.scan(-67, 67) or Ping360Feeder(start_deg=-60, stop_deg=60) for -60..+60 deg")


def _wrap_grad(a):
    """Gradians into (-200, 200]."""
    return _HALF_TURN - np.mod(_HALF_TURN - np.asarray(a, dtype=np.int64), GRADIANS_PER_TURN)


def _sector_layout(angles_grad) -> tuple[np.ndarray, np.ndarray]:
    """(bearings_deg increasing, order): order[k] is the scan row drawn as beam k.

    Raises ValueError when the angles are not a sector fan_image can draw."""
    a = np.asarray(angles_grad)
    if a.ndim != 1:
        raise ValueError(f"Ping360 scan angles must be one list of angles, got shape {a.shape}")
    n = len(a)
    if n < 2:
        raise ValueError(f"a Ping360 scan needs at least 2 angles to be drawn as a fan, got {n}: "
                         "scan a sector of several angles, e.g. Ping360Client.scan(-67, 67) for -60..+60 deg")
    if not np.all(np.isfinite(a.astype(np.float64))) or not np.all(a == np.round(a)):
        raise ValueError(f"Ping360 scan angles must be whole gradians, got {a.tolist()[:8]}...")
    steps = _wrap_grad(np.diff(a.astype(np.int64)))
    if np.any(steps == 0):
        k = int(np.flatnonzero(steps == 0)[0])
        raise ValueError(f"Ping360 scan repeats angle {int(a[k])} grad (rows {k} and {k + 1}): a fan needs each "
                         "angle once; rescan the sector with a fixed step_grad > 0")
    if np.any(steps != steps[0]):
        k = int(np.flatnonzero(steps != steps[0])[0])
        raise ValueError(f"Ping360 scan angles are not evenly stepped: steps of {sorted(set(steps.tolist()))} grad "
                         f"(first odd one {int(a[k])} -> {int(a[k + 1])} grad); a fan needs one fixed step. "
                         "Rescan the sector with a fixed step_grad (a scan with missing or extra angles cannot "
                         "be drawn)")
    step = int(steps[0])
    if n * abs(step) >= GRADIANS_PER_TURN:
        raise ValueError(f"a full-turn Ping360 scan ({n} angles x {abs(step)} grad = {n * abs(step)} grad, a turn "
                         f"is {GRADIANS_PER_TURN}) cannot be drawn as a fan: fan_image draws one sector whose "
                         f"bearings increase within (-180, +180] deg; {_FIX}")
    u = int(_wrap_grad(a[0])) + step * np.arange(n, dtype=np.int64)  # unwrapped, first angle in (-200, 200]
    if u.min() <= -_HALF_TURN or u.max() > _HALF_TURN:
        lo, hi = (int(a[0]), int(a[-1])) if step > 0 else (int(a[-1]), int(a[0]))
        raise ValueError(f"the Ping360 sector {lo}..{hi} grad crosses astern (200 grad = 180 deg): fan_image draws "
                         "bearings that increase within (-180, +180] deg and cannot draw a sector across astern; "
                         f"{_FIX}")
    order = np.arange(n) if step > 0 else np.arange(n)[::-1]
    return u[order] * DEG_PER_GRAD, order


def ping360_scan_to_ping(scan, *, ping_id: int = 0):
    """A vision.sonar.SonarPing (source "ping360") holding the sector `scan` (a Ping360Scan)
    as a multibeam-like polar image: bearings in deg + to starboard, increasing, within
    (-180, +180]; intensities[range_row, beam]; t_s = the time of the scan's last row.

    ValueError (naming the problem and what to scan instead) for a scan fan_image cannot
    draw: fewer than 2 angles, uneven or repeated steps, a full turn, a sector across astern.
    """
    from vision.sonar.oculus import SonarPing

    angles = np.asarray(scan.angles_grad)
    inten = np.asarray(scan.intensities)
    times = np.asarray(scan.t_s, dtype=np.float64).reshape(-1)
    if inten.ndim != 2 or inten.shape[0] != len(angles):
        raise ValueError(f"Ping360 scan has {len(angles)} angles but intensities of shape {inten.shape}: "
                         "expected one row of samples per angle")
    if inten.shape[1] < 2:
        raise ValueError(f"Ping360 scan rows have {inten.shape[1]} samples: a fan needs at least 2")
    if len(times) != len(angles):
        raise ValueError(f"Ping360 scan has {len(angles)} angles but {len(times)} row times")
    bearings, order = _sector_layout(angles)
    if inten.dtype != np.uint8:
        if inten.dtype.kind not in "ui" or inten.min() < 0 or inten.max() > 255:
            raise ValueError(f"Ping360 samples must be uint8, got {inten.dtype}")
        inten = inten.astype(np.uint8)
    return SonarPing(
        ping_id=int(ping_id),
        frequency_hz=float(scan.transmit_frequency_hz),
        range_m=float(scan.range_m),
        range_resolution_m=float(scan.range_resolution_m),
        speed_of_sound_m_s=float(scan.speed_of_sound_m_s),
        gain_percent=float("nan"),  # the Ping360 has a gain setting (0 low, 1 normal, 2 high), not a percentage
        bearings_deg=bearings,
        intensities=np.ascontiguousarray(inten[order].T),
        t_s=float(times[-1]),
        source="ping360",
    )


def ping360_frame_in(fan_size=(640, 360)):
    """A converter from Ping360Scan to FrameIn holding the fan image (the FanImage as meta,
    for range and bearing), timed at the end of the scan: sonar_frame_in for the Ping360."""
    from vision.sonar.fan import fan_image

    count = [0]

    def convert(scan) -> FrameIn:
        ping = ping360_scan_to_ping(scan, ping_id=count[0])
        fan = fan_image(ping, width_px=fan_size[0], height_px=fan_size[1])
        count[0] += 1
        return FrameIn(fan.image, ping.t_s, count[0] - 1, meta=fan)

    return convert


def sector_angles_grad(start_deg: float, stop_deg: float, step_grad: int = 1) -> np.ndarray:
    """The head angles (gradians, unwrapped: -67 rather than 333) of a sector from
    start_deg to stop_deg (+ to starboard), covering at least that sector."""
    if not (math.isfinite(start_deg) and math.isfinite(stop_deg)) or not start_deg < stop_deg:
        raise ValueError(f"a Ping360 sector runs from port to starboard: start_deg ({start_deg}) must be less "
                         f"than stop_deg ({stop_deg})")
    if int(step_grad) != step_grad or not 1 <= step_grad < GRADIANS_PER_TURN:
        raise ValueError(f"step_grad must be a whole number of gradians >= 1, got {step_grad}")
    step = int(step_grad)
    lo = math.floor(start_deg / DEG_PER_GRAD + 1e-9)
    hi = math.ceil(stop_deg / DEG_PER_GRAD - 1e-9)
    n = max(1, math.ceil((hi - lo) / step))
    angles = lo + step * np.arange(n + 1, dtype=np.int64)
    _sector_layout(angles % GRADIANS_PER_TURN)  # the same checks a scan of it gets
    return angles


class Ping360SectorReader:
    """Scans one sector over and over with a connected Ping360Client; `read(timeout_s)`
    returns the next completed sector as a Ping360Scan, for SourceFeeder.

    read() pings angle by angle until the sector is complete or timeout_s has passed
    (TimeoutError; the angles scanned so far are kept for the next call). It overruns
    timeout_s by at most one ping, which the client bounds (brping waits up to 4 s per
    try). The head sweeps back and forth, so no time goes on turning back. A failed ping
    (Ping360Error: no answer after the client's retries, a refusal, a dead link) drops the
    unfinished sector, is counted in `failed_scans`, and read() raises TimeoutError, so
    the feed goes on; the next sector starts after `retry_delay_s`. After close(), read()
    raises EOFError, which ends SourceFeeder's thread.
    """

    def __init__(self, client, *, start_deg: float = -60.0, stop_deg: float = 60.0, step_grad: int = 1,
                 retry_delay_s: float = 0.5) -> None:
        self.client = client
        self.angles_grad = sector_angles_grad(start_deg, stop_deg, step_grad)
        self.retry_delay_s = float(retry_delay_s)
        self.scans = 0
        self.failed_scans = 0
        self.last_error = ""
        self._closed = threading.Event()
        self._forward = True
        self._rows: list = []
        self._settings = None
        self._resume_at = 0.0

    @property
    def sector_deg(self) -> tuple[float, float]:
        return float(self.angles_grad[0] * DEG_PER_GRAD), float(self.angles_grad[-1] * DEG_PER_GRAD)

    def close(self, *, close_client: bool = True) -> None:
        """Stops reading; with close_client, also closes the client, which makes a ping
        that is waiting for an answer fail at once instead of after its timeout."""
        self._closed.set()
        if close_client:
            self.client.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def read(self, timeout_s: float):
        from vision.sonar.ping360_client import Ping360Scan

        deadline = time.monotonic() + max(0.0, float(timeout_s))
        self._check_open()
        pause = self._resume_at - time.monotonic()
        if pause > 0:  # after a failure: wait (interruptibly) before pinging again
            self._closed.wait(min(pause, max(0.0, deadline - time.monotonic())))
            self._check_open()
            if time.monotonic() < self._resume_at:
                raise TimeoutError("waiting to retry the Ping360 after a failed scan")
        order = self.angles_grad if self._forward else self.angles_grad[::-1]
        while True:
            settings = (self.client.number_of_samples, self.client.sample_period, self.client.gain_setting,
                        self.client.transmit_frequency_khz)
            if settings != self._settings:  # configured anew mid-sector: start the sector again
                self._rows, self._settings = [], settings
            angle = int(order[len(self._rows)]) % GRADIANS_PER_TURN
            try:
                samples, t = self.client.ping(angle)
            except Exception as exc:  # noqa: BLE001 - Ping360Error and anything else from the link
                self._check_open()
                self._fail(exc)
                raise TimeoutError(f"Ping360 scan failed: {self.last_error}") from None
            self._check_open()
            self._rows.append((angle, samples, t))
            if len(self._rows) == len(order):
                angles, rows, times = zip(*self._rows)
                self._rows = []
                self._forward = not self._forward
                self.scans += 1
                c = self.client
                return Ping360Scan(np.asarray(angles, np.int32), np.vstack(rows).astype(np.uint8),
                                   np.asarray(times, np.float64), c.range_resolution_m, c.gain_setting,
                                   c.transmit_frequency_khz * 1e3, c.speed_of_sound_m_s)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"Ping360 sector in progress: {len(self._rows)} of {len(order)} angles")

    def _check_open(self) -> None:
        if self._closed.is_set():
            self._rows = []
            raise EOFError("the Ping360 sector reader is closed")

    def _fail(self, exc: Exception) -> None:
        from vision.sonar.ping360_client import Ping360Error

        self.failed_scans += 1
        self.last_error = str(exc) if isinstance(exc, Ping360Error) else f"{type(exc).__name__}: {exc}"
        done = len(self._rows)
        self._rows = []
        self._resume_at = time.monotonic() + self.retry_delay_s
        if isinstance(exc, (Ping360Error, OSError)):
            log.warning("ping360 feed: sector scan failed after %d angles (%s); retrying in %.1f s",
                        done, self.last_error, self.retry_delay_s)
        else:
            log.error("ping360 feed: sector scan failed after %d angles", done, exc_info=exc)


class Ping360Feeder:
    """Ping360 sector scans -> fan images -> a DetectionPipeline, on SourceFeeder's thread.

    `client` is a connected (and configured) Ping360Client; with close_client (the
    default) the feeder owns it and close() closes it, which is what makes closing prompt
    even while a ping waits for an answer from a silent device.
    """

    def __init__(self, client, pipeline, *, start_deg: float = -60.0, stop_deg: float = 60.0, step_grad: int = 1,
                 fan_size=(640, 360), poll_s: float = 0.5, retry_delay_s: float = 0.5, close_client: bool = True,
                 name: str = "feeder-ping360") -> None:
        self.reader = Ping360SectorReader(client, start_deg=start_deg, stop_deg=stop_deg, step_grad=step_grad,
                                          retry_delay_s=retry_delay_s)
        self._close_client = close_client
        self._feeder = SourceFeeder(self.reader.read, ping360_frame_in(fan_size), pipeline, name=name, poll_s=poll_s)

    def start(self) -> "Ping360Feeder":
        self._feeder.start()
        return self

    def close(self, timeout_s: float = 3.0) -> bool:
        """Stops scanning and feeding; True when the thread has ended within timeout_s."""
        self.reader.close(close_client=self._close_client)
        return self._feeder.close(timeout_s)

    def __enter__(self) -> "Ping360Feeder":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def fed(self) -> int:
        """Sector scans handed to the pipeline."""
        return self._feeder.fed

    @property
    def scans(self) -> int:
        return self.reader.scans

    @property
    def failed_scans(self) -> int:
        return self.reader.failed_scans

    @property
    def last_error(self) -> str:
        """Why the last sector scan failed ("" if none has)."""
        return self.reader.last_error

    @property
    def source_feeder(self) -> SourceFeeder:
        """The SourceFeeder doing the work (its `timeouts`, and `last_error` for a scan it
        could not convert)."""
        return self._feeder
