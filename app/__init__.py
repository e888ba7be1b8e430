"""The application: CLI entry, station composition, and (later) the PySide6 UI.

The only package that may import PySide6.
"""
