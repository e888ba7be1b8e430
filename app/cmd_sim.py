"""`hullwatch sim`: the embedded vehicle as a stand-alone MAVLink endpoint."""
from __future__ import annotations

import dataclasses

from .errors import UserError


def run_sim_command(args) -> int:
    from sim.cli import parse_host_port, run_sim
    from sim.vehicle_server import SimConfig

    if args.scenario:
        raise UserError("--scenario needs the embedded world (planted objects, camera, sonar), which this "
                        "version does not have yet; run `hullwatch sim` without it")
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
    setup = _hull_setup(args.hull, getattr(args, "draft", None)) if args.hull else None
    return run_sim(udp=udp, tcp=tcp, duration_s=args.duration, config=config, setup=setup)


def _hull_setup(path: str, draft_m: float | None):
    """The ship at the berth beside the vehicle's start: bow north, its starboard side
    5 m east of the EKF origin, so the forward rangefinder sees the hull when facing east."""
    import sys

    from hull.model import HullModel
    from hull.placement import Placement
    from sim.hull_range import hull_range_function

    model = HullModel.load(path)
    draft = draft_m if draft_m is not None else 0.4 * model.depth_m
    if draft >= model.depth_m:
        raise UserError(f"--draft {draft:g} m is deeper than the hull ({model.depth_m:.2f} m keel to deck)")
    lo, hi = model.mesh.bounds()
    placement = Placement(origin_lat_deg=None, origin_lon_deg=None, heading_deg=0.0, draft_m=draft,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=draft + 10.0,
                          origin_ned_m=(-0.5 * float(hi[0] - lo[0]), 5.0 + float(-lo[1])))
    print(f"hull {model.name}: {model.length_m:.1f} m at draft {draft:.1f} m, bow north, starboard side 5 m "
          f"east of the vehicle", file=sys.stderr)

    def setup(sim) -> None:
        sim.set_range_function(hull_range_function(model.mesh, placement, lambda: sim.param("RNGFND1_ORIENT"),
                                                   queries=model.queries))
    return setup
