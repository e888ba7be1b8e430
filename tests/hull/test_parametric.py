"""Parametric hull: closed and outward, right size and fullness, niche areas on the hull."""
from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from hull.mesh import TriangleMesh
from hull.niche import NicheKind
from hull.parametric import (
    HullDimensionError,
    HullDimensions,
    parametric_hull,
    volume_below_m3,
)

SHIP = HullDimensions(length_m=100.0, beam_m=16.0, draft_m=6.0, depth_m=9.0, block_coefficient=0.7)
VARIANTS = [
    dict(bulbous_bow=True, transom=True, skeg=True),
    dict(bulbous_bow=False, transom=False, skeg=False),
    dict(bulbous_bow=True, transom=False, skeg=False),
    dict(bulbous_bow=False, transom=True, skeg=True),
]


def _variant_id(kw):
    return "-".join(f"{k[:4]}{int(v)}" for k, v in kw.items())


@pytest.fixture(scope="module")
def hulls():
    """Built once per module: {variant id: ParametricHull}."""
    return {_variant_id(kw): parametric_hull(dataclasses.replace(SHIP, **kw), resolution_m=1.0)
            for kw in VARIANTS}


def _o3d_legacy(mesh: TriangleMesh):
    import open3d as o3d

    return o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh.vertices.copy()),
                                     o3d.utility.Vector3iVector(mesh.faces.astype(np.int32)))


def _distance_to_mesh(mesh: TriangleMesh, points: np.ndarray) -> np.ndarray:
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(_o3d_legacy(mesh)))
    query = o3d.core.Tensor(np.asarray(points, dtype=np.float32).reshape(-1, 3))
    return scene.compute_distance(query).numpy()


def _waterline_x_extent(mesh: TriangleMesh, z: float) -> tuple[float, float]:
    e = mesh.vertices[mesh.edges_sorted()]
    za, zb = e[:, 0, 2], e[:, 1, 2]
    cross = (za - z) * (zb - z) < 0
    f = (z - za[cross]) / (zb[cross] - za[cross])
    x = e[cross, 0, 0] + f * (e[cross, 1, 0] - e[cross, 0, 0])
    return float(x.min()), float(x.max())


# -- closed, outward, no self-intersections -----------------------------------------------------
@pytest.mark.parametrize("kw", VARIANTS, ids=_variant_id)
def test_mesh_closed_outward_and_consistent(hulls, kw):
    h = hulls[_variant_id(kw)]
    m = h.mesh
    assert m.is_watertight()
    assert m.boundary_edge_count() == 0
    directed = m.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    _, counts = np.unique(directed, axis=0, return_counts=True)
    assert counts.max() == 1, "inconsistent winding: a directed edge is used twice"
    assert m.signed_volume_m3() > 0
    assert m.face_areas().min() > 1e-6
    legacy = _o3d_legacy(m)
    assert legacy.is_edge_manifold() and legacy.is_vertex_manifold()
    # each shell is closed and outward on its own
    for name, start, stop in h.shells:
        shell = h.shell_mesh(name)
        assert shell.is_watertight(), name
        assert shell.signed_volume_m3() > 0, name
        assert stop > start
    assert [s[0] for s in h.shells] == ["hull", "rudder", "propeller"]


@pytest.mark.parametrize("kw", VARIANTS[:2], ids=_variant_id)
def test_no_self_intersections(kw):
    h = parametric_hull(dataclasses.replace(SHIP, **kw), resolution_m=2.0)
    assert not _o3d_legacy(h.mesh).is_self_intersecting()


@pytest.mark.parametrize("kw", VARIANTS, ids=_variant_id)
def test_symmetric_port_starboard(hulls, kw):
    m = hulls[_variant_id(kw)].mesh
    mirrored = m.vertices * np.array([1.0, -1.0, 1.0])
    dist = _distance_to_mesh(m, mirrored[::7])
    assert dist.max() < 1e-4


# -- size and fullness ------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", VARIANTS, ids=_variant_id)
def test_dimensions_match(hulls, kw):
    h = hulls[_variant_id(kw)]
    d = h.dims
    lo, hi = h.mesh.bounds()
    assert hi[1] - lo[1] == pytest.approx(d.beam_m, rel=0.01)
    assert hi[1] == pytest.approx(-lo[1], abs=1e-9)
    assert lo[2] == pytest.approx(0.0, abs=1e-9)
    assert hi[2] == pytest.approx(d.depth_m, abs=1e-9)
    assert lo[0] >= -1e-9, "all geometry at x >= 0"
    hull = h.shell_mesh("hull")
    x_aft, x_fwd = _waterline_x_extent(hull, d.draft_m)
    assert x_fwd == pytest.approx(d.length_m, rel=0.01), "stem meets the waterline at Lpp"
    assert x_aft >= 0.0
    # stern ends above the waterline (transom or cruiser stern)
    assert hull.vertices[np.isclose(hull.vertices[:, 0], 0.0), 2].min() > d.draft_m
    # bulb (if any) reaches ahead of the FP below the waterline only
    ahead = hull.vertices[hull.vertices[:, 0] > d.length_m + 0.01 * d.length_m]
    if d.bulbous_bow:
        assert len(ahead) and ahead[:, 2].min() < d.draft_m
    else:
        assert len(ahead) == 0 or ahead[:, 2].min() > d.draft_m


@pytest.mark.parametrize("cb", [0.55, 0.7, 0.82])
@pytest.mark.parametrize("kw", VARIANTS[:2], ids=_variant_id)
def test_block_coefficient(cb, kw):
    d = dataclasses.replace(SHIP, block_coefficient=cb, **kw)
    h = parametric_hull(d, resolution_m=1.0)
    assert h.block_coefficient == pytest.approx(cb, abs=0.05)
    # independent check: occupancy of a grid below the waterline (open3d), hull shell only
    import open3d as o3d

    hull = h.shell_mesh("hull")
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(_o3d_legacy(hull)))
    step = 0.25
    xs = np.arange(-2.0, 1.1 * d.length_m, step) + step / 2
    ys = np.arange(-d.beam_m / 2, d.beam_m / 2, step) + step / 2
    zs = np.arange(0.0, d.draft_m, step) + step / 2
    grid = np.stack(np.meshgrid(xs, ys, zs, indexing="ij"), axis=-1).reshape(-1, 3)
    occ = scene.compute_occupancy(o3d.core.Tensor(grid.astype(np.float32))).numpy()
    cb_grid = occ.sum() * step ** 3 / (d.length_m * d.beam_m * d.draft_m)
    assert cb_grid == pytest.approx(h.block_coefficient, abs=0.01)
    assert h.displaced_volume_m3 == pytest.approx(
        h.block_coefficient * d.length_m * d.beam_m * d.draft_m)


def test_default_resolution_triangle_count_and_time():
    d = HullDimensions(200.0, 32.0, 11.0, 18.0, 0.8)
    t0 = time.perf_counter()
    h = parametric_hull(d)
    elapsed = time.perf_counter() - t0
    assert 20_000 <= h.mesh.n_faces <= 60_000
    assert h.mesh.is_watertight()
    assert elapsed < 5.0
    assert h.block_coefficient == pytest.approx(0.8, abs=0.01)


def test_volume_below_exact_on_a_box():
    # unit-spaced box 10 x 4 x 3, tilted triangles so that the plane cuts them
    verts = np.array([[x, y, z] for x in (0, 10) for y in (-2, 2) for z in (0, 3)], float)
    # corners: index = 4*ix + 2*iy + iz
    quads = [(0, 2, 6, 4), (1, 5, 7, 3), (0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6)]
    faces = [f for a, b, c, d in quads for f in ((a, b, c), (a, c, d))]
    box = TriangleMesh(verts, np.array(faces))
    assert box.signed_volume_m3() == pytest.approx(120.0)
    for z, expected in [(-1.0, 0.0), (0.0, 0.0), (1.3, 52.0), (3.0, 120.0), (5.0, 120.0)]:
        assert volume_below_m3(box, z) == pytest.approx(expected, abs=1e-9)


# -- niche areas --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", VARIANTS, ids=_variant_id)
def test_niche_areas_on_the_hull(hulls, kw):
    h = hulls[_variant_id(kw)]
    T = h.dims.draft_m
    names = [a.name for a in h.niche_areas]
    assert len(names) == len(set(names))
    kinds = {a.kind for a in h.niche_areas}
    assert kinds == set(NicheKind) - {NicheKind.STERN_THRUSTER}  # L = 100 m: no stern thruster
    for a in h.niche_areas:
        assert a.center_h[2] < T, f"{a.name} above the waterline"
        assert a.center_h[0] >= 0.0
        assert np.linalg.norm(a.normal_h) == pytest.approx(1.0)
        if a.kind in (NicheKind.BOW_THRUSTER, NicheKind.STERN_THRUSTER):
            openings = [a.center_h + s * 0.5 * a.depth_m * a.normal_h for s in (1, -1)]
            assert _distance_to_mesh(h.mesh, openings).max() < 0.1, a.name
            assert a.center_h[2] + 0.5 * a.size_m[1] < T
        else:
            assert _distance_to_mesh(h.mesh, a.center_h)[0] < 1.0, a.name
        if a.side in ("port", "starboard"):
            # surface items: the normal points out of the hull
            probe_out = a.center_h + 0.3 * a.normal_h
            probe_in = a.center_h - 0.3 * a.normal_h
            import open3d as o3d

            scene = o3d.t.geometry.RaycastingScene()
            scene.add_triangles(o3d.t.geometry.TriangleMesh.from_legacy(_o3d_legacy(h.mesh)))
            occ = scene.compute_occupancy(
                o3d.core.Tensor(np.array([probe_out, probe_in], np.float32))).numpy()
            assert occ.tolist() == [0, 1], a.name
    rudder = next(a for a in h.niche_areas if a.kind is NicheKind.RUDDER)
    assert rudder.contains(h.shell_mesh("rudder").vertices, margin_m=0.01).all()
    prop = next(a for a in h.niche_areas if a.kind is NicheKind.PROPELLER)
    assert prop.contains(h.shell_mesh("propeller").vertices, margin_m=0.01).all()


@pytest.mark.parametrize("kw", VARIANTS[:2], ids=_variant_id)
def test_port_starboard_pairs_mirror(hulls, kw):
    areas = {a.name: a for a in hulls[_variant_id(kw)].niche_areas}
    pairs = 0
    for name, a in areas.items():
        if a.side != "port":
            continue
        other = areas[name.replace(" P", " S")]
        assert other.side == "starboard"
        assert other.kind is a.kind
        np.testing.assert_allclose(other.center_h, a.center_h * [1, -1, 1], atol=1e-12)
        np.testing.assert_allclose(other.normal_h, a.normal_h * [1, -1, 1], atol=1e-12)
        assert other.size_m == a.size_m and other.depth_m == a.depth_m
        assert a.center_h[1] > 0
        pairs += 1
    assert pairs >= 6  # sea chest, bilge keel, 2 anodes, 2 overboard valves
    counts = {k: sum(a.kind is k for a in areas.values()) for k in NicheKind}
    assert counts[NicheKind.SEA_CHEST] == 2 and counts[NicheKind.BILGE_KEEL] == 2


def test_stern_thruster_only_on_long_ships():
    big = parametric_hull(HullDimensions(200.0, 32.0, 11.0, 18.0, 0.75), resolution_m=2.0)
    st = [a for a in big.niche_areas if a.kind is NicheKind.STERN_THRUSTER]
    assert len(st) == 1
    a = st[0]
    openings = [a.center_h + s * 0.5 * a.depth_m * a.normal_h for s in (1, -1)]
    assert _distance_to_mesh(big.mesh, openings).max() < 0.2
    bk = next(x for x in big.niche_areas if x.kind is NicheKind.BILGE_KEEL)
    assert bk.size_m[0] == pytest.approx(0.25 * 200.0)
    bt = next(x for x in big.niche_areas if x.kind is NicheKind.BOW_THRUSTER)
    assert bt.size_m[0] == pytest.approx(0.07 * 32.0)
    assert bt.center_h[0] > 0.85 * 200.0


# -- validation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes, field, text",
    [
        (dict(length_m=0.0), "length_m", "positive"),
        (dict(beam_m=-3.0), "beam_m", "positive"),
        (dict(draft_m=float("nan")), "draft_m", "finite"),
        (dict(draft_m=16.0, depth_m=15.0), "draft_m", "draft 16 m is deeper than the hull depth 15 m"),
        (dict(block_coefficient=0.95), "block_coefficient", "0.95"),
        (dict(block_coefficient=0.2), "block_coefficient", "outside"),
        (dict(beam_m=60.0), "beam_m", "length/beam"),
        (dict(beam_m=5.0, draft_m=3.0), "beam_m", "length/beam"),
        (dict(draft_m=1.0, depth_m=3.0), "draft_m", "beam/draft"),
        (dict(length_m=1000.0, beam_m=100.0), "length_m", "outside"),
        (dict(skeg="yes"), "skeg", "true or false"),
        (dict(depth_m=60.0), "depth_m", "implausibly"),
    ],
)
def test_validation_names_the_field(changes, field, text):
    d = dataclasses.replace(SHIP, **changes)
    with pytest.raises(HullDimensionError) as info:
        d.validate()
    assert info.value.field == field
    assert str(info.value).startswith(field)
    assert text in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(HullDimensionError):
        parametric_hull(d)


@pytest.mark.parametrize("res", [0.0, -1.0, float("inf"), 0.001])
def test_bad_resolution(res):
    with pytest.raises(HullDimensionError) as info:
        parametric_hull(SHIP, resolution_m=res)
    assert info.value.field == "resolution_m"


def test_extreme_but_valid_dimensions_stay_closed():
    for d in [
        HullDimensions(20.0, 10.0, 2.0, 2.2, 0.35, bulbous_bow=True, transom=True, skeg=True),
        HullDimensions(60.0, 5.0, 4.9, 5.0, 0.9, bulbous_bow=False, transom=False, skeg=True),
        HullDimensions(300.0, 48.0, 14.0, 25.0, 0.62, bulbous_bow=True, transom=False, skeg=False),
    ]:
        h = parametric_hull(d, resolution_m=d.length_m / 80)
        assert h.mesh.is_watertight(), d
        assert h.mesh.signed_volume_m3() > 0
        assert not _o3d_legacy(h.mesh).is_self_intersecting(), d
        assert h.block_coefficient == pytest.approx(d.block_coefficient, abs=0.05), d
        for a in h.niche_areas:
            assert a.center_h[2] < d.draft_m, (d, a.name)
