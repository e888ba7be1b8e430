"""MAVLink client for ArduSub ROVs: links, protocol, telemetry, commands, params, missions.

No Qt here; pymavlink is used only inside this package (and sim/).
"""
from .ardusub import ButtonFunction, SubMode
from .connection_string import LinkConfig, parse_connection_string
from .errors import (CapabilityUnavailable, CommandRejected, CommandTimeout, ConnectionStringError,
                     LinkError, MissionTransferError, NotConnected, ParameterError, VehicleError,
                     VehicleNotFound)
from .mission import MissionItem, waypoint
from .state import VehicleState
from .timeouts import Timeouts
from .vehicle import Vehicle

__all__ = [
    "ButtonFunction", "SubMode", "LinkConfig", "parse_connection_string", "CapabilityUnavailable",
    "CommandRejected", "CommandTimeout", "ConnectionStringError", "LinkError", "MissionTransferError",
    "NotConnected", "ParameterError", "VehicleError", "VehicleNotFound", "MissionItem", "waypoint",
    "VehicleState", "Timeouts", "Vehicle",
]
