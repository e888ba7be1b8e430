"""Multi-object tracking (ByteTrack-style) and the alarms raised from confirmed tracks."""
from .bytetrack import ByteTracker, Track, TrackerConfig

__all__ = ["ByteTracker", "Track", "TrackerConfig"]
