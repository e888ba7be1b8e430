"""PyInstaller runtime hook: `import open3d` without the parts HullWatch does not ship.

open3d's package __init__ imports open3d.ml (Open3D-ML: its datasets import scikit-learn
and pandas at module level) and open3d.visualization.draw_plotly (plotly and dash).
HullWatch uses neither (only geometry, pipelines and TSDF), and together they would add
well over 200 MB to the bundle. The spec excludes them; this hook, run before the app,
registers empty modules under those two names so open3d's own imports find them.
Using open3d.ml or draw_plotly in the bundle then fails with AttributeError, which is the
honest answer: they are not shipped.
"""
import sys
import types


def _stand_in(name: str, **attrs) -> None:
    module = types.ModuleType(name, "not shipped in the HullWatch bundle")
    module.__dict__.update(attrs)
    sys.modules.setdefault(name, module)


_stand_in("open3d.ml")
_stand_in("open3d.visualization.draw_plotly", draw_plotly=None, draw_plotly_server=None)
