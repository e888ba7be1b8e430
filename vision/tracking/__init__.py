"""Multi-object tracking (ByteTrack-style) and the alarms raised from confirmed tracks."""
from .bytetrack import ByteTracker, Track, TrackerConfig, track_frame, tracker_for

__all__ = ["ByteTracker", "Track", "TrackerConfig", "track_frame", "tracker_for"]
