"""The embedded world used when no vehicle is connected.

``sim.vehicle_server.SimVehicle`` is an ArduSub 4.1 look-alike behind real MAVLink
endpoints (UDP like BlueOS, TCP like SITL); ``python -m sim`` runs one from a shell.
"""
