"""Command-line entry for the simulator: ``python -m sim`` / ``hullwatch sim``."""
from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from typing import TextIO

from sim.transports import PortInUseError
from sim.vehicle_server import SimConfig, SimVehicle

DEFAULT_UDP_TARGET = "127.0.0.1:14550"
DEFAULT_TCP_PORT = 5760
STATUS_PERIOD_S = 1.0


def parse_host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def status_line(sim: SimVehicle) -> str:
    t = sim.truth()
    n, e, _ = t.position_ned_m
    fs = ",".join(t.failsafes) or "none"
    return (f"t={t.t_s:6.0f}s {t.mode:<9} {'ARMED' if t.armed else 'disarmed':<8} "
            f"depth {t.depth_m:5.2f} m  N {n:6.1f} E {e:6.1f}  hdg {math.degrees(t.heading_rad) % 360:5.1f}°  "
            f"batt {t.battery_voltage_v:4.1f} V {t.battery_remaining_pct:3.0f}%  failsafes {fs}")


def run_sim(udp: str | tuple[str, int] | None = DEFAULT_UDP_TARGET, tcp: int | None = DEFAULT_TCP_PORT,
            duration_s: float | None = None, config: SimConfig | None = None,
            out: TextIO | None = None, setup=None) -> int:
    """Run until Ctrl-C (or duration_s); one status line per second. Returns an exit code."""
    out = out or sys.stderr
    try:
        target = parse_host_port(udp) if isinstance(udp, str) else udp
    except ValueError as exc:
        print(f"--udp: {exc}", file=out)
        return 2
    base = config or SimConfig()
    cfg = dataclasses.replace(base, udp_target=target, tcp_port=tcp)
    sim = SimVehicle(cfg)
    if setup is not None:
        setup(sim)  # e.g. a hull for the rangefinder
    try:
        sim.start()
    except PortInUseError as exc:
        flag = "--tcp PORT" if exc.kind == "TCP" else "--udp HOST:PORT"
        print(f"{exc.kind} port {exc.port} is already in use: stop the other simulator or pass {flag}", file=out)
        return 1
    where = []
    if sim.udp_address is not None:
        where.append(f"UDP {sim.udp_address[0]}:{sim.udp_address[1]}"
                     + (f" -> {target[0]}:{target[1]}" if target else ""))
    if sim.tcp_port is not None:
        where.append(f"TCP {cfg.tcp_host}:{sim.tcp_port}")
    print("HullWatch ArduSub simulator on " + ", ".join(where) + " (Ctrl-C to stop)", file=out)
    started = time.monotonic()
    try:
        while duration_s is None or time.monotonic() - started < duration_s:
            time.sleep(STATUS_PERIOD_S if duration_s is None
                       else max(0.0, min(STATUS_PERIOD_S, duration_s - (time.monotonic() - started))))
            print(status_line(sim), file=out, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim", description="Simulated ArduSub ROV (MAVLink 2).")
    parser.add_argument("--udp", default=DEFAULT_UDP_TARGET, metavar="HOST:PORT",
                        help="send MAVLink to this UDP address, like BlueOS (default %(default)s)")
    parser.add_argument("--tcp", type=int, default=DEFAULT_TCP_PORT, metavar="PORT",
                        help="serve MAVLink on this TCP port, like SITL; 0 = any free port (default %(default)s)")
    parser.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    parser.add_argument("--no-dvl", action="store_true", help="no position estimate (AUTO/GUIDED refused)")
    parser.add_argument("--origin", default=None, metavar="LAT,LON", help="EKF origin in degrees")
    args = parser.parse_args(argv)
    config = SimConfig(position_estimate=not args.no_dvl)
    if args.origin:
        try:
            lat, lon = (float(v) for v in args.origin.split(","))
        except ValueError:
            parser.error("--origin expects LAT,LON in degrees")
        config = SimConfig(position_estimate=not args.no_dvl, origin_lat_deg=lat, origin_lon_deg=lon)
    return run_sim(udp=args.udp, tcp=args.tcp, duration_s=args.duration, config=config)
