"""GUI tests run offscreen unless a display is chosen on purpose (QT_QPA_PLATFORM=xcb
under Xvfb for screenshots)."""
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="module", autouse=True)
def _app_look_per_module(qapp):
    """A module that themes the application (palette, font, style) hands the next module
    the look it found, so pixel checks do not depend on the order tests run in."""
    palette, font, style = qapp.palette(), qapp.font(), qapp.style().name()
    yield
    qapp.setStyle(style)
    qapp.setPalette(palette)
    qapp.setFont(font)
