"""Benchmark: sensor stream latency of the embedded vehicle, as the station sees it.

    python bench/bench_rtp_latency.py [--frames N] [--pings N]

Camera: from the moment a frame's render completes to the moment the station's
VideoSource has decoded it (H.264 over RTP/UDP on loopback, our depacketizer + PyAV),
against a baseline measured in the same run: the same libx264 encode and PyAV decode
in-process, without RTP or sockets. Frames are the World's real renders of the default
ship, at 10 frames/s, rendered live (so the renderer competes for the 2 cores as it does
in `hullwatch sim`).
Oculus: from a ping's render completing in the simulated sonar to the station's
OculusClient having parsed it (SimplePingResult encode + TCP + split + parse), against
encode + parse in-process.
Results: a table on stdout and bench/results/bench_rtp_latency.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sim.camera_render import CameraConfig  # noqa: E402
from sim.embedded_world import build_world  # noqa: E402
from sim.oculus_encode import encode_frame  # noqa: E402
from sim.oculus_server import OculusServer  # noqa: E402
from sim.sonar_render import MultibeamConfig  # noqa: E402
from sim.vehicle_server import SimConfig, SimVehicle  # noqa: E402
from sim.video_stream import RtpH264Sender  # noqa: E402
from vision.sonar.oculus import parse_oculus_ping  # noqa: E402
from vision.sonar.oculus_client import OculusClient  # noqa: E402
from vision.video.source import VideoSource  # noqa: E402

RESULTS = REPO / "bench" / "results" / "bench_rtp_latency.json"
FPS = 10.0


def pct(values_s) -> dict:
    ms = np.asarray(values_s) * 1000.0
    return {"n": int(len(ms)), "p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "max_ms": float(ms.max())}


def camera_baseline(images) -> list[float]:
    """libx264 (the sender's settings) -> PyAV h264 decode, one frame at a time, no network."""
    import av

    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = images[0].shape[1], images[0].shape[0], "yuv420p"
    enc.time_base, enc.framerate, enc.gop_size, enc.max_b_frames = Fraction(1, 90000), Fraction(10), 10, 0
    enc.options = {"preset": "ultrafast", "tune": "zerolatency", "x264-params": "repeat-headers=1:keyint=10"}
    enc.open()
    dec = av.CodecContext.create("h264", "r")
    dec.thread_type = "SLICE"
    out = []
    for i, img in enumerate(images):
        t0 = time.monotonic()
        frame = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv420p")
        frame.pts = i * 9000
        decoded = []
        for packet in enc.encode(frame):
            decoded += [f.to_ndarray(format="bgr24") for f in dec.decode(packet)]
        assert decoded, "the zerolatency encoder should give one frame out per frame in"
        out.append(time.monotonic() - t0)
    return out


def camera_network(world, sim, n_frames: int) -> tuple[list[float], list[np.ndarray], dict]:
    cfg = CameraConfig()
    rng = np.random.default_rng(0)
    done: list[float] = []
    images: list[np.ndarray] = []
    with VideoSource("udp://127.0.0.1:0") as video:
        sender = RtpH264Sender("127.0.0.1", video.local_port, cfg.width, cfg.height, fps=FPS, gop=10)
        received = []

        def reader():
            while len(received) < n_frames:
                try:
                    received.append(video.read(timeout_s=3.0))
                except TimeoutError:
                    return

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        next_t = time.monotonic()
        for _ in range(n_frames):
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            truth = sim.truth()
            image = world.render_camera(world.camera_pose(truth), cfg, rng).image
            t_done = time.monotonic()
            sender.send(image, t_s=t_done)  # the RTP timestamp is the render-complete time
            done.append(t_done)
            images.append(image)
            next_t = max(next_t + 1.0 / FPS, time.monotonic())
        thread.join(5.0)
        sender.close()
        stats = video.stats()
    # match by RTP time: the station's capture times keep the sender's spacing exactly
    rel_sent = np.asarray(done) - done[0]
    lat = []
    if received:
        base = received[0].t_capture_s
        for f in received:
            k = int(np.argmin(np.abs(rel_sent - (f.t_capture_s - base))))
            lat.append(f.t_received_s - done[k])
    info = {"frames_sent": n_frames, "frames_decoded": stats.frames_decoded, "frames_dropped": stats.frames_dropped,
            "damaged": stats.damaged_frames}
    return lat, images, info


def oculus(world, sim, n_pings: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(1)
    rendered: dict[int, float] = {}
    lock = threading.Lock()

    def render(cfg: MultibeamConfig):
        frame = world.render_sonar(world.sonar_pose(sim.truth()), cfg, rng)
        with lock:
            rendered[len(rendered)] = time.monotonic()  # ping ids are handed out in render order
        return frame

    server = OculusServer(render, port=0, max_ping_rate_hz=10.0).start()
    lat, frames = [], []
    try:
        with OculusClient("127.0.0.1", server.port, range_m=10.0, ping_rate_hz=10.0) as client:
            for _ in range(n_pings):
                ping = client.read(timeout_s=5.0)
                with lock:
                    lat.append(ping.t_s - rendered[ping.ping_id])
    finally:
        server.stop()
    cfg = MultibeamConfig(range_bins=512)
    base = []
    for _ in range(min(n_pings, 20)):
        frame = world.render_sonar(world.sonar_pose(sim.truth()), cfg, rng)
        t0 = time.monotonic()
        parse_oculus_ping(encode_frame(frame, cfg))
        base.append(time.monotonic() - t0)
    return lat, base


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--pings", type=int, default=30)
    args = ap.parse_args()
    ew = build_world()
    with SimVehicle(SimConfig(udp_target=None, tcp_port=None, udp_enabled=False, start_depth_m=3.0)) as sim:
        net, images, info = camera_network(ew.world, sim, args.frames)
        base = camera_baseline(images)
        ping_lat, ping_base = oculus(ew.world, sim, args.pings)
    rows = {
        "camera_baseline_encode_decode_in_process": pct(base),
        "camera_render_complete_to_decoded_at_VideoSource": pct(net),
        "oculus_baseline_encode_parse_in_process": pct(ping_base),
        "oculus_render_complete_to_parsed_at_OculusClient": pct(ping_lat),
        "camera_stream": info,
    }
    print(f"{'stage':<52} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, r in rows.items():
        if "p50_ms" in r:
            print(f"{name:<52} {r['n']:>4} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f}")
    cam, cb = rows["camera_render_complete_to_decoded_at_VideoSource"], rows["camera_baseline_encode_decode_in_process"]
    print(f"network + RTP overhead over the baseline: p50 {cam['p50_ms'] - cb['p50_ms']:+.1f} ms, "
          f"p95 {cam['p95_ms'] - cb['p95_ms']:+.1f} ms; frames {info}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
