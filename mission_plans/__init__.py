"""Sweep planning over a hull, plan files and MAVLink mission items (issue 3)."""
