"""The hull map: live coverage of the wetted surface and the gaps left in it (issue 6);
the measured point map, the surface built from it, and its export as 3D files and as the
hull expansion image of a report (issue 6, part 2); geometric anomalies against the hull
model and an earlier map, fused with the YOLO findings (issue 6, part 3)."""
from .anomalies import AnomalyCandidate, FusedFinding, fuse_with_findings, geometric_anomalies
from .compare import MapComparison, Registration, RegistrationError, compare_maps, register_maps
from .export import coverage_classes, export_map, write_glb
from .expansion import expansion_layout, hull_expansion_image
from .pointmap import PointMap
from .surface import compare_methods, reconstruct

__all__ = ["PointMap", "compare_methods", "coverage_classes", "expansion_layout", "export_map",
           "hull_expansion_image", "reconstruct", "write_glb",
           "AnomalyCandidate", "FusedFinding", "MapComparison", "Registration", "RegistrationError", "compare_maps",
           "fuse_with_findings", "geometric_anomalies", "register_maps"]
