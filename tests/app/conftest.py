"""GUI tests run offscreen unless a display is chosen on purpose (QT_QPA_PLATFORM=xcb
under Xvfb for screenshots)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
