"""Run ultralytics with no network: no DNS probes, no font or weights downloads, no
settings sync (STACK.md "Offline behaviour to switch off").

Call `prepare_offline()` before ultralytics is first imported (its import reads the
environment), or just use `import_ultralytics()`, which does both. Training builds models
from YAML (`YOLO("yolo11n.yaml")`): any "*.pt" name would start a download.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

FONTS = ("Arial.ttf", "Arial.Unicode.ttf")  # what ultralytics' plotting asks for


class UltralyticsUnavailable(RuntimeError):
    pass


def default_config_dir() -> Path:
    """HullWatch's own ultralytics settings folder, so a user's global settings (and their
    sync flag) are neither used nor changed."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hullwatch" / "ultralytics"


def _dejavu_sans() -> Path | None:
    # found without importing matplotlib: its import writes a cache under $HOME
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    font = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    return font if font.is_file() else None


def prepare_offline(config_dir=None) -> Path:
    """Environment and files for an offline ultralytics; returns the settings folder.

    YOLO_CONFIG_DIR is kept when already set (tests point it at a temp folder); the fonts
    ultralytics would download are placed there from matplotlib's DejaVuSans."""
    os.environ["YOLO_OFFLINE"] = "1"
    if config_dir is None:
        config_dir = os.environ.get("YOLO_CONFIG_DIR") or default_config_dir()
    cfg = Path(config_dir)
    os.environ["YOLO_CONFIG_DIR"] = str(cfg)
    font_dir = cfg / "Ultralytics"  # ultralytics appends this to YOLO_CONFIG_DIR
    font_dir.mkdir(parents=True, exist_ok=True)
    src = _dejavu_sans()
    for name in FONTS:
        if not (font_dir / name).is_file() and src is not None:
            shutil.copyfile(src, font_dir / name)
    return cfg


def import_ultralytics(config_dir=None):
    """ultralytics, imported offline with settings sync off."""
    prepare_offline(config_dir)
    try:
        import ultralytics
        from ultralytics.utils import SETTINGS
    except ImportError as exc:
        raise UltralyticsUnavailable("ultralytics is not installed: install HullWatch's training extra "
                                     "(pip install -e '.[train]', or scripts/setup.sh)") from exc
    if SETTINGS.get("sync", False):
        SETTINGS.update(sync=False)
    return ultralytics
