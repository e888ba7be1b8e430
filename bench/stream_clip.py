"""A camera at a real camera's rate for the benchmarks: N frames of the embedded world (a
glide along the ship's side, rendered once) streamed as H.264 RTP, forwards and back, at
F frames/s until killed. Its own process, as a vehicle's camera is its own machine.

    python bench/stream_clip.py --port P [--fps 25] [--frames 60] [--seed 1]

Prints "streaming" once the frames are rendered and the stream runs.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from bench_pipeline import _ping_pong, render_frames
    from sim.video_stream import RtpH264Sender

    frames, _ = render_frames(args.seed, args.frames, step_m=1.0 / args.fps)
    h, w = frames[0].shape[:2]
    period = 1.0 / args.fps
    with RtpH264Sender("127.0.0.1", args.port, width=w, height=h, fps=args.fps) as tx:
        print("streaming", flush=True)
        t0, k = time.monotonic(), 0
        while True:
            due = t0 + k * period
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif -wait > period:  # behind: a camera skips to the current frame time
                k += int(-wait / period)
                continue
            tx.send(frames[_ping_pong(k, len(frames))], t_s=due)
            k += 1


if __name__ == "__main__":
    sys.exit(main())
