"""`hullwatch sim`: the embedded vehicle as a stand-alone MAVLink endpoint."""
from __future__ import annotations

import dataclasses

from .errors import UserError


def run_sim_command(args) -> int:
    from sim.cli import parse_host_port, run_sim
    from sim.vehicle_server import SimConfig

    if args.hull or args.scenario:
        raise UserError("--hull and --scenario need the hull model and embedded world, which this version "
                        "does not have yet; run `hullwatch sim` without them")
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
    config = dataclasses.replace(SimConfig(), position_estimate=not args.no_position,
                                 udp_enabled=udp is not None)
    return run_sim(udp=udp, tcp=tcp, duration_s=args.duration, config=config)
