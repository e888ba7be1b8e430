"""`hullwatch sim`: the embedded vehicle as a stand-alone MAVLink endpoint, with its world
(the ship at the berth with planted objects) and its sensors on the network."""
from __future__ import annotations

import dataclasses

from .errors import UserError


def run_sim_command(args) -> int:
    from sim.cli import parse_host_port, prepare_world, run_sim
    from sim.embedded_world import WorldSetupError
    from sim.vehicle_server import SimConfig

    udp = None
    if args.udp.lower() != "none":
        try:
            udp = parse_host_port(args.udp)
        except ValueError as exc:
            raise UserError(f"--udp: {exc} (e.g. 127.0.0.1:14550, or 'none')") from None
    if args.tcp < -1 or args.tcp > 65535:
        raise UserError(f"--tcp: port {args.tcp} is outside 0..65535 (-1 disables TCP)")
    tcp = None if args.tcp == -1 else args.tcp
    if udp is None and tcp is None:
        raise UserError("both UDP and TCP are disabled: the vehicle would be unreachable")
    video = None
    if args.video.lower() != "none":
        try:
            video = parse_host_port(args.video)
        except ValueError as exc:
            raise UserError(f"--video: {exc} (e.g. 127.0.0.1:5600, or 'none')") from None
    if args.save_scenario and not args.save_scenario.endswith(".scenario.json"):
        raise UserError("--save-scenario: name the file NAME.scenario.json (the truth goes beside it as "
                        "NAME.truth.json)")
    ports = {}
    for flag, value in (("--oculus-port", args.oculus_port), ("--ping360-port", args.ping360_port)):
        if not -1 <= value <= 65535:
            raise UserError(f"{flag}: port {value} is outside 0..65535 (0 picks a free one, -1 turns it off)")
        ports[flag] = None if value == -1 else value
    try:
        setup, sensors, seabed_m = prepare_world(
            hull=args.hull, scenario=args.scenario, draft_m=getattr(args, "draft", None),
            sensors=not args.no_sensors, video=video, oculus_port=ports["--oculus-port"],
            ping360_port=ports["--ping360-port"], seed=args.seed, save_scenario=args.save_scenario)
    except WorldSetupError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"--save-scenario: cannot write {args.save_scenario}: {exc.strerror or exc}") from None
    config = dataclasses.replace(SimConfig(), position_estimate=not args.no_position, udp_enabled=udp is not None)
    if seabed_m is not None:
        config = dataclasses.replace(config, seabed_depth_m=seabed_m)
    if getattr(args, "station_child", False):
        from .world_child import serve_station

        return serve_station(config, setup, sensors)
    return run_sim(udp=udp, tcp=tcp, duration_s=args.duration, config=config, setup=setup, sensors=sensors)
