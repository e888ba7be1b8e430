"""`hullwatch` command line: one entry point, sub-commands as in CLI.md.

Exit codes: 0 success, 1 a user-facing error (one line naming the cause; traceback only
with --debug), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import logging
import sys

from . import __doc__ as _app_doc  # noqa: F401  (keeps the package importable for tools)


class UserError(Exception):
    """An error whose message is for the user: printed as one line, exit code 1."""


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _depth(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of metres") from None
    if not 0 <= value <= 300:
        raise argparse.ArgumentTypeError(f"depth {value:g} m is outside 0..300 m (depth is positive down)")
    return value


def _mode(text: str) -> str:
    from vehicle.ardusub import parse_mode

    try:
        return parse_mode(text).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hullwatch",
        description="HullWatch: ROV hull-inspection ground station for ArduSub vehicles. "
                    "Without a sub-command it runs the station on the embedded world "
                    "(a simulated ArduSub vehicle on loopback).")
    parser.add_argument("--connect", metavar="URL",
                        help="run the station on a real vehicle instead of the embedded world "
                             "(udpin:0.0.0.0:14550, tcp:HOST:5760, serial:/dev/ttyACM0:115200)")
    parser.add_argument("--duration", type=_positive, metavar="S",
                        help="stop after S seconds (default: run until Ctrl-C)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("sim", help="run the embedded ArduSub-compatible vehicle until stopped",
                       description="Runs the embedded vehicle: MAVLink on UDP (sending to HOST:PORT like a "
                                   "BlueOS vehicle) and on a TCP server port like ArduPilot SITL.")
    p.add_argument("--udp", metavar="HOST:PORT", default="127.0.0.1:14550",
                   help="where to send MAVLink over UDP (default 127.0.0.1:14550); 'none' disables UDP")
    p.add_argument("--tcp", metavar="PORT", type=int, default=5760,
                   help="TCP server port (default 5760); 0 picks a free one; -1 disables TCP")
    p.add_argument("--hull", metavar="FILE", help="hull mesh for the distance sensor (needs the hull package)")
    p.add_argument("--scenario", metavar="FILE", help="scenario file (needs the embedded world)")
    p.add_argument("--no-position", action="store_true",
                   help="simulate a vehicle without DVL: AUTO/GUIDED/POSHOLD are refused")
    p.add_argument("--duration", type=_positive, metavar="S", help="stop after S seconds")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("connect", help="headless station: discover a vehicle and print telemetry",
                       description="Connects, discovers the vehicle, prints one telemetry line per second. "
                                   "With --arm/--mode/--dive-to it runs those steps and exits 0 once the "
                                   "vehicle has confirmed each, 1 with the reason otherwise.")
    p.add_argument("url", metavar="URL",
                   help="udpin:0.0.0.0:14550 | udpout:HOST:PORT | tcp:HOST:5760 | serial:DEVICE:BAUD | FILE.tlog")
    p.add_argument("--arm", action="store_true", help="arm the vehicle (the station then sends neutral "
                                                      "MANUAL_CONTROL so the pilot-input failsafe stays quiet)")
    p.add_argument("--mode", metavar="NAME", type=_mode, help="switch to an ArduSub mode: MANUAL, STABILIZE, ALT_HOLD, "
                                                  "POSHOLD, GUIDED, AUTO, SURFACE")
    p.add_argument("--dive-to", type=_depth, metavar="DEPTH_M", help="descend to DEPTH_M metres and hold it")
    p.add_argument("--duration", type=_positive, metavar="S", help="keep printing for S seconds in all")
    p.add_argument("--timeout", type=_positive, default=10.0, metavar="S",
                   help="how long to wait for the vehicle's heartbeat (default 10 s)")
    p.add_argument("--tlog", metavar="FILE", help="record all MAVLink traffic to this telemetry log")
    p.add_argument("--keep-armed", action="store_true",
                   help="leave the vehicle armed at exit (by default the station disarms what it armed)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("hull", help="load a hull mesh and print what was repaired and measured",
                       description="Loads an STL (ASCII, binary, gzipped), OBJ or PLY hull, normalises it to the "
                                   "hull frame (x forward from the aft end, y to port, z up from the keel), repairs "
                                   "what real files bring and prints each repair and the main measurements.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--scale", type=_positive, default=1.0, metavar="K",
                   help="model-to-full-scale factor (e.g. 59.407 for a 1:59.407 model)")
    p.add_argument("--units", choices=["m", "cm", "mm"], help="units of the file (default: detect)")
    p.add_argument("--draft", type=_positive, metavar="D", help="also measure the wetted surface at this draft (m)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("replay", help="summarise a telemetry log (.tlog)",
                       description="Vehicle type, firmware, duration, modes, max depth, message counts, bad packets.")
    p.add_argument("file", metavar="FILE.tlog")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("hullwatch: stopped", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place where errors become a message
        if args.debug:
            raise
        from vehicle.errors import VehicleError

        known = (UserError, VehicleError, OSError, ValueError)
        try:
            from vehicle.tlog import TlogError
            known += (TlogError,)
        except ImportError:
            pass
        if isinstance(exc, known):
            print(f"hullwatch: error: {exc}", file=sys.stderr)
        else:
            print(f"hullwatch: internal error: {type(exc).__name__}: {exc} "
                  f"(run again with --debug and report the traceback)", file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    if args.command == "sim":
        from .cmd_sim import run_sim_command

        return run_sim_command(args)
    if args.command == "connect":
        from .cmd_connect import run_connect_command

        return run_connect_command(args)
    if args.command == "hull":
        from .cmd_hull import run_hull_command

        return run_hull_command(args)
    if args.command == "replay":
        from .cmd_replay import run_replay_command

        return run_replay_command(args)
    from .cmd_station import run_station

    return run_station(connect_url=args.connect, duration_s=args.duration)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
