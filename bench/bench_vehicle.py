"""Benchmark: the vehicle layer against the embedded vehicle over loopback.

    python bench/bench_vehicle.py [--commands N] [--items N]

In one run:
  baseline   raw pymavlink ping-pong over loopback UDP: COMMAND_LONG -> COMMAND_ACK from a
             minimal responder thread (no simulator, no station): the floor for a round trip
  command    Vehicle.commands.command_long (SET_MESSAGE_INTERVAL, ACK awaited) to the
             simulator over TCP and over UDP: p50 / p95 / max round trip
  mission    Vehicle.mission.upload and download of N items (default 500) at 0% and 20% loss
             each way, with retransmission counts; ratio against N baseline round trips
Results go to bench/results/bench_vehicle.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pymavlink.dialects.v20 import ardupilotmega as mavlink  # noqa: E402

from sim.vehicle_server import SimConfig, SimVehicle  # noqa: E402
from vehicle import Vehicle, waypoint  # noqa: E402

RESULTS = REPO / "bench" / "results" / "bench_vehicle.json"


def _pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _summary(samples_s: list[float]) -> dict:
    ms = [x * 1000 for x in samples_s]
    return {"n": len(ms), "p50_ms": _pct(ms, 0.5), "p95_ms": _pct(ms, 0.95), "max_ms": max(ms),
            "mean_ms": statistics.fmean(ms)}


def baseline_round_trips(n: int) -> list[float]:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.1)  # lets the responder see the stop flag
    stop = threading.Event()

    def respond():
        mav = mavlink.MAVLink(None, 1, 1)
        while not stop.is_set():
            try:
                data, addr = server.recvfrom(2048)
            except socket.timeout:
                continue
            for m in mav.parse_buffer(data) or []:
                server.sendto(mavlink.MAVLink_command_ack_message(m.command, 0, 0, 0, 255, 190).pack(mav), addr)

    thread = threading.Thread(target=respond, daemon=True)
    thread.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)
    mav = mavlink.MAVLink(None, 255, 190)
    out = []
    for i in range(n):
        pkt = mavlink.MAVLink_command_long_message(1, 1, 511, 0, 30, 100000, 0, 0, 0, 0, 0).pack(mav)
        t0 = time.perf_counter()
        client.sendto(pkt, server.getsockname())
        data, _ = client.recvfrom(2048)
        mav.parse_buffer(data)
        out.append(time.perf_counter() - t0)
    stop.set()
    thread.join(2)
    server.close()
    client.close()
    return out


def command_round_trips(transport: str, n: int) -> list[float]:
    if transport == "tcp":
        sim = SimVehicle(SimConfig(udp_target=None, tcp_port=0, udp_enabled=False))
        sim.start()
        v = Vehicle(f"tcp:127.0.0.1:{sim.tcp_port}", request_streams=False)
        v.open()
    else:
        v = Vehicle("udpin:127.0.0.1:0", request_streams=False)
        v.open()
        sim = SimVehicle(SimConfig(udp_target=("127.0.0.1", v.link.port), tcp_port=None))
        sim.start()
    try:
        v.wait_discovered(10)
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            v.commands.command_long(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, (30, 100000), retries=0)
            out.append(time.perf_counter() - t0)
        return out
    finally:
        v.close()
        sim.stop()


def mission_times(items: int, loss: float) -> dict:
    sim = SimVehicle(SimConfig(udp_target=None, tcp_port=0, udp_enabled=False))
    sim.start()
    v = Vehicle(f"tcp:127.0.0.1:{sim.tcp_port}")
    v.open()
    try:
        v.wait_discovered(10)
        v.wait_for(lambda s: s.attitude.t_s is not None, 10, "streams")
        mission = [waypoint(i, 53.5 + i * 1e-6, 9.9, i % 30 * 0.3) for i in range(items)]
        sim.faults.loss = loss
        t0 = time.perf_counter()
        v.mission.upload(mission)
        up_s = time.perf_counter() - t0
        up_retx = v.mission.retransmissions
        t0 = time.perf_counter()
        back = v.mission.download()
        down_s = time.perf_counter() - t0
        assert len(back) == items
        return {"items": items, "loss": loss, "upload_s": up_s, "upload_retransmissions": up_retx,
                "download_s": down_s, "download_retransmissions": v.mission.retransmissions}
    finally:
        v.close()
        sim.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commands", type=int, default=300)
    ap.add_argument("--items", type=int, default=500)
    args = ap.parse_args()

    base = _summary(baseline_round_trips(args.commands))
    tcp = _summary(command_round_trips("tcp", args.commands))
    udp = _summary(command_round_trips("udp", args.commands))
    missions = [mission_times(args.items, 0.0), mission_times(args.items, 0.2)]
    base_items_s = base["mean_ms"] / 1000 * args.items

    print(f"{'command round trip':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p50 / baseline':>15}")
    for name, s in (("baseline: raw pymavlink UDP", base), ("HullWatch -> sim, TCP", tcp),
                    ("HullWatch -> sim, UDP", udp)):
        print(f"{name:<34} {s['p50_ms']:8.3f} {s['p95_ms']:8.3f} {s['max_ms']:8.3f} "
              f"{s['p50_ms'] / base['p50_ms']:14.1f}x")
    print()
    print(f"{'mission (' + str(args.items) + ' items)':<22} {'loss':>5} {'upload s':>9} {'retx':>5} "
          f"{'download s':>11} {'retx':>5} {'upload / baseline':>18}")
    for m in missions:
        print(f"{'':<22} {m['loss']:5.0%} {m['upload_s']:9.2f} {m['upload_retransmissions']:5d} "
              f"{m['download_s']:11.2f} {m['download_retransmissions']:5d} {m['upload_s'] / base_items_s:17.1f}x")
    print(f"(baseline for a mission: {args.items} raw round trips = {base_items_s:.3f} s)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "baseline_round_trip": base, "command_round_trip_tcp": tcp, "command_round_trip_udp": udp,
        "missions": missions, "baseline_mission_s": base_items_s,
    }, indent=2))
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
