"""The station's Ping360 source: Blue Robotics' scanning sonar over UDP (its Ethernet
interface, port 12345) through the `bluerobotics-ping` package (brping).

    with Ping360Client("192.168.2.2") as sonar:
        sonar.configure(range_m=10, number_of_samples=600, gain_setting=1)
        scan = sonar.scan(0, 399, step_grad=2)   # Ping360Scan: angles x samples, timestamps

A scan turns the head angle by angle (transducer message, transmit = 1) and files each
device_data answer as one row of the image. Angles are gradians (0..399 a full turn);
sample i of a row lies at range (i + 0.5) * range_resolution_m. brping's waits are bounded
(4 s per ping at most); a missing answer is retried once and then raises Ping360Error,
with what was scanned so far available in the error.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import time

import numpy as np

LOG = logging.getLogger(__name__)

PING360_UDP_PORT = 12345
SAMPLE_PERIOD_TICK_S = 25e-9
SPEED_OF_SOUND_M_S = 1500.0
GRADIANS_PER_TURN = 400
MIN_SAMPLE_PERIOD_TICKS = 80
MAX_SAMPLE_PERIOD_TICKS = 40000


class Ping360Error(RuntimeError):
    def __init__(self, message: str, partial: "Ping360Scan | None" = None) -> None:
        super().__init__(message)
        self.partial = partial


@dataclasses.dataclass(frozen=True, eq=False)
class Ping360Scan:
    """angles_grad (n,), intensities (n, samples) uint8 row per angle, t_s (n,) monotonic
    arrival time of each row. Arrays are read-only."""

    angles_grad: np.ndarray
    intensities: np.ndarray
    t_s: np.ndarray
    range_resolution_m: float
    gain_setting: int
    transmit_frequency_hz: float
    speed_of_sound_m_s: float

    def __post_init__(self) -> None:
        for name in ("angles_grad", "intensities", "t_s"):
            a = np.array(getattr(self, name), copy=True)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def range_m(self) -> float:
        return self.intensities.shape[1] * self.range_resolution_m

    @property
    def ranges_m(self) -> np.ndarray:
        return (np.arange(self.intensities.shape[1]) + 0.5) * self.range_resolution_m

    @property
    def angles_deg(self) -> np.ndarray:
        return self.angles_grad * 360.0 / GRADIANS_PER_TURN


def sample_period_ticks(range_m: float, number_of_samples: int, speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> int:
    """The sample period (25 ns ticks) that spreads `number_of_samples` over `range_m`."""
    ticks = int(round(2.0 * range_m / (speed_of_sound_m_s * number_of_samples * SAMPLE_PERIOD_TICK_S)))
    if not MIN_SAMPLE_PERIOD_TICKS <= ticks <= MAX_SAMPLE_PERIOD_TICKS:
        raise ValueError(f"range {range_m:g} m over {number_of_samples} samples needs a sample period of {ticks} "
                         f"ticks, outside {MIN_SAMPLE_PERIOD_TICKS}..{MAX_SAMPLE_PERIOD_TICKS}: use fewer samples "
                         f"for a short range or more for a long one")
    return ticks


class Ping360Client:
    def __init__(self, host: str, port: int = PING360_UDP_PORT, *, retries: int = 1) -> None:
        self.host, self.port = host, int(port)
        self.retries = retries
        self.speed_of_sound_m_s = SPEED_OF_SOUND_M_S
        self.gain_setting = 1
        self.number_of_samples = 600
        self.sample_period = sample_period_ticks(10.0, 600)
        self.transmit_frequency_khz = 750
        self.transmit_duration_us = 32
        self._dev = None
        self.pings = 0
        self.missed = 0

    def connect(self) -> "Ping360Client":
        """Opens the UDP link and checks a Ping360 answers (Ping360Error if not)."""
        from brping import Ping360

        dev = Ping360()
        reason = "no answer"
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # brping prints its progress; we log instead
                dev.connect_udp(self.host, self.port)
                ok = dev.initialize()
        except OSError as exc:  # e.g. ICMP port unreachable comes back as ECONNREFUSED
            ok, reason = False, str(exc)
        except Exception as exc:  # noqa: BLE001 - brping wraps socket errors in a bare Exception
            ok, reason = False, str(exc)
        if not ok:
            if dev.iodev is not None:
                dev.iodev.close()
            raise Ping360Error(f"no Ping360 answered on UDP {self.host}:{self.port} ({reason}): "
                               "is the sonar powered and on this network?")
        self._dev = dev
        LOG.info("ping360 %s:%s: connected", self.host, self.port)
        return self

    def close(self) -> None:
        if self._dev is not None and self._dev.iodev is not None:
            self._dev.iodev.close()
        self._dev = None

    def __enter__(self) -> "Ping360Client":
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.close()

    def configure(self, range_m: float = 10.0, number_of_samples: int = 600, gain_setting: int = 1,
                  transmit_frequency_khz: int = 750) -> None:
        """Settings for the following pings (sent with each ping, as the Ping360 expects)."""
        if gain_setting not in (0, 1, 2):
            raise ValueError(f"gain_setting must be 0 (low), 1 (normal) or 2 (high), got {gain_setting}")
        if not 200 <= number_of_samples <= 1200:
            raise ValueError(f"number_of_samples must be within 200..1200, got {number_of_samples}")
        self.sample_period = sample_period_ticks(range_m, number_of_samples, self.speed_of_sound_m_s)
        self.number_of_samples = int(number_of_samples)
        self.gain_setting = int(gain_setting)
        self.transmit_frequency_khz = int(transmit_frequency_khz)
        # a pulse about two samples long: shorter loses energy, longer blurs the range
        self.transmit_duration_us = int(min(1000, max(5, round(2 * self.sample_period * SAMPLE_PERIOD_TICK_S * 1e6))))

    @property
    def range_resolution_m(self) -> float:
        return self.sample_period * SAMPLE_PERIOD_TICK_S * self.speed_of_sound_m_s / 2.0

    def ping(self, angle_grad: int) -> tuple[np.ndarray, float]:
        """One beam at angle_grad: (samples uint8, arrival time on time.monotonic())."""
        from brping import definitions

        if self._dev is None:
            raise Ping360Error("Ping360Client.ping() before connect()")
        dev = self._dev
        for attempt in range(self.retries + 1):
            try:
                self._transmit(dev, angle_grad)
            except OSError as exc:
                raise Ping360Error(f"cannot send to the Ping360 at {self.host}:{self.port}: {exc}") from None
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    msg = dev.wait_message([definitions.PING360_DEVICE_DATA, definitions.COMMON_NACK], 4.0)
            except OSError as exc:  # the device went away (ICMP unreachable): count it as a miss
                if self._dev is not dev:
                    raise Ping360Error(f"the Ping360 link to {self.host}:{self.port} was closed") from None
                LOG.warning("ping360 %s:%s: %s", self.host, self.port, exc)
                msg = None
                time.sleep(0.1)
            if msg is None:
                if self._dev is not dev:
                    raise Ping360Error(f"the Ping360 link to {self.host}:{self.port} was closed")
                self.missed += 1
                LOG.warning("ping360 %s:%s: no answer at angle %d (attempt %d)", self.host, self.port,
                            angle_grad, attempt + 1)
                continue
            if msg.message_id == definitions.COMMON_NACK:
                text = bytes(msg.nack_message).decode("ascii", "replace").rstrip("\x00")
                raise Ping360Error(f"Ping360 refused the ping at angle {angle_grad}: {text}")
            samples = np.frombuffer(bytes(msg.data), dtype=np.uint8)
            if msg.angle != int(angle_grad) % GRADIANS_PER_TURN or len(samples) != self.number_of_samples:
                self.missed += 1  # a late answer to an earlier request: ask again
                continue
            self.pings += 1
            return samples.copy(), time.monotonic()
        raise Ping360Error(f"no device_data from the Ping360 at {self.host}:{self.port} for angle {angle_grad} "
                           f"after {self.retries + 1} tries")

    def _transmit(self, dev, angle_grad: int) -> None:
        dev.control_transducer(1, self.gain_setting, int(angle_grad) % GRADIANS_PER_TURN, self.transmit_duration_us,
                               self.sample_period, self.transmit_frequency_khz, self.number_of_samples, 1, 0)

    def scan(self, start_grad: int = 0, stop_grad: int = 399, step_grad: int = 1) -> Ping360Scan:
        """Pings every `step_grad` from start to stop (inclusive) and returns the image."""
        if step_grad <= 0:
            raise ValueError(f"step_grad must be > 0, got {step_grad}")
        angles, rows, times = [], [], []
        for angle in range(int(start_grad), int(stop_grad) + 1, int(step_grad)):
            try:
                samples, t = self.ping(angle)
            except Ping360Error as exc:
                raise Ping360Error(str(exc), self._scan(angles, rows, times) if rows else None) from None
            angles.append(angle % GRADIANS_PER_TURN)
            rows.append(samples)
            times.append(t)
        return self._scan(angles, rows, times)

    def _scan(self, angles, rows, times) -> Ping360Scan:
        return Ping360Scan(np.asarray(angles, np.int32), np.vstack(rows).astype(np.uint8), np.asarray(times),
                           self.range_resolution_m, self.gain_setting, self.transmit_frequency_khz * 1e3,
                           self.speed_of_sound_m_s)
