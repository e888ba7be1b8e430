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
DEFAULT_VIDEO_TARGET = "127.0.0.1:5600"
DEFAULT_OCULUS_PORT = 52100
DEFAULT_PING360_PORT = 12345
STATUS_PERIOD_S = 1.0
SENSOR_FLAGS = {"Oculus TCP": "--oculus-port PORT", "Ping360 UDP": "--ping360-port PORT"}


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
            out: TextIO | None = None, setup=None, sensors=None) -> int:
    """Run until Ctrl-C (or duration_s); one status line per second. Returns an exit code.

    setup(sim) runs before the vehicle starts (e.g. the rangefinder's hull);
    sensors(sim) runs after, and returns the started sensor streams (with describe()
    and stop()), which are stopped before the vehicle."""
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
    streams = None
    if sensors is not None:
        from sim.sensor_streams import SensorPortInUseError

        try:
            streams = sensors(sim)
        except SensorPortInUseError as exc:
            sim.stop()
            print(f"{exc.kind} port {exc.port} is already in use: stop the other simulator or pass "
                  f"{SENSOR_FLAGS.get(exc.kind, 'another port')}", file=out)
            return 1
        except BaseException:
            sim.stop()
            raise
    print("HullWatch ArduSub simulator on " + ", ".join(where) + " (Ctrl-C to stop)", file=out)
    for line in streams.describe() if streams is not None else ():
        print("  " + line, file=out)
    out.flush()
    started = time.monotonic()
    try:
        while duration_s is None or time.monotonic() - started < duration_s:
            time.sleep(STATUS_PERIOD_S if duration_s is None
                       else max(0.0, min(STATUS_PERIOD_S, duration_s - (time.monotonic() - started))))
            print(status_line(sim), file=out, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        if streams is not None:
            streams.stop()
        sim.stop()
    return 0


def prepare_world(*, hull=None, scenario=None, draft_m: float | None = None, sensors: bool = True,
                  video: tuple[str, int] | None = ("127.0.0.1", 5600), oculus_port: int | None = DEFAULT_OCULUS_PORT,
                  ping360_port: int | None = DEFAULT_PING360_PORT, seed: int | None = None,
                  out: TextIO | None = None, save_scenario=None, world_out: dict | None = None):
    """(setup, sensors, seabed_depth_m) for run_sim: the world `hullwatch sim` serves.

    With sensors, the world (scenario or generated, see sim.embedded_world) is built and
    the camera, Oculus and Ping360 streams start beside the vehicle. Without, only a given
    hull is loaded, for the rangefinder. The rangefinder always measures the real hull.
    Raises sim.embedded_world.WorldSetupError with a message naming the cause.
    world_out, when given, receives the hull model and placement (and the EmbeddedWorld
    when one was built): the station maps onto the same hull the vehicle dives at."""
    from sim.embedded_world import DEFAULT_SEED, berth_beside_start, build_world, load_hull
    from sim.hull_range import hull_range_function

    out = out or sys.stderr
    if sensors or scenario is not None or save_scenario is not None:
        ew = build_world(hull, scenario, draft_m, DEFAULT_SEED if seed is None else seed)
        model, placement = ew.model, ew.scenario.placement
        print(ew.summary, file=out)
        if save_scenario is not None:
            from sim.scenario import save_scenario as save, write_ground_truth

            save(ew.scenario, save_scenario)
            truth = write_ground_truth(ew.scenario, ew.model, save_scenario)
            print(f"wrote {save_scenario} and its ground truth {truth}", file=out)
    elif hull is not None:
        model = load_hull(hull)
        draft = draft_m if draft_m is not None else 0.4 * model.depth_m
        if not 0 < draft < model.depth_m:
            from sim.embedded_world import WorldSetupError

            raise WorldSetupError(f"draft {draft:g} m must lie between the keel and the deck "
                                  f"({model.depth_m:.2f} m keel to deck)")
        placement = berth_beside_start(model, draft)
        ew = None
        print(f"hull {model.name}: {model.length_m:.1f} m at draft {draft:.1f} m; bow east, starboard side "
              f"5 m ahead (north) of the vehicle", file=out)
    else:
        return None, None, None

    if world_out is not None:
        world_out.update(model=model, placement=placement, world=ew)

    def setup(sim) -> None:
        sim.set_range_function(hull_range_function(model.mesh, placement, lambda: sim.param("RNGFND1_ORIENT"),
                                                   queries=model.queries))

    start_sensors = None
    if sensors and ew is not None:
        from sim.sensor_streams import SensorStreams, SensorStreamsConfig

        # the status goes 2 above the data port, as 52102 beside 52100; not beside a random port
        status = ("127.0.0.1", oculus_port + 2) if oculus_port else None
        cfg = SensorStreamsConfig(video=video, oculus_port=oculus_port, ping360_port=ping360_port,
                                  oculus_status=status, seed=0 if seed is None else seed)

        def start_sensors(sim):
            return SensorStreams(sim, ew.world, cfg).start()
    return setup, start_sensors, placement.water_depth_m


def _port_or_off(text: str) -> int | None:
    value = int(text)
    if not -1 <= value <= 65535:
        raise ValueError(f"port {value} is outside 0..65535 (-1 turns it off)")
    return None if value == -1 else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim", description="Simulated ArduSub ROV (MAVLink 2).")
    parser.add_argument("--udp", default=DEFAULT_UDP_TARGET, metavar="HOST:PORT",
                        help="send MAVLink to this UDP address, like BlueOS (default %(default)s)")
    parser.add_argument("--tcp", type=int, default=DEFAULT_TCP_PORT, metavar="PORT",
                        help="serve MAVLink on this TCP port, like SITL; 0 = any free port (default %(default)s)")
    parser.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    parser.add_argument("--no-dvl", action="store_true", help="no position estimate (AUTO/GUIDED refused)")
    parser.add_argument("--origin", default=None, metavar="LAT,LON", help="EKF origin in degrees")
    parser.add_argument("--hull", metavar="FILE", help="hull mesh at the berth (default: a parametric ship)")
    parser.add_argument("--scenario", metavar="FILE", help="scenario file (hull, placement, planted objects)")
    parser.add_argument("--video", default=DEFAULT_VIDEO_TARGET, metavar="HOST:PORT",
                        help="send the camera's H.264 RTP stream here (default %(default)s; 'none' = off)")
    parser.add_argument("--oculus-port", default=DEFAULT_OCULUS_PORT, type=int, metavar="PORT",
                        help="Oculus multibeam TCP port (default %(default)s; 0 = any free, -1 = off)")
    parser.add_argument("--ping360-port", default=DEFAULT_PING360_PORT, type=int, metavar="PORT",
                        help="Ping360 UDP port (default %(default)s; 0 = any free, -1 = off)")
    parser.add_argument("--no-sensors", action="store_true", help="no world and no sensor streams")
    args = parser.parse_args(argv)
    config = SimConfig(position_estimate=not args.no_dvl)
    if args.origin:
        try:
            lat, lon = (float(v) for v in args.origin.split(","))
        except ValueError:
            parser.error("--origin expects LAT,LON in degrees")
        config = SimConfig(position_estimate=not args.no_dvl, origin_lat_deg=lat, origin_lon_deg=lon)
    from sim.embedded_world import WorldSetupError

    try:
        video = None if args.video.lower() == "none" else parse_host_port(args.video)
        oculus, ping360 = _port_or_off(str(args.oculus_port)), _port_or_off(str(args.ping360_port))
        setup, sensors, seabed = prepare_world(hull=args.hull, scenario=args.scenario, sensors=not args.no_sensors,
                                               video=video, oculus_port=oculus, ping360_port=ping360)
    except (ValueError, WorldSetupError) as exc:
        print(f"python -m sim: {exc}", file=sys.stderr)
        return 1
    if seabed is not None:
        config = dataclasses.replace(config, seabed_depth_m=seabed)
    return run_sim(udp=args.udp, tcp=args.tcp, duration_s=args.duration, config=config, setup=setup,
                   sensors=sensors)
