"""The station's side of the embedded world in a child process (see app/world_child.py).

WorldProcess starts `hullwatch sim --station-child`, waits (bounded) for the ports it
announces, forwards its log lines, sends fault and stats requests, notices when it ends
unexpectedly and stops it on close: its control pipe closes, then terminate, then kill,
each wait bounded. The child also ends by itself when the station dies (its stdin closes).
"""
from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections import deque

from .errors import UserError

READY_TIMEOUT_S = 120.0  # the child builds the ship and its planted objects first (about 3 s idle)
STOP_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 5.0


def child_command(args: list[str]) -> list[str]:
    """How to run `hullwatch ARGS` again: the frozen bundle is its own executable."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "app.cli", *args]


class WorldProcess:
    def __init__(self, video: tuple[str, int] | None, *, log=None, on_exit=None,
                 seed: int | None = None) -> None:
        """video: where the child's camera streams (the station's UDP port); log(text):
        its log lines; on_exit(message): told (from a reader thread) if it ends before
        close() asked it to."""
        self._video = video
        self._log = log or (lambda text: None)
        self._on_exit = on_exit
        self._seed = seed
        self._proc: subprocess.Popen | None = None
        self._messages: queue.Queue = queue.Queue()
        self._stderr_tail: deque[str] = deque(maxlen=12)
        self._write_lock = threading.Lock()
        self._closing = threading.Event()
        self.ports: dict = {}

    # ---- start ----------------------------------------------------------------------
    def spawn(self) -> "WorldProcess":
        """Start the child; returns at once (wait_ready() waits for its ports)."""
        video = "none" if self._video is None else f"{self._video[0]}:{self._video[1]}"
        args = ["sim", "--station-child", "--udp", "none", "--tcp", "0", "--video", video,
                "--oculus-port", "0", "--ping360-port", "0"]
        if self._seed is not None:
            args += ["--seed", str(self._seed)]
        try:
            self._proc = subprocess.Popen(child_command(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, bufsize=1, start_new_session=True)
        except OSError as exc:
            raise UserError(f"cannot start the embedded world ({exc.strerror or exc}); "
                            f"run `hullwatch sim` in a terminal to see why") from None
        threading.Thread(target=self._read_stdout, name="world process out", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="world process log", daemon=True).start()
        return self

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> dict:
        """The child's ports {tcp, oculus, ping360, pid}; UserError if it fails or is silent."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise UserError(f"the embedded world did not start within {timeout_s:.0f} s"
                                + self._tail_hint())
            try:
                message = self._messages.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if message is None:
                code = self._proc.wait(timeout=STOP_TIMEOUT_S) if self._proc else None
                raise UserError(f"the embedded world stopped while starting (exit code {code})" + self._tail_hint())
            if "error" in message:
                self.close()
                raise UserError(message["error"])
            if "ready" in message:
                self.ports = message["ready"]
                return self.ports

    def _tail_hint(self) -> str:
        tail = [line for line in self._stderr_tail if line.strip()]
        return (": " + tail[-1].strip()) if tail else "; run `hullwatch sim` in a terminal to see why"

    # ---- while running ----------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def set_fault(self, name: str, value) -> None:
        """Link fault injection in the vehicle (sim.faults.FaultInjector: loss, delay_s,
        duplicate, corrupt, link_down)."""
        self._send({"fault": name, "value": value})

    def stats(self, timeout_s: float = REPLY_TIMEOUT_S) -> dict | None:
        """The child's counters (camera frames sent, packets dropped); None without a reply."""
        self._send({"stats": True})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                message = self._messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if message is None:
                self._messages.put(None)
                return None
            if "stats" in message:
                return message["stats"]
        return None

    def _send(self, obj: dict) -> None:
        if not self.running:
            raise UserError("the embedded world is not running")
        with self._write_lock:
            try:
                self._proc.stdin.write(json.dumps(obj) + "\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                raise UserError("the embedded world is not running") from None

    def _read_stdout(self) -> None:
        for line in self._proc.stdout:
            try:
                self._messages.put(json.loads(line))
            except ValueError:
                self._log(line.rstrip())
        self._messages.put(None)  # end of output: the child ended
        code = self._proc.wait()
        if not self._closing.is_set() and self.ports:
            message = (f"the embedded world stopped unexpectedly (exit code {code})" + self._tail_hint()
                       + "; restart it with Vehicle > Connect… > embedded world")
            self._log(message)
            if self._on_exit is not None:
                self._on_exit(message)

    def _read_stderr(self) -> None:
        for line in self._proc.stderr:
            self._stderr_tail.append(line)
            if line.strip():
                self._log(line.rstrip())

    # ---- stop -----------------------------------------------------------------------
    def close(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """Close the control pipe (the child stops its vehicle and sensors and exits), then
        terminate, then kill; every wait bounded. Returns the exit code. Safe to call twice."""
        self._closing.set()
        proc = self._proc
        if proc is None:
            return None
        with self._write_lock:
            try:
                proc.stdin.close()
            except OSError:
                pass
        for step in (None, proc.terminate, proc.kill):
            if step is not None:
                try:
                    step()
                except OSError:
                    pass
            try:
                return proc.wait(timeout=timeout_s if step is None else 3.0)
            except subprocess.TimeoutExpired:
                continue
        return proc.poll()
