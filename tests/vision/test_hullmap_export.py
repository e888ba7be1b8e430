"""Export of the hull map (PLY, OBJ, glb, legend) and the hull expansion image, on real
hull meshes (parametric; the DTC when ../shared/data/hulls has it), read back from disk."""
from __future__ import annotations

import functools
import importlib.util
import json
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.georef import Finding
from vision.hullmap.expansion import COVERAGE_LEGEND_BGR, PANELS, expansion_layout, hull_expansion_image
from vision.hullmap.export import (BOTH, COVERAGE_RGB, UNSEEN, coverage_classes, export_map, finding_rgb,
                                   marker_mesh, welded)
from vision.hullmap.pointmap import PointMap

DRAFT_M = 6.0
DTC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "hulls" / "DTC-scaled.stl.gz"
DTC_SCALE, DTC_DRAFT_M = 59.407, 14.5
BBOX_TOL_M = 1e-3


@functools.lru_cache(maxsize=None)
def _parametric():
    from hull.model import HullModel
    from hull.parametric import HullDimensions

    return HullModel.parametric_hull(HullDimensions(length_m=90.0, beam_m=16.0, draft_m=DRAFT_M, depth_m=9.0,
                                                    block_coefficient=0.7))


def _finding(model, fid, class_name, near_h, draft_m, uncertainty_m=0.3):
    q = model.queries
    on = q.closest_points(np.array([near_h], float)).points_h[0]
    return Finding(fid, class_name, on, uncertainty_m, q.surface_address(on, draft_m), (("camera", fid),),
                   ("camera",), 5, 0.0, 1.0, 0.9, None)


def _scene(model, draft_m):
    """Wetted mesh, samples, coverage (camera over the middle third, sonar below mid-draft)
    and three findings: starboard side, port side, bottom."""
    from hull.surface_samples import sample_surface

    wet = model.wetted(draft_m).mesh
    samples = sample_surface(wet)
    p = samples.points_h
    lo, hi = wet.bounds()
    length = hi[0] - lo[0]
    camera = (p[:, 0] > lo[0] + length / 3) & (p[:, 0] < lo[0] + 2 * length / 3)
    sonar = p[:, 2] < draft_m / 2
    xm = lo[0] + length / 2
    findings = [_finding(model, 1, "parasitic_container", (xm, lo[1] - 5, draft_m / 2), draft_m),
                _finding(model, 2, "niche_anomaly", (lo[0] + length / 4, hi[1] + 5, 0.7 * draft_m), draft_m),
                _finding(model, 3, "parasitic_container", (xm + 5, 0.0, -5.0), draft_m)]
    return wet, samples, coverage_classes(camera, sonar), findings


def _check_mesh_file(path, mesh, colours_expected=True):
    """The file holds the mesh (welded, as export_map writes it), with vertex colours and
    the mesh's bounding box; returns its colours at the given mesh's vertices."""
    import open3d as o3d

    given, mesh = mesh, welded(mesh)

    m = o3d.io.read_triangle_mesh(str(path))
    assert len(m.vertices) == mesh.n_vertices and len(m.triangles) == mesh.n_faces, path.name
    assert m.has_vertex_colors() == colours_expected, path.name
    v = np.asarray(m.vertices)
    lo, hi = mesh.bounds()
    np.testing.assert_allclose(v.min(axis=0), lo, atol=BBOX_TOL_M, err_msg=path.name)
    np.testing.assert_allclose(v.max(axis=0), hi, atol=BBOX_TOL_M, err_msg=path.name)
    from scipy.spatial import cKDTree

    _, idx = cKDTree(v).query(given.vertices)  # readers may reorder vertices
    return np.asarray(m.vertex_colors)[idx]


def _glb_structure(path):
    """Check a .glb against the glTF 2.0 binary layout; returns (json, bin chunk)."""
    data = Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert magic == 0x46546C67 and version == 2 and length == len(data)
    js_len, js_type = struct.unpack_from("<II", data, 12)
    assert js_type == 0x4E4F534A and js_len % 4 == 0
    doc = json.loads(data[20:20 + js_len])
    bin_len, bin_type = struct.unpack_from("<II", data, 20 + js_len)
    assert bin_type == 0x004E4942 and bin_len % 4 == 0 and 28 + js_len + bin_len == len(data)
    blob = data[28 + js_len:]
    assert doc["asset"]["version"] == "2.0" and doc["buffers"][0]["byteLength"] <= bin_len
    sizes = {5126: 4, 5125: 4}
    comps = {"SCALAR": 1, "VEC3": 3}
    for view in doc["bufferViews"]:
        assert view["byteOffset"] % 4 == 0 and view["byteOffset"] + view["byteLength"] <= doc["buffers"][0]["byteLength"]
    for acc in doc["accessors"]:
        view = doc["bufferViews"][acc["bufferView"]]
        assert acc["count"] * sizes[acc["componentType"]] * comps[acc["type"]] <= view["byteLength"]
    for mesh in doc["meshes"]:
        for prim in mesh["primitives"]:
            pos = doc["accessors"][prim["attributes"]["POSITION"]]
            assert "min" in pos and "max" in pos and prim["mode"] in (0, 4)
            assert doc["accessors"][prim["attributes"]["COLOR_0"]]["count"] == pos["count"]
            if "indices" in prim:
                acc = doc["accessors"][prim["indices"]]
                view = doc["bufferViews"][acc["bufferView"]]
                idx = np.frombuffer(blob, np.uint32, acc["count"], view["byteOffset"])
                assert idx.max() < pos["count"] and acc["count"] % 3 == 0
    return doc, blob


def test_export_files_load_back_with_coverage_colours_and_the_hulls_box(tmp_path):
    model = _parametric()
    wet, samples, cls, findings = _scene(model, DRAFT_M)
    pmap = PointMap(0.05)
    pmap.add_points(samples.points_h[::5])
    written = export_map(tmp_path, wet, (samples.points_h, cls), findings, pmap)
    names = sorted(p.name for files in written.values() for p in files)
    assert names == sorted(["hull.ply", "hull.obj", "hull.glb", "findings.ply", "findings.obj", "findings.glb",
                            "points.ply", "points.glb", "hullmap.glb", "legend.json"])
    expected = np.array([COVERAGE_RGB[k] for k in sorted(COVERAGE_RGB)]) / 255.0
    from scipy.spatial import cKDTree

    truth = expected[cls[cKDTree(samples.points_h).query(wet.vertices)[1]]]
    for fmt in ("ply", "obj", "glb"):
        colours = _check_mesh_file(tmp_path / f"hull.{fmt}", wet)
        np.testing.assert_allclose(colours, truth, atol=1 / 255 + 1e-6, err_msg=fmt)
        markers, rgb = marker_mesh(findings)
        mcol = _check_mesh_file(tmp_path / f"findings.{fmt}", markers)
        np.testing.assert_allclose(mcol, rgb, atol=1 / 255 + 1e-6)
    import open3d as o3d

    cloud = o3d.io.read_point_cloud(str(tmp_path / "points.ply"))
    assert len(cloud.points) == len(pmap) and cloud.has_colors()
    legend = json.loads((tmp_path / "legend.json").read_text())
    assert set(legend["coverage_rgb"]) == {"unseen", "camera only", "sonar only", "camera and sonar"}
    assert [f["id"] for f in legend["findings"]] == [1, 2, 3]
    assert sum(legend["coverage_vertices"].values()) == welded(wet).n_vertices


def test_glb_is_valid_gltf2_and_loads_in_open3d(tmp_path):
    import open3d as o3d

    model = _parametric()
    wet, samples, cls, findings = _scene(model, DRAFT_M)
    pts = samples.points_h[::7]
    export_map(tmp_path, wet, (samples.points_h, cls), findings, pts, formats=("glb",))
    doc, blob = _glb_structure(tmp_path / "hullmap.glb")
    assert [m["name"] for m in doc["meshes"]] == ["hull", "findings", "points"]
    assert [m["primitives"][0]["mode"] for m in doc["meshes"]] == [4, 4, 0]
    pos = doc["accessors"][doc["meshes"][2]["primitives"][0]["attributes"]["POSITION"]]
    view = doc["bufferViews"][pos["bufferView"]]
    back = np.frombuffer(blob, np.float32, 3 * pos["count"], view["byteOffset"]).reshape(-1, 3)
    np.testing.assert_allclose(back, pts, atol=1e-4)
    both = o3d.io.read_triangle_mesh(str(tmp_path / "hullmap.glb"))  # Open3D skips the points primitive
    assert len(both.vertices) == welded(wet).n_vertices + 6 * len(findings)
    for name in ("hull", "findings", "points"):
        _glb_structure(tmp_path / f"{name}.glb")
    if importlib.util.find_spec("trimesh") is not None:
        import trimesh

        scene = trimesh.load(tmp_path / "hullmap.glb")
        assert len(scene.geometry) == 3


def test_coverage_by_face_or_vertex_and_no_findings(tmp_path):
    model = _parametric()
    wet = model.wetted(DRAFT_M).mesh
    per_face = np.where(wet.face_centers()[:, 2] < 2.0, BOTH, UNSEEN)
    written = export_map(tmp_path / "f", wet, per_face, [], formats=("ply",))
    assert set(written) == {"hull", "legend"}
    colours = _check_mesh_file(tmp_path / "f" / "hull.ply", wet)
    low = wet.vertices[:, 2] < 1.0
    np.testing.assert_allclose(colours[low], np.tile(np.array(COVERAGE_RGB[BOTH]) / 255.0, (low.sum(), 1)), atol=1e-6)
    per_vertex = np.where(wet.vertices[:, 0] > 45.0, BOTH, UNSEEN)
    export_map(tmp_path / "v", wet, per_vertex, [], formats=("obj",))
    colours = _check_mesh_file(tmp_path / "v" / "hull.obj", wet)
    want = np.where(wet.vertices[:, [0]] > 45.0, np.array(COVERAGE_RGB[BOTH]), np.array(COVERAGE_RGB[UNSEEN]))
    np.testing.assert_allclose(colours, want / 255.0, atol=1e-5)
    with pytest.raises(ValueError, match="coverage"):
        export_map(tmp_path / "bad", wet, np.zeros(7), [])


def _expansion(model, draft_m, tmp_path, px_per_m=20.0):
    wet, samples, cls, findings = _scene(model, draft_m)
    bgr = np.array(list(COVERAGE_LEGEND_BGR.values()), np.uint8)
    path = tmp_path / "expansion.png"
    img = hull_expansion_image(wet, draft_m, (samples.points_h, bgr[cls]), findings, px_per_m=px_per_m, path=path)
    back = cv2.imread(str(path))
    np.testing.assert_array_equal(back, img)
    return img, expansion_layout(wet, draft_m, px_per_m), samples, cls, findings, bgr


def _check_expansion(img, lay, samples, cls, findings, bgr, tol_pct, stern_x_m):
    """stern_x_m: where the full hull's addresses count x from (its aftmost vertex)."""
    assert img.dtype == np.uint8 and img.ndim == 3
    tops = [lay.panel_top_px[n] for n in PANELS]
    assert tops == sorted(tops)
    # three panels, each with coverage drawn in it
    coloured = np.zeros(img.shape[:2], bool)
    for c in bgr:
        coloured |= (img == c).all(axis=2)
    for name in PANELS:
        rows = coloured[lay.panel_top_px[name]:lay.panel_top_px[name] + lay.panel_height_px[name]]
        assert rows.sum() > 1000, name
    # findings at the pixel of their address, in their class colour
    for f in findings:
        u, v, panel = lay.to_pixel(f.position_h[None, :])
        assert PANELS[int(panel[0])] == f.address.side
        assert tuple(img[int(round(v[0])), int(round(u[0]))]) == tuple(reversed(finding_rgb(f.class_name)))
        assert abs(u[0] - lay.u_px(stern_x_m + f.address.x_from_stern_m)) <= 1.0
        if f.address.side != "bottom":  # girth is at least the depth, and close to it on the sides
            girth_m = (v[0] - lay.panel_top_px[f.address.side]) / lay.px_per_m
            assert f.address.depth_below_waterline_m - 0.1 <= girth_m <= 1.3 * f.address.depth_below_waterline_m + 0.2
    # coverage colours in proportion to the coverage figure
    seen_pct = 100.0 * samples.area_m2[cls != UNSEEN].sum() / samples.total_area_m2
    both_pct = 100.0 * samples.area_m2[cls == BOTH].sum() / samples.total_area_m2
    n_any = coloured.sum()
    img_seen = 100.0 * (n_any - (img == bgr[UNSEEN]).all(axis=2).sum()) / n_any
    img_both = 100.0 * (img == bgr[BOTH]).all(axis=2).sum() / n_any
    print(f"\ncoverage: seen {seen_pct:.1f} % of the area, {img_seen:.1f} % of the drawn pixels; "
          f"both sensors {both_pct:.1f} % / {img_both:.1f} %")
    assert abs(img_seen - seen_pct) < tol_pct and abs(img_both - both_pct) < tol_pct


def test_expansion_image_of_the_parametric_hull(tmp_path):
    img, lay, samples, cls, findings, bgr = _expansion(_parametric(), DRAFT_M, tmp_path)
    _check_expansion(img, lay, samples, cls, findings, bgr, 4.0, _parametric().mesh.bounds()[0][0])
    assert [f.address.side for f in findings] == ["starboard", "port", "bottom"]


@pytest.mark.skipif(not DTC.exists(), reason=f"{DTC} is not present")
def test_dtc_export_and_expansion(tmp_path):
    from hull.model import HullModel

    model = HullModel.load(DTC, scale=DTC_SCALE)
    wet, samples, cls, findings = _scene(model, DTC_DRAFT_M)
    export_map(tmp_path, wet, (samples.points_h, cls), findings, formats=("ply", "glb"))
    for fmt in ("ply", "glb"):
        _check_mesh_file(tmp_path / f"hull.{fmt}", wet)
    _glb_structure(tmp_path / "hullmap.glb")
    img, lay, samples, cls, findings, bgr = _expansion(model, DTC_DRAFT_M, tmp_path, px_per_m=5.0)
    _check_expansion(img, lay, samples, cls, findings, bgr, 5.0, model.mesh.bounds()[0][0])
