"""Typed errors of the vehicle layer. Each message names the cause and what to do."""
from __future__ import annotations


class VehicleError(Exception):
    """Base of every error the vehicle layer raises at its users."""


class ConnectionStringError(VehicleError, ValueError):
    """A connection URL that cannot be understood."""


class LinkError(VehicleError):
    """A transport that cannot be opened or stopped working (port in use, device gone)."""


class VehicleNotFound(VehicleError):
    """No autopilot heartbeat arrived in time."""


class NotConnected(VehicleError):
    """An operation that needs a discovered vehicle was called before discovery."""


class CommandTimeout(VehicleError):
    """No answer to a command after all retries."""

    def __init__(self, command: str, attempts: int, timeout_s: float):
        super().__init__(f"{command}: no answer from the vehicle after {attempts} attempts "
                         f"({timeout_s:.1f} s each); check the link")
        self.command = command
        self.attempts = attempts


class CommandRejected(VehicleError):
    """The vehicle answered a command with a MAV_RESULT other than ACCEPTED."""

    def __init__(self, result: int, command: str, result_name: str, detail: str = ""):
        msg = f"{command} rejected by the vehicle: {result_name}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)
        self.result = result
        self.result_name = result_name
        self.command = command
        self.detail = detail


class CapabilityUnavailable(VehicleError):
    """The vehicle is not configured for what was asked (e.g. no lights button)."""


class ParameterError(VehicleError):
    """A parameter that does not exist, was not confirmed, or a bad .params file."""


class MissionTransferError(VehicleError):
    """A mission upload/download that failed; `result_name` is the MAV_MISSION_RESULT."""

    def __init__(self, message: str, result: int | None = None, result_name: str = ""):
        super().__init__(message)
        self.result = result
        self.result_name = result_name
