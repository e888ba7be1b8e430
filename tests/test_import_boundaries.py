"""DESIGN.md's import rules, checked on the source (every import statement, at any depth)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["app", "vehicle", "hull", "mission_plans", "vision", "sim", "recording", "resources"]

# project packages each package may import (besides itself)
ALLOWED_PROJECT_IMPORTS = {
    "app": set(PACKAGES),
    "vehicle": set(),
    "hull": set(),
    "mission_plans": {"hull"},
    "vision": {"hull"},  # vision/training may also import sim (checked below)
    "sim": {"hull"},
    "recording": {"hull", "vision", "mission_plans"},
    "resources": set(),
}
# third-party modules confined to some packages (path prefixes)
CONFINED = {
    "PySide6": ("app/",),
    "pymavlink": ("vehicle/", "sim/"),
    "ultralytics": ("vision/training/",),
    "torch": ("vision/training/",),
    "torchvision": ("vision/training/",),
}
# heavy modules that must be imported inside functions, never at module level
LAZY_ONLY = {"open3d", "onnxruntime", "openvino", "ultralytics", "torch"}


def _sources():
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            yield pkg, path


def _imports(tree: ast.AST):
    """(module, lineno, at_module_level) for every import in the file."""
    top_level = {id(n) for n in tree.body} if isinstance(tree, ast.Module) else set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, id(node) in top_level
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno, id(node) in top_level


def _violations():
    found = []
    for pkg, path in _sources():
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for module, line, top in _imports(tree):
            root = module.split(".")[0]
            if root in PACKAGES and root != pkg:
                allowed = ALLOWED_PROJECT_IMPORTS[pkg] | ({"sim"} if rel.startswith("vision/training/") else set())
                if root not in allowed:
                    found.append(f"{rel}:{line} imports {module} ({pkg} may import only {sorted(allowed)})")
            if root in CONFINED and not rel.startswith(CONFINED[root]):
                found.append(f"{rel}:{line} imports {module}, allowed only in {CONFINED[root]}")
            if root in LAZY_ONLY and top:
                found.append(f"{rel}:{line} imports {module} at module level; import it inside the function")
    return found


def test_packages_respect_design_import_rules():
    assert _violations() == []


def test_checker_catches_a_forbidden_import(tmp_path, monkeypatch):
    """The checker itself must fail on a bad import, or the test above proves nothing."""
    bad = REPO / "hull" / "_boundary_probe_tmp.py"
    bad.write_text("from PySide6 import QtCore\nimport vehicle\nimport open3d\n", encoding="utf-8")
    try:
        found = "\n".join(_violations())
    finally:
        bad.unlink()
    assert "hull/_boundary_probe_tmp.py:1 imports PySide6" in found
    assert "hull/_boundary_probe_tmp.py:2 imports vehicle" in found
    assert "hull/_boundary_probe_tmp.py:3 imports open3d at module level" in found


@pytest.mark.parametrize("package", ["vehicle", "sim", "hull", "mission_plans", "vision", "recording"])
def test_core_packages_import_without_qt_or_heavy_libraries(package):
    code = (f"import sys, {package}; "
            "bad = [m for m in ('PySide6', 'torch', 'ultralytics', 'open3d', 'onnxruntime') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
