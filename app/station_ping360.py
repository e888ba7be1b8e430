"""The station's Ping360 reader: the scanning sonar swept over a sector ahead, each
completed sweep published as the newest Ping360Scan for the GUI's scan view. One thread
owns the client; the sweep's own reader (vision.detect.ping360_feed) bounds every wait."""
from __future__ import annotations

import threading

SECTOR_DEG = (-60.0, 60.0)  # ahead of the vehicle, where the hull is during a sweep
RANGE_M = 10.0
STEP_GRAD = 2  # a 120 deg sector in ~67 pings: a fresh sweep every few seconds
READ_TIMEOUT_S = 2.0


class StationPing360:
    def __init__(self, host: str, port: int, *, range_m: float = RANGE_M, log=None):
        from vision.sonar.ping360_client import Ping360Client

        self.client = Ping360Client(host, port)
        self.range_m = float(range_m)
        self.latest = None  # vision.sonar.ping360_client.Ping360Scan: the newest full sweep
        self.sweeps = 0
        self.last_error = ""
        self._log = log or (lambda text: None)
        self._reader = None
        self._thread: threading.Thread | None = None

    def start(self) -> "StationPing360":
        """Connects (Ping360Error naming the address when nothing answers) and starts sweeping."""
        from vision.detect.ping360_feed import Ping360SectorReader

        self.client.connect()
        self.client.configure(range_m=self.range_m)
        self._reader = Ping360SectorReader(self.client, start_deg=SECTOR_DEG[0], stop_deg=SECTOR_DEG[1],
                                           step_grad=STEP_GRAD)
        self._thread = threading.Thread(target=self._run, name="ping360 reader", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                scan = self._reader.read(READ_TIMEOUT_S)
            except EOFError:
                return
            except TimeoutError as exc:
                if self._reader.failed_scans:
                    self.last_error = str(exc)
                continue
            self.latest = scan
            self.sweeps += 1

    def close(self, timeout_s: float = 3.0) -> None:
        if self._reader is not None:
            self._reader.close()  # also closes the client: a ping waiting for its answer ends now
        else:
            self.client.close()
        if self._thread is not None:
            self._thread.join(timeout_s)
