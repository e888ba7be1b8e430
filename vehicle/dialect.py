"""The MAVLink dialect HullWatch speaks: MAVLink 2, ardupilotmega.

Imported directly rather than through mavutil so the choice does not depend on the
MAVLINK20 environment variable. The v2 parser also accepts MAVLink 1 packets.
"""
from pymavlink.dialects.v20 import ardupilotmega as mavlink

MAVLink = mavlink.MAVLink
MAVLinkMessage = mavlink.MAVLink_message
MAVError = mavlink.MAVError

# ids used by the station (MAV_COMP_ID_MISSIONPLANNER is what QGC and MAVProxy use)
STATION_SYSTEM_ID = 255
STATION_COMPONENT_ID = mavlink.MAV_COMP_ID_MISSIONPLANNER

__all__ = ["mavlink", "MAVLink", "MAVLinkMessage", "MAVError",
           "STATION_SYSTEM_ID", "STATION_COMPONENT_ID"]
