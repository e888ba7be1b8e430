"""Frames, sonar pings, detectors, tracking, georeferencing, hull map (issues 5-6)."""
