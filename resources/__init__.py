"""Shipped assets (models, icons, styles). One module loads them all so the installer finds them."""
from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """Path of a shipped asset, e.g. resource_path("models", "camera.onnx")."""
    return RESOURCES_DIR.joinpath(*parts)
