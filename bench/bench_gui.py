"""Benchmark: the ground station's window during a simulated mission with every panel live
(issue 7, section 4). Goal: event-loop lateness p95 < 30 ms, video shown at the source
frame rate.

    python bench/bench_gui.py [--seconds S] [--idle-seconds I] [--minutes M] [--xcb]
                              [--sample-ms K] [--hide DOCK ...] [--world-in-process]
                              [--out FILE]

The real window: app.main_window.MainWindow(Station(StationConfig()), QSettings(temporary
ini)), 1600x1000, shown, as tests/app/test_main_window.py starts it; the embedded world in
its own child process as `hullwatch` runs it (--world-in-process: in the window's process,
for comparison); QT_QPA_PLATFORM=offscreen unless --xcb is given and DISPLAY is set.

  1. idle baseline (--idle-seconds, default 10): the window shown, the station NOT started
     (an idle event loop with the panels' own timers only);
  2. the station starts (embedded world: simulated vehicle, camera and Oculus streams,
     both detectors, hull map), the bridge attaches, the vehicle's heartbeat arrives;
  3. live (--seconds, default 60; or --minutes M): app.gui.demo_mission runs as the window
     runs a vehicle command (a task on the vehicle's executor): arm, lamps on, fly in GUIDED
     to look at the planted container nearest the start, then hold there; video, sonar,
     detections, alarms, map and instruments are all live;
  4. the window closes the orderly way (bounded wait).

Measured in each phase:
  * event-loop lateness: a single-shot 100 ms QTimer (Qt.PreciseTimer), re-armed in its
    own slot; lateness = time from arming to the slot - 100 ms (a repeating timer would
    catch up after a late tick and hide half of it); p50/p95/max, and live p95 / idle p95;
  * CPU: the GUI thread's time.thread_time() and the process's time.process_time() over wall
    time, and every thread's share from /proc/self/task (named after Python's threads);
  * video: frames the video view received (QtVideoView.show_frame, wrapped on the instance
    before the bridge connects it) against the frames VideoSource decoded
    (monitor.video.stats().frames_decoded) and the frames the sim's camera sent; the gap
    between frames shown, decoded -> show_frame and show_frame -> next paint latencies;
  * paints: QEvent.Paint on the video view (an event filter) per second; also on the sonar
    view; the bridge's state/detection/sonar/map signals per second;
  * memory: VmRSS at start (window shown), after the station started, during the run (every
    10 s, or every minute with --minutes) and at the end; growth per 10 minutes (a line
    fitted to the samples after the first two minutes, --minutes mode).
Where the late time goes: for every timer window that ended > 30 ms late, the GUI thread's
CPU time and run-queue wait (/proc/thread-self/schedstat) split it into its own work, waiting
for a core (the machine or this process's other threads are using both), and blocked past
the due time (the GIL or a lock; a lower bound).
Stall attribution: a sampler thread reads the GUI thread's Python stack every --sample-ms
(default 10) ms; when the timer fires more than 50 ms late, the samples inside the late
window name what the GUI thread was running (the outermost and innermost project frames;
"Qt (C++) or waiting" when no project frame is on the stack). The same samples give the
GUI thread's busy profile over the live phase. The sampler also runs in the idle baseline.

--hide DOCK... (diagnosis) hides docks before the run (e.g. hull3d: its view re-renders on a
worker at every pose update), to see what a panel costs.

The machine is shared: compare the ratios, not the milliseconds.
Results: a table on stdout and bench/results/bench_gui.json (bench_gui_<M>min.json with
--minutes).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from percentiles import pct  # noqa: E402

RESULTS_DIR = REPO / "bench" / "results"
PROBE_MS = 100
GOAL_P95_MS = 30.0
STALL_MS = 50.0
START_TIMEOUT_S = 180.0
CLOSE_TIMEOUT_S = 60.0
PROJECT_DIRS = tuple(str(REPO / d) + os.sep for d in ("app", "vision", "vehicle", "sim", "hull", "resources"))
PROBE_FILE = str(REPO / "app" / "qt_probe.py")  # the bench's own event-loop hooks: not the window's work
IDLE_KEY = "Qt (C++) or waiting"


def rss_mb() -> dict:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
    return {"rss_mb": out.get("VmRSS"), "hwm_mb": out.get("VmHWM")}


def sched_s() -> tuple[float, float]:
    """This thread's (CPU time, time waiting for a core on the run queue), s (schedstat)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            cpu_ns, wait_ns = f.read().split()[:2]
        return int(cpu_ns) / 1e9, int(wait_ns) / 1e9
    except (OSError, ValueError):
        return time.thread_time(), float("nan")


def thread_cpu() -> dict[str, float]:
    """CPU seconds of every thread of this process, by Python thread name (native: tid)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "native threads (onnxruntime, codec, Qt)")
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


class StackSampler(threading.Thread):
    """Samples the GUI thread's Python stack: a ring of (t, key), and counts while counting.

    The stacks come from faulthandler's dump (text, written in C), not sys._current_frames():
    holding another thread's frame object keeps its locals alive past the function's return,
    and a paintEvent's QPainter then dies later on this thread, after Qt ended the paint."""

    def __init__(self, gui_ident: int, period_s: float):
        super().__init__(name="bench stack sampler", daemon=True)
        self.header = f"Thread 0x{gui_ident:016x}"
        self.period_s = period_s
        self.ring: collections.deque = collections.deque(maxlen=int(30.0 / period_s))
        self.counts: collections.Counter = collections.Counter()
        self.counting = False
        self._halt = threading.Event()  # not _stop: threading.Thread has a _stop method
        self._fd = os.memfd_create("bench-gui-stacks")

    def _gui_stack(self) -> list[tuple[str, int, str]]:
        """(file, line, function) of the GUI thread, innermost first."""
        import faulthandler

        os.lseek(self._fd, 0, os.SEEK_SET)
        os.ftruncate(self._fd, 0)
        faulthandler.dump_traceback(self._fd, all_threads=True)
        os.lseek(self._fd, 0, os.SEEK_SET)
        text = os.read(self._fd, 1 << 20).decode("utf-8", "replace")
        i = text.find(self.header)
        if i < 0:
            return []
        frames = []
        for line in text[i:].splitlines()[1:]:
            line = line.strip()
            if not line.startswith("File "):
                break
            path, _, rest = line[6:].partition('", line ')
            lineno, _, func = rest.partition(" in ")
            frames.append((path, int(lineno) if lineno.isdigit() else 0, func))
        return frames

    @staticmethod
    def key(frames) -> str:
        project = [f"{Path(path).parent.name}/{Path(path).name}:{func}:{line}"
                   for path, line, func in frames if path.startswith(PROJECT_DIRS) and path != PROBE_FILE]
        if not project:
            func = frames[0][2] if frames else "?"
            return IDLE_KEY if func in ("main", "run_for", "wait_until") else f"bench: {func}"
        inner = project[0]
        outer = project[-1].rsplit(":", 1)[0]
        return outer if inner.rsplit(":", 1)[0] == outer else f"{outer} > {inner}"

    def run(self) -> None:
        while not self._halt.wait(self.period_s):
            key = self.key(self._gui_stack())
            self.ring.append((time.monotonic(), key))
            if self.counting:
                self.counts[key] += 1
        os.close(self._fd)

    def between(self, t0: float, t1: float) -> collections.Counter:
        return collections.Counter(k for t, k in list(self.ring) if t0 <= t <= t1)

    def stop(self) -> None:
        self._halt.set()


class Probe:
    """The 100 ms single-shot timer, the GUI thread's CPU clock and the paint counters."""

    def __init__(self, sampler: StackSampler | None):
        from app.qt_probe import precise_single_shot

        self.sampler = sampler
        self.lateness_s: list[float] = []
        self.window_sched_s: list[tuple[float, float]] = []  # GUI thread (CPU, run-queue wait) per window
        self.stalls: list[dict] = []
        self.t_origin = time.monotonic()
        self.paints = collections.Counter()
        self.shown_t: list[float] = []
        self.decoded_to_shown_s: list[float] = []
        self.shown_to_paint_s: list[float] = []
        self._pending_show: float | None = None
        self.timer = precise_single_shot(self._fired)
        self._armed, self._armed_sched = 0.0, (0.0, 0.0)
        self._watches = []

    def watch_paints(self, name: str, widget) -> None:
        from app.qt_probe import PaintWatch

        self._watches.append(PaintWatch(widget, lambda: self._painted(name)))

    def _painted(self, name: str) -> None:
        self.paints[name] += 1
        if name == "video" and self._pending_show is not None:
            self.shown_to_paint_s.append(time.monotonic() - self._pending_show)
            self._pending_show = None

    def wrap_show_frame(self, view) -> None:
        original = view.show_frame

        def show_frame(frame):
            now = time.monotonic()
            self.shown_t.append(now)
            self.decoded_to_shown_s.append(now - frame.t_received_s)
            if self._pending_show is None:
                self._pending_show = now
            original(frame)
        view.show_frame = show_frame  # the bridge connects to the instance attribute in _attach

    def start(self) -> None:
        self._armed, self._armed_sched = time.monotonic(), sched_s()
        self.timer.start(PROBE_MS)

    def _fired(self) -> None:
        now, (cpu1, wait1) = time.monotonic(), sched_s()
        cpu, wait = cpu1 - self._armed_sched[0], wait1 - self._armed_sched[1]
        late = now - self._armed - PROBE_MS / 1000.0
        self.lateness_s.append(late)
        self.window_sched_s.append((cpu, wait))
        if late * 1000.0 > STALL_MS:
            busy = self.sampler.between(self._armed + PROBE_MS / 1000.0, now) if self.sampler else {}
            # CPU far below the window's length: the GUI thread was not running (no core, or no GIL)
            self.stalls.append({"t_s": round(now - self.t_origin, 2), "late_ms": round(late * 1000.0, 1),
                                "gui_cpu_ms": round(cpu * 1000.0, 1), "runqueue_wait_ms": round(wait * 1000.0, 1),
                                "samples": dict(busy.most_common(4)) if busy else {}})
        self._armed, self._armed_sched = time.monotonic(), sched_s()
        self.timer.start(PROBE_MS)


class Phase:
    """Counters at the start of a phase; finish() gives the phase's figures."""

    def __init__(self, probe: Probe, name: str):
        self.probe, self.name = probe, name
        self.t0 = time.monotonic()
        self.gui0, self.proc0 = time.thread_time(), time.process_time()
        self.threads0 = thread_cpu()
        self.n_late0 = len(probe.lateness_s)
        self.n_stall0 = len(probe.stalls)
        self.paints0 = dict(probe.paints)
        self.n_shown0 = len(probe.shown_t)

    def finish(self) -> dict:
        p = self.probe
        wall = time.monotonic() - self.t0
        gui, proc = time.thread_time() - self.gui0, time.process_time() - self.proc0
        threads = {k: v - self.threads0.get(k, 0.0) for k, v in thread_cpu().items()}
        late_ms = np.asarray(p.lateness_s[self.n_late0:]) * 1000.0
        sched = np.asarray(p.window_sched_s[self.n_late0:], float).reshape(-1, 2) * 1000.0
        cpu_ms, wait_ms = sched[:, 0], sched[:, 1]
        late = late_ms > GOAL_P95_MS
        window_ms = late_ms[late] + PROBE_MS
        # a late window = CPU + waiting for a core + blocked; blocked for more than the 100 ms
        # the thread may sleep in the event loop is blocked past the due time: the GIL or a lock
        blocked_ms = np.clip(window_ms - cpu_ms[late] - wait_ms[late] - PROBE_MS, 0.0, None)
        late_split = {"late_ms_sum": float(late_ms[late].sum()), "gui_cpu_ms_sum": float(cpu_ms[late].sum()),
                      "runqueue_wait_ms_sum": float(wait_ms[late].sum()),
                      "blocked_past_due_ms_sum_at_least": float(blocked_ms.sum())}
        return {
            "wall_s": round(wall, 2),
            "lateness_ms": pct(late_ms),
            "ticks": int(len(late_ms)), "ticks_expected": int(wall / (PROBE_MS / 1000.0)),
            "late_over_30ms_pct": float(100.0 * np.mean(late_ms > GOAL_P95_MS)) if len(late_ms) else None,
            # over the timer windows that ended more than 30 ms late: the GUI thread's CPU time as a
            # share of the window (low: it waited for a core or the GIL; high: its own work)
            "gui_cpu_in_late_windows_pct": (float(100.0 * cpu_ms[late].sum() / window_ms.sum())
                                            if late.any() else None),
            "late_windows": late_split,
            "gui_thread_cpu_pct": 100.0 * gui / wall,
            "process_cpu_pct": 100.0 * proc / wall,
            "thread_cpu_pct": {k: round(100.0 * v / wall, 1)
                               for k, v in sorted(threads.items(), key=lambda kv: -kv[1]) if v > 0},
            "paints_per_s": {k: (v - self.paints0.get(k, 0)) / wall for k, v in p.paints.items()},
            "stalls": p.stalls[self.n_stall0:],
            "_shown_from": self.n_shown0,
        }


def wait_until(pred, timeout_s: float, poll_s: float = 0.1) -> bool:
    from app.qt_probe import run_for

    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            return False
        run_for(poll_s)
    return True


SIM_CAMERA_FPS = 10.0  # sim.camera_stream's default rate


def _growth_sites(before, after, span_s: float, top: int = 15) -> list[dict]:
    """The allocation sites (innermost project frame) whose live memory grew most."""
    stats = after.compare_to(before, "traceback")
    rows = []
    for st in stats[:200]:
        frames = [f for f in st.traceback if str(REPO) in f.filename and ".venv" not in f.filename]
        where = " < ".join(f"{Path(f.filename).relative_to(REPO)}:{f.lineno}" for f in frames[-3:][::-1]) or \
            f"{st.traceback[-1].filename}:{st.traceback[-1].lineno}"
        rows.append({"site": where, "grew_mb": st.size_diff / 1e6, "mb_per_10min": st.size_diff / 1e6 * 600 / span_s,
                     "blocks_grew": st.count_diff})
    rows.sort(key=lambda r: -r["grew_mb"])
    return rows[:top]


def _start_clip(port: int, fps: float):
    """bench/stream_clip.py streaming to the station's video port; None if it never starts."""
    import subprocess

    proc = subprocess.Popen([sys.executable, str(REPO / "bench" / "stream_clip.py"), "--port", str(port), "--fps",
                             str(fps)], stdout=subprocess.PIPE, text=True)
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    if not box or "streaming" not in box[0]:
        proc.kill()
        print("bench/stream_clip.py did not start streaming", file=sys.stderr)
        return None
    return proc


def _frames_sent(station) -> int | None:
    """Frames the embedded camera has sent: from the child process, or the in-process stream."""
    if station.world_proc is not None:
        stats = station.world_proc.stats()
        return None if stats is None else stats["camera_frames_sent"]
    return station.streams.camera.frames_sent if station.streams and station.streams.camera else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="live phase length (default 60 s)")
    ap.add_argument("--minutes", type=float, default=None, help="live phase in minutes (memory run, e.g. 30)")
    ap.add_argument("--idle-seconds", type=float, default=10.0, help="idle baseline length (default 10 s)")
    ap.add_argument("--xcb", action="store_true", help="a real X window (needs DISPLAY) instead of offscreen")
    ap.add_argument("--sample-ms", type=float, default=10.0, help="GUI stack sampling period; 0: no sampler")
    ap.add_argument("--hide", nargs="*", default=[], metavar="DOCK",
                    help="diagnosis: hide these docks (e.g. hull3d sonar) to see what they cost")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--tracemalloc", action="store_true",
                    help="(diagnosis) where Python memory grows: tracemalloc snapshots after a third of the "
                         "live phase and at its end, the top growth sites printed")
    ap.add_argument("--camera-fps", type=float, default=None, metavar="F",
                    help="the camera at F frames/s (e.g. 25, a real camera's rate): the embedded world's camera "
                         "is off and bench/stream_clip.py streams pre-rendered frames of the same ship from its "
                         "own process (the sim renders about 10 frames/s)")
    ap.add_argument("--world-in-process", action="store_true",
                    help="the embedded world in the window's process (StationConfig(world_process=False)), "
                         "for comparison; default: its own child process, as `hullwatch` runs it")
    args = ap.parse_args()
    live_s = args.minutes * 60.0 if args.minutes else args.seconds
    rss_every_s = 60.0 if args.minutes else 10.0
    out_path = args.out or RESULTS_DIR / (f"bench_gui_{args.minutes:g}min.json" if args.minutes else "bench_gui.json")
    platform = "xcb" if args.xcb and os.environ.get("DISPLAY") else "offscreen"
    os.environ["QT_QPA_PLATFORM"] = platform

    from app.gui import demo_mission
    from app.main_window import MainWindow
    from app.qt_tasks import run_task
    from app.qt_probe import application, ini_settings, repeating, run_for, single_shot
    from app.station import Station, StationConfig

    app = application()
    sampler = StackSampler(threading.get_ident(), args.sample_ms / 1000.0) if args.sample_ms > 0 else None
    probe = Probe(sampler)
    tmp = tempfile.TemporaryDirectory(prefix="bench-gui-")
    config = StationConfig(world_process=not args.world_in_process, embedded_camera=args.camera_fps is None)
    station = Station(config, log=lambda text: None)
    window = MainWindow(station, ini_settings(Path(tmp.name) / "hullwatch.ini"))
    window.resize(1600, 1000)
    probe.wrap_show_frame(window.video)
    probe.watch_paints("video", window.video)
    probe.watch_paints("sonar", window.sonar)
    window.show()
    for key in args.hide:
        window.docks[key].hide()
    if sampler is not None:
        sampler.start()
    probe.start()
    run_for(1.0)  # first layout and paints
    mem = {"start": rss_mb()}

    # ---- 1: idle baseline ---------------------------------------------------------------
    if sampler is not None:
        sampler.counts.clear()
        sampler.counting = True
    idle = Phase(probe, "idle")
    run_for(args.idle_seconds)
    idle_out = idle.finish()
    idle_out["gui_profile_pct"] = _profile(sampler)

    # ---- 2: start the station -----------------------------------------------------------
    t_start = time.monotonic()
    window.start_station()
    up = wait_until(lambda: window.bridge is not None and station.vehicle is not None
                    and station.vehicle.state.discovered, START_TIMEOUT_S)
    start_s = time.monotonic() - t_start
    if not up:
        print(f"the station did not come up within {START_TIMEOUT_S:.0f} s: {window.statusBar().currentMessage()}",
              file=sys.stderr)
        return 1
    clip = None
    if args.camera_fps:
        clip = _start_clip(station.monitor.video_port, args.camera_fps)  # waits on this thread: the bench's own
        if clip is None:
            return 1
        run_for(2.0)  # the late tick of that wait lands before the live phase, not in it
    mem["station_started"] = rss_mb()
    signals = collections.Counter()
    for name in ("state_changed", "detection_ready", "sonar_ready", "map_changed", "alarm_raised"):
        getattr(window.bridge, name).connect(lambda *a, n=name: signals.__setitem__(n, signals[n] + 1))

    # ---- 3: live mission ----------------------------------------------------------------
    mission_log: list[tuple[float, str]] = []
    t_live = time.monotonic()

    def log(text: str) -> None:
        mission_log.append((round(time.monotonic() - t_live, 1), text))
        window.log_line.emit(text)
    errors: list[str] = []
    task = run_task("demo mission", demo_mission, station, log, executor=station.vehicle, parent=window,
                    on_error=errors.append)
    mon = station.monitor
    v0, sig0 = mon.video.stats(), dict(signals)
    sent0 = _frames_sent(station) if clip is None else None
    if sampler is not None:
        sampler.counts.clear()
        sampler.counting = True
    renders0 = window.hull_view.renders
    live = Phase(probe, "live")
    rss_samples = [(0.0, rss_mb()["rss_mb"])]
    rss_timer = repeating(int(rss_every_s * 1000),
                          lambda: rss_samples.append((round(time.monotonic() - t_live, 1), rss_mb()["rss_mb"])))
    growth: list = []
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(8)
        single_shot(int(live_s * 1000 / 3), lambda: growth.append(tracemalloc.take_snapshot()))
    run_for(live_s)
    if args.tracemalloc and growth:
        growth = _growth_sites(growth[0], tracemalloc.take_snapshot(), live_s * 2 / 3)
        tracemalloc.stop()
    rss_timer.stop()
    live_out = live.finish()
    live_out["gui_profile_pct"] = _profile(sampler)
    v1 = mon.video.stats()
    sent1 = _frames_sent(station) if clip is None else None
    if clip is not None:
        clip.kill()
        clip.wait(10)
    wall = live_out["wall_s"]
    shown_from = live_out.pop("_shown_from")
    shown_t = probe.shown_t[shown_from:]
    idle_out.pop("_shown_from")
    state = station.vehicle.state
    mem["end"] = rss_mb()
    video = {
        "source_fps": args.camera_fps or SIM_CAMERA_FPS,
        "sent_per_s": (sent1 - sent0) / wall if None not in (sent0, sent1) else None,
        "decoded_per_s": (v1.frames_decoded - v0.frames_decoded) / wall,
        "shown_per_s": len(shown_t) / wall,
        "dropped_in_source_slot": v1.frames_dropped - v0.frames_dropped,
        "gap_between_shown_ms": pct(np.diff(shown_t) * 1000.0),
        "decoded_to_shown_ms": pct(np.asarray(probe.decoded_to_shown_s[shown_from:]) * 1000.0),
        "shown_to_paint_ms": pct(np.asarray(probe.shown_to_paint_s) * 1000.0),
    }
    video["shown_over_decoded"] = video["shown_per_s"] / video["decoded_per_s"] if video["decoded_per_s"] else None
    video["shown_over_source_fps"] = video["shown_per_s"] / video["source_fps"]
    live_out["signals_per_s"] = {k: (v - sig0.get(k, 0)) / wall for k, v in signals.items()}
    live_out["hull3d_renders_per_s"] = (window.hull_view.renders - renders0) / wall
    mission = {"log": mission_log, "error": errors[0] if errors else "", "done": task.future.done(),
               "armed": state.armed, "mode": state.mode, "depth_m": state.depth_m,
               "alarms_in_review": len(window.review.alarms())}

    # ---- 4: orderly close ---------------------------------------------------------------
    probe.timer.stop()
    if sampler is not None:
        sampler.stop()
    t_close = time.monotonic()
    window.close()
    closed = wait_until(lambda: window._closed_down, CLOSE_TIMEOUT_S)
    close_s = time.monotonic() - t_close

    out = {"platform": platform, "hidden_docks": args.hide, "idle_seconds": args.idle_seconds, "live_seconds": live_s,
           "sample_ms": args.sample_ms, "station_start_s": round(start_s, 1), "idle": idle_out, "live": live_out,
           "video": video, "memory": _memory(mem, rss_samples, bool(args.minutes)), "mission": mission,
           "close": {"closed_down": closed, "seconds": round(close_s, 1)}}
    li, ii = live_out["lateness_ms"], idle_out["lateness_ms"]
    out["live_p95_over_idle_p95"] = li["p95"] / ii["p95"] if ii["p95"] and ii["p95"] > 0 else None
    out["goal"] = {"lateness_p95_ms_below": GOAL_P95_MS, "lateness_p95_ms": li["p95"],
                   "lateness_met": li["p95"] is not None and li["p95"] < GOAL_P95_MS,
                   "shown_over_decoded": video["shown_over_decoded"],
                   "video_met": video["shown_over_decoded"] is not None and video["shown_over_decoded"] > 0.95}
    out["world_process"] = not args.world_in_process
    out["camera_fps"] = args.camera_fps
    out["python_growth"] = growth if args.tracemalloc else None
    _print(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(out, indent=1))
    print(f"\nwritten {out_path}")
    tmp.cleanup()
    return 0 if closed else 2


def _profile(sampler) -> dict:
    if sampler is None:
        return {}
    sampler.counting = False
    total = sum(sampler.counts.values()) or 1
    return {k: round(100.0 * n / total, 1) for k, n in sampler.counts.most_common(15)}


def _memory(mem: dict, samples: list, long_run: bool) -> dict:
    out = dict(mem)
    out["samples"] = samples
    t = np.array([s[0] for s in samples], float)
    r = np.array([s[1] for s in samples], float)
    keep = t >= (120.0 if long_run else 0.0)
    if long_run and keep.sum() >= 3:
        slope = np.polyfit(t[keep], r[keep], 1)[0]  # MB per second
        out["growth_mb_per_10min"] = float(slope * 600.0)
    return out


def _print(out: dict) -> None:
    def f(v, fmt="{:.1f}"):
        return "-" if v is None else fmt.format(v)
    idle, live, video, mem = out["idle"], out["live"], out["video"], out["memory"]
    hidden = f", hidden {' '.join(out['hidden_docks'])}" if out["hidden_docks"] else ""
    print(f"\nGUI benchmark ({out['platform']}{hidden}): idle {idle['wall_s']:.0f} s, live mission "
          f"{live['wall_s']:.0f} s; station start {out['station_start_s']:.1f} s")
    print(f"\n{'event-loop lateness (100 ms timer)':40s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'ticks':>9s} "
          f"{'>30ms %':>8s}")
    for name, ph in (("idle (station not started)", idle), ("live mission", live)):
        la = ph["lateness_ms"]
        print(f"{name:40s} {f(la['p50']):>8s} {f(la['p95']):>8s} {f(la['max']):>8s} "
              f"{ph['ticks']:>4d}/{ph['ticks_expected']:<4d} {f(ph['late_over_30ms_pct']):>8s}")
    print(f"GUI thread CPU within the late (>30 ms) windows: {f(live['gui_cpu_in_late_windows_pct'])} % of them "
          "(low: it waited for a core or the GIL)")
    ls = live["late_windows"]
    print(f"late windows, live: lateness {ls['late_ms_sum']:.0f} ms in all; GUI thread on a core "
          f"{ls['gui_cpu_ms_sum']:.0f} ms, waiting for a core {ls['runqueue_wait_ms_sum']:.0f} ms, blocked past "
          f"the due time (GIL or a lock) >= {ls['blocked_past_due_ms_sum_at_least']:.0f} ms")
    print(f"live p95 / idle p95: {f(out['live_p95_over_idle_p95'], '{:.2f}')}   goal p95 < {GOAL_P95_MS:.0f} ms: "
          f"{'met' if out['goal']['lateness_met'] else 'NOT met'}")
    print(f"\n{'CPU (% of one core)':40s} {'idle':>8s} {'live':>8s}")
    print(f"{'GUI thread':40s} {f(idle['gui_thread_cpu_pct']):>8s} {f(live['gui_thread_cpu_pct']):>8s}")
    print(f"{'whole process':40s} {f(idle['process_cpu_pct']):>8s} {f(live['process_cpu_pct']):>8s}")
    for name, pc in list(live["thread_cpu_pct"].items())[:8]:
        print(f"  {name[:38]:38s} {f(idle['thread_cpu_pct'].get(name)):>8s} {f(pc):>8s}")
    print(f"\n{'video (per second)':40s}")
    print(f"  sim camera sent {f(video['sent_per_s'], '{:.2f}')}, decoded {f(video['decoded_per_s'], '{:.2f}')}, "
          f"shown {f(video['shown_per_s'], '{:.2f}')} (source {video['source_fps']:g} fps); "
          f"shown/decoded {f(video['shown_over_decoded'], '{:.3f}')}")
    for k in ("gap_between_shown_ms", "decoded_to_shown_ms", "shown_to_paint_ms"):
        v = video[k]
        print(f"  {k:38s} p50 {f(v['p50'])}  p95 {f(v['p95'])}  max {f(v['max'])}")
    print(f"  paints/s: video idle {f(idle['paints_per_s'].get('video'))} live {f(live['paints_per_s'].get('video'))}"
          f"; sonar idle {f(idle['paints_per_s'].get('sonar'))} live {f(live['paints_per_s'].get('sonar'))}")
    print("  bridge signals/s: " + ", ".join(f"{k} {v:.1f}" for k, v in live["signals_per_s"].items())
          + f"; hull 3D renders/s {live['hull3d_renders_per_s']:.1f}")
    print(f"\nmemory RSS MB: start {f(mem['start']['rss_mb'])}, station started "
          f"{f(mem['station_started']['rss_mb'])}, end {f(mem['end']['rss_mb'])} (peak {f(mem['end']['hwm_mb'])}); "
          f"growth per 10 min {f(mem.get('growth_mb_per_10min'))}")
    print("  live samples (s, MB): " + ", ".join(f"{t:.0f} {r:.0f}" for t, r in mem["samples"]))
    if out.get("python_growth"):
        print("  Python memory growth by site (tracemalloc, last two thirds of the live phase):")
        for row in out["python_growth"]:
            print(f"    {row['grew_mb']:7.2f} MB ({row['mb_per_10min']:6.1f} MB/10 min, {row['blocks_grew']:+d} blocks)  "
                  f"{row['site']}")
    print("\nGUI thread busy profile, live (% of samples):")
    for k, v in list(live["gui_profile_pct"].items())[:10]:
        print(f"  {v:5.1f}  {k}")
    stalls = sorted(live["stalls"], key=lambda s: -s["late_ms"])
    print(f"\nstalls > {STALL_MS:.0f} ms, live: {len(stalls)} (idle: {len(idle['stalls'])}); worst:")
    for s in stalls[:8]:
        print(f"  t {s['t_s']:7.1f} s late {s['late_ms']:6.1f} ms (GUI CPU {s['gui_cpu_ms']:5.1f}, run queue "
              f"{s['runqueue_wait_ms']:5.1f} ms)  " + "; ".join(f"{k} x{n}" for k, n in s["samples"].items()))
    m = out["mission"]
    print(f"\nmission: {[t for _, t in m['log']]}{' error: ' + m['error'] if m['error'] else ''}; armed {m['armed']}, "
          f"mode {m['mode']}, alarms {m['alarms_in_review']}; closed cleanly {out['close']['closed_down']} in "
          f"{out['close']['seconds']} s")


if __name__ == "__main__":
    sys.exit(main())
