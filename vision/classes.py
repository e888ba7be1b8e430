"""The detection classes (DESIGN.md): the two alarms first, then the niche landmarks."""

CLASSES: tuple[str, ...] = (
    "parasitic_container",
    "niche_anomaly",
    "sea_chest_grating",
    "propeller",
    "rudder",
    "anode",
    "thruster_tunnel",
    "overboard_valve",
)
CLASS_ID = {name: i for i, name in enumerate(CLASSES)}
ALARM_CLASSES = frozenset({"parasitic_container", "niche_anomaly"})
