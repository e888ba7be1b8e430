"""The ship: hull mesh or parametric hull, niche areas, wetted surface, placement (issue 3)."""
