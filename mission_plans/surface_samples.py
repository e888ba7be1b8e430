"""Surface sampling moved to hull.surface_samples (shared with the live coverage map);
kept so plan code and scripts that import it from here keep working."""
from hull.surface_samples import DEFAULT_SAMPLE_AREA_M2, SurfaceSamples, sample_surface

__all__ = ["DEFAULT_SAMPLE_AREA_M2", "SurfaceSamples", "sample_surface"]
