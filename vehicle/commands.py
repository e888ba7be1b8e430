"""COMMAND_LONG with ACK, retries and a typed error that names the MAV_RESULT."""
from __future__ import annotations

import time

from .dialect import mavlink
from .errors import CommandRejected, CommandTimeout, VehicleError
from .telemetry import enum_name

_RESULT_HINTS = {
    mavlink.MAV_RESULT_DENIED: "the vehicle refuses it in its current state",
    mavlink.MAV_RESULT_UNSUPPORTED: "this firmware does not support the command",
    mavlink.MAV_RESULT_TEMPORARILY_REJECTED: "try again in a moment",
    mavlink.MAV_RESULT_FAILED: "see the vehicle's message",
}
IN_PROGRESS_WAIT_S = 3.0
CLOSE_POLL_S = 0.1  # how soon a wait notices that the vehicle was closed
# STATUSTEXT that explains a refusal arrives just before (ArduSub) or after the ACK.
_EXPLANATION_GRACE_S = 0.15


def command_name(command: int) -> str:
    return enum_name("MAV_CMD", command, "MAV_CMD_")


class CommandSender:
    def __init__(self, vehicle):
        self._vehicle = vehicle

    def command_long(self, command: int, params: tuple[float, ...] = (), *, name: str | None = None,
                     timeout_s: float | None = None, retries: int | None = None) -> int:
        """Send and wait for COMMAND_ACK; returns MAV_RESULT_ACCEPTED or raises."""
        v = self._vehicle
        tmo = v.timeouts
        timeout_s = tmo.command_ack_s if timeout_s is None else timeout_s
        attempts = 1 + (tmo.command_retries if retries is None else retries)
        name = name or command_name(command)
        p = tuple(float(x) for x in params) + (0.0,) * (7 - len(params))
        target_sys, target_comp = v.target()
        with v.router.waiter(["COMMAND_ACK"], lambda m: m.command == command) as acks, \
                v.router.waiter(["STATUSTEXT"]) as texts:
            for attempt in range(attempts):
                v.connection.send(mavlink.MAVLink_command_long_message(
                    target_sys, target_comp, command, attempt, *p))
                deadline = time.monotonic() + timeout_s
                while True:
                    if v.closed:
                        raise VehicleError(f"{name}: the connection was closed")
                    ack = acks.get(min(deadline - time.monotonic(), CLOSE_POLL_S))
                    if ack is None:
                        if time.monotonic() < deadline:
                            continue
                        break
                    if ack.result == mavlink.MAV_RESULT_IN_PROGRESS:
                        # still working (a long command reports progress): wait longer, don't resend
                        deadline = time.monotonic() + max(IN_PROGRESS_WAIT_S, timeout_s)
                        continue
                    if ack.result == mavlink.MAV_RESULT_ACCEPTED:
                        return ack.result
                    raise self._rejected(ack.result, name, texts)
        raise CommandTimeout(name, attempts, timeout_s)

    @staticmethod
    def _rejected(result: int, name: str, texts) -> CommandRejected:
        explanation = []
        deadline = time.monotonic() + _EXPLANATION_GRACE_S
        while True:
            m = texts.get(deadline - time.monotonic()) if not explanation else texts.get_nowait()
            if m is None:
                break
            text = m.text if isinstance(m.text, str) else m.text.decode(errors="replace")
            if m.severity <= mavlink.MAV_SEVERITY_WARNING or "fail" in text.lower() or "prearm" in text.lower():
                explanation.append(text.rstrip("\x00"))
        detail = "; ".join(explanation) or _RESULT_HINTS.get(result, "")
        return CommandRejected(result, name, enum_name("MAV_RESULT", result, "MAV_RESULT_"), detail)
