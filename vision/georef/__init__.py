"""Georeferencing: detections placed on the hull (issue 6, part 1).

Camera boxes become rays from the camera's pose at frame time (hull.pose.PoseHistory ->
hull.pose.sensor_pose) and land on the hull model; sonar echoes (range, bearing) have
their elevation resolved against the hull; tracks fuse their placements into findings.
"""
from .camera import CameraModel, locate_camera_detections
from .findings import Finding, FindingBook, fuse_positions
from .located import Located
from .sonar import locate_sonar_detections, resolved_elevation_deg

__all__ = ["CameraModel", "Finding", "FindingBook", "Located", "fuse_positions", "locate_camera_detections",
           "locate_sonar_detections", "resolved_elevation_deg"]
