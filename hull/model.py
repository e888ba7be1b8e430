"""HullModel: the ship the rest of HullWatch works on — mesh in H, niche areas, and where
it came from — with its queries built once."""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from .mesh import TriangleMesh
from .queries import HullQueries
from .wetted import WettedSurface, wetted_surface


@dataclasses.dataclass(frozen=True, eq=False)
class HullModel:
    mesh: TriangleMesh
    niche_areas: tuple = ()
    name: str = "hull"
    source_path: str | None = None
    sha256: str | None = None
    parametric: dict | None = None  # the dimensions, for a parametric hull
    report: object | None = None  # hull.loader.LoadReport for a mesh file

    @classmethod
    def load(cls, path, *, units: str | None = None, scale: float = 1.0, up_axis: str | None = None,
             forward_axis: str | None = None, niche_file=None) -> "HullModel":
        """A mesh file, normalised and repaired, with niche areas from `niche_file` or the
        sidecar `<file>.niches.json` when it exists."""
        from .loader import load_hull_mesh
        from .niche import load_niche_file, sidecar_path

        loaded = load_hull_mesh(path, units=units, scale=scale, up_axis=up_axis, forward_axis=forward_axis)
        sidecar = Path(niche_file) if niche_file else sidecar_path(path)
        niches = load_niche_file(sidecar) if (niche_file or sidecar.is_file()) else ()
        return cls(loaded.mesh, tuple(niches), Path(path).name, str(path), loaded.report.sha256, None, loaded.report)

    @classmethod
    def parametric_hull(cls, dims) -> "HullModel":
        from .parametric import parametric_hull

        hull = parametric_hull(dims)
        return cls(hull.mesh, tuple(hull.niche_areas), "parametric hull", None, None,
                   dataclasses.asdict(dims), None)

    @functools.cached_property
    def queries(self) -> HullQueries:
        return HullQueries(self.mesh)

    def wetted(self, draft_m: float, trim_deg: float = 0.0) -> WettedSurface:
        return wetted_surface(self.mesh, draft_m, trim_deg)

    @property
    def length_m(self) -> float:
        lo, hi = self.mesh.bounds()
        return float(hi[0] - lo[0])

    @property
    def beam_m(self) -> float:
        lo, hi = self.mesh.bounds()
        return float(hi[1] - lo[1])

    @property
    def depth_m(self) -> float:
        lo, hi = self.mesh.bounds()
        return float(hi[2] - lo[2])
