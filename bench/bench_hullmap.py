"""Benchmark: the hull map over a simulated mission on the full-scale DTC hull (issue 6).

    python bench/bench_hullmap.py [--minutes M] [--pings R] [--sweep-m L] [--sweep-ping-m S] [--seed N]

Hull: the DTC container ship (../shared/data/hulls, 116k triangles, scaled 1:59.407 to
355 m, draft 14.5 m, as bench_planner.py loads it). Trajectory: a SweepPlanner plan of it
(camera 80 x 60 deg, 2 m standoff, every track in plan order, transits included) flown
at the plan's cruise speed (0.5 m/s). Each simulated second holds the issue's data rates:
telemetry poses 16 Hz (into a hull.pose.PoseHistory), camera frames 10/s and Oculus
pings 5/s (their poses interpolated from the history at frame time, then
hull.pose.sensor_pose: camera level, sonar tilted down 10 deg), distance sensor 3 Hz.

Sonar pings are synthesised cheaply: R pings (default 8) are rendered once by the
embedded sim (sim.world.World on the DTC, MultibeamConfig(range_bins=512) as the sim's
Oculus) at poses spread over the mission, then replayed in turn at every ping's real
pose. The replayed returns' ranges come from another spot of the hull, so where the hull
differs some returns are not explained and dropped; the cost per ping (elevation fan of
256 beams x 201 elevations cast, per-beam matching) is that of a real ping.
Distance-sensor ranges are a ray cast along the body x axis (outside the clock).

Per simulated second, timed: the second's 5 pings into the PointMap (add_sonar_ping,
elevation resolved on the hull) + 3 ranges (add_range) + LiveCoverage.observe of the 10
camera and 5 sonar poses + summary(). Reported as p50/p95/max per segment between
checkpoints at 1, 5, 15 and 30 min (those within --minutes, and --minutes itself), with
the point map's voxel count, process RSS (VmRSS) and coverage at each checkpoint.

At each checkpoint also: georeferencing latency per detection (one call per detection):
camera (synthetic boxes, locate_camera_detections: 5 corner rays), sonar (echo at a
beam's hull range, locate_sonar_detections: 201-elevation fan), PoseHistory.at() per
call, FindingBook.add per observation (the book grows over the mission); the products on
the map so far: reconstruct (Poisson, the default) of the mission's map, gap_regions of
the unseen surface and geometric_anomalies of the map.

Full sweep: a map of the whole plan is synthesised (pings every --sweep-ping-m metres
along every non-transit track, 256 beams each at a random elevation within the 20 deg
aperture, 2 cm range noise, into a 5 cm PointMap), then reconstruct (Poisson, default
settings) is timed with its vertex count and vertex-to-hull distance; export_map (ply,
obj, glb to a temporary folder) and hull_expansion_image of the final coverage are
timed once. --sweep-m limits the synthesised track length (smoke runs).

Baseline: the bare Open3D ray cast (RaycastingScene.cast_rays, a scene of its own) of
N rays from the mission's sonar poses, N = the median number of rays one mission second
casts (coverage occlusion rays + sonar elevation fans), measured at every checkpoint
(best of 3); every time is also given as a multiple of it. The machine is shared:
compare the ratios, not the milliseconds. Results: a table on stdout and
bench/results/bench_hullmap.json.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from percentiles import pct  # noqa: E402  (bench/, beside this script)

DTC = REPO.parent / "shared" / "data" / "hulls" / "DTC-scaled.stl.gz"
RESULTS = REPO / "bench" / "results" / "bench_hullmap.json"
SCALE = 59.407
DRAFT_M = 14.5
TELEMETRY_HZ = 16
CAMERA_FPS = 10
SONAR_HZ = 5
RANGE_HZ = 3
SONAR_TILT_UP_DEG = -10.0
VOXEL_M = 0.05
CHECKPOINTS_MIN = (1.0, 5.0, 15.0, 30.0)
GEOREF_PER_CHECKPOINT = 60  # detections of each kind located at each checkpoint
POSE_LOOKUPS = 2000


def rss_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process, MB."""
    got = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                got[k] = float(v.split()[0]) / 1024.0
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        return peak, peak
    return got.get("VmRSS", float("nan")), got.get("VmHWM", float("nan"))


def dtc_mesh():
    from hull.mesh import TriangleMesh

    raw = gzip.open(DTC).read()
    v = np.array(re.findall(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", raw), dtype=float) * SCALE
    v[:, 0] -= v[:, 0].min()
    faces = np.arange(len(v)).reshape(-1, 3)
    uniq, inverse = np.unique(np.round(v, 6), axis=0, return_inverse=True)
    return TriangleMesh(uniq, inverse.reshape(-1)[faces])


def counting_queries(mesh):
    """A HullQueries that counts the rays cast through it (the baseline's N)."""
    from hull.queries import HullQueries

    class Counting(HullQueries):
        rays = 0

        def cast_rays(self, origins_h, directions_h, max_range_m=np.inf):
            self.rays += len(np.atleast_2d(directions_h))
            return super().cast_rays(origins_h, directions_h, max_range_m)

    return Counting(mesh)


class Trajectory:
    """The plan's tracks as one path flown at cruise speed; the vehicle faces each track's
    view direction (body x = the plan's optical axis, body z down = -up)."""

    def __init__(self, tracks, speed_m_s: float):
        self.pos = np.concatenate([t.positions_h for t in tracks])
        self.fwd = np.concatenate([t.forward_h for t in tracks])
        self.up = np.concatenate([t.up_h for t in tracks])
        seg = np.linalg.norm(np.diff(self.pos, axis=0), axis=1)
        self.s = np.concatenate([[0.0], np.cumsum(seg)])
        self.speed = float(speed_m_s)
        self.length_m = float(self.s[-1])

    def vehicle_pose(self, t_s: float):
        from hull.pose import VehiclePose

        s = (self.speed * t_s) % self.length_m  # a mission longer than the plan flies it again
        i = int(np.clip(np.searchsorted(self.s, s, side="right") - 1, 0, len(self.s) - 2))
        u = (s - self.s[i]) / max(self.s[i + 1] - self.s[i], 1e-9)
        pos = self.pos[i] + u * (self.pos[i + 1] - self.pos[i])
        f = self.fwd[i] + u * (self.fwd[i + 1] - self.fwd[i])
        up = self.up[i] + u * (self.up[i + 1] - self.up[i])
        return VehiclePose(t_s, pos, body_axes(f, up))


def body_axes(forward, up):
    """R_h_body: columns body x (forward), y (right), z (down)."""
    f = np.asarray(forward, float) / np.linalg.norm(forward)
    down = -(np.asarray(up, float) - (np.asarray(up, float) @ f) * f)
    down /= np.linalg.norm(down)
    return np.column_stack([f, np.cross(down, f), down])


def time_bare_cast(scene, rays, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        scene.cast_rays(rays)
        best = min(best, time.perf_counter() - t0)
    return best


def fan_rays(sonar_poses, n: int):
    """(n, 6) float32 rays: the elevation fans (256 beams x 201 elevations) of the given
    sonar poses, cycled to n."""
    import open3d as o3d

    from vision.georef.sonar import sonar_ray_directions

    rows = []
    bearings = np.linspace(-65.0, 65.0, 256)
    elev = np.linspace(-10.0, 10.0, 201)
    total = 0
    k = 0
    while total < n:
        p = sonar_poses[k % len(sonar_poses)]
        d = sonar_ray_directions(p.forward_h, p.up_h, bearings, elev).reshape(-1, 3)
        rows.append(np.concatenate([np.broadcast_to(p.position_h, d.shape), d], axis=1))
        total += len(d)
        k += 1
    return o3d.core.Tensor(np.concatenate(rows)[:n].astype(np.float32))


def georef_round(queries, history, poses_cam, poses_son, t_range, book, rng, camera, next_track) -> dict:
    """Locate GEOREF_PER_CHECKPOINT camera and sonar detections one call each; PoseHistory.at()
    per call; FindingBook.add per located detection."""
    from hull.pose import sensor_pose, SensorMount
    from vision.detections import Detections
    from vision.georef import locate_camera_detections, locate_sonar_detections

    cam_ms, son_ms, at_us, add_ms = [], [], [], []
    placed = {"camera": 0, "sonar": 0}
    mount = SensorMount("camera")
    lo, hi = t_range
    ts = rng.uniform(lo, hi, POSE_LOOKUPS)
    for t in ts:
        t0 = time.perf_counter()
        history.at(float(t))
        at_us.append((time.perf_counter() - t0) * 1e6)
    t0 = time.perf_counter()
    for t in ts[:200]:
        sensor_pose(history.at(float(t)), mount)
    sensor_pose_us = (time.perf_counter() - t0) / 200 * 1e6 - float(np.median(at_us))
    for k in range(GEOREF_PER_CHECKPOINT):
        pose = poses_cam[int(rng.integers(len(poses_cam)))]
        w, h = rng.uniform(60, 400), rng.uniform(60, 300)
        x0, y0 = rng.uniform(0, camera.width - w), rng.uniform(0, camera.height - h)
        det = Detections(np.array([[x0, y0, x0 + w, y0 + h]]), np.array([0.8]), np.array([0]))
        t0 = time.perf_counter()
        loc = locate_camera_detections(det, pose, camera, queries, DRAFT_M)[0]
        cam_ms.append((time.perf_counter() - t0) * 1e3)
        placed["camera"] += loc is not None
        t0 = time.perf_counter()
        book.add(next_track(), "camera", "parasitic_container", 0.8, float(k), loc)
        add_ms.append((time.perf_counter() - t0) * 1e3)
    for k in range(GEOREF_PER_CHECKPOINT):
        pose = poses_son[int(rng.integers(len(poses_son)))]
        brg = float(rng.uniform(-50.0, 50.0))
        from vision.georef.sonar import sonar_ray_directions

        d = sonar_ray_directions(pose.forward_h, pose.up_h, [brg], [float(rng.uniform(-8, 8))])[0]
        hit = queries.cast_rays(pose.position_h, d)  # where the echo is (outside the clock)
        r = float(hit.t_m[0]) if np.isfinite(hit.t_m[0]) else 4.0
        polar = (np.array([max(r - 0.15, 0.3)]), np.array([brg]))
        t0 = time.perf_counter()
        loc = locate_sonar_detections(polar, pose, 20.0, queries, DRAFT_M)[0]
        son_ms.append((time.perf_counter() - t0) * 1e3)
        placed["sonar"] += loc is not None
        t0 = time.perf_counter()
        book.add(next_track(), "sonar", "parasitic_container", 0.7, float(k), loc)
        add_ms.append((time.perf_counter() - t0) * 1e3)
    return {"camera_ms": pct(cam_ms), "sonar_ms": pct(son_ms), "pose_at_us": pct(at_us),
            "sensor_pose_us": sensor_pose_us, "finding_add_ms": pct(add_ms), "placed": placed,
            "findings": len(book.findings)}


def products(pmap, live, samples, queries) -> dict:
    """reconstruct, gap_regions, geometric_anomalies on the map so far (timed once each)."""
    from vision.hullmap import geometric_anomalies, reconstruct
    from vision.hullmap.gaps import gap_regions

    out = {}
    t0 = time.perf_counter()
    gaps = gap_regions(samples, live.seen_mask(), queries=queries, draft_m=DRAFT_M)
    out["gap_regions_s"], out["gap_regions"] = time.perf_counter() - t0, len(gaps)
    t0 = time.perf_counter()
    cands = geometric_anomalies(pmap, queries, DRAFT_M)
    out["anomalies_s"], out["anomalies"] = time.perf_counter() - t0, len(cands)
    if len(pmap) >= 100:
        t0 = time.perf_counter()
        mesh = reconstruct(pmap.points(), hull_queries=queries)
        out["reconstruct_s"], out["reconstruct_vertices"] = time.perf_counter() - t0, int(mesh.n_vertices)
    else:
        out["reconstruct_s"], out["reconstruct_vertices"] = None, 0
    return out


def mission(args, plan, queries, samples, trajectory, sensors, baseline_scene) -> dict:
    from hull.pose import PoseHistory, SensorMount, sensor_pose
    from sim.sonar_render import MultibeamConfig
    from sim.world import World
    from hull.model import HullModel
    from vision.georef import CameraModel, FindingBook
    from vision.hullmap.coverage import LiveCoverage
    from vision.hullmap.pointmap import PointMap

    rng = np.random.default_rng(args.seed)
    total_s = int(round(args.minutes * 60))
    cps = sorted({int(round(m * 60)) for m in CHECKPOINTS_MIN if m * 60 <= total_s} | {total_s})
    cam_mount = SensorMount("camera")
    son_mount = SensorMount("sonar", tilt_up_deg=SONAR_TILT_UP_DEG)
    cfg = MultibeamConfig(range_bins=512)
    cam = plan.plan.sensors.camera
    camera = CameraModel.from_hfov(cam.width_px, cam.height_px, cam.hfov_deg)

    # R pings rendered once, spread over the mission, replayed in turn (module docstring)
    t0 = time.perf_counter()
    world = World(HullModel(queries.mesh), plan.plan.placement, [])
    pings = []
    for t in np.linspace(0.0, max(total_s - 1, 0), args.pings):
        pose = sensor_pose(trajectory.vehicle_pose(float(t)), son_mount)
        pings.append(world.render_sonar(pose, cfg, rng).intensities)
    render_s = time.perf_counter() - t0
    bearings = cfg.bearings_deg()
    del world

    live = LiveCoverage(samples, (), sensors, queries)
    pmap = PointMap(VOXEL_M)
    history = PoseHistory()
    book = FindingBook(queries, DRAFT_M)
    track_ids = iter(range(1, 1 << 30))
    next_track = lambda: next(track_ids)  # noqa: E731
    rss0 = rss_mb()[0]
    seconds, rays_per_s, parts = [], [], {"pings": [], "ranges": [], "coverage": [], "summary": []}
    rows, baseline_s, seg_cam, seg_son = [], [], [], []
    ping_no = 0
    track_m = 0.0
    wall0 = time.monotonic()
    for sec in range(total_s):
        # the link thread's work: 16 Hz telemetry into the history (outside the clock)
        for k in range(TELEMETRY_HZ):
            history.append(trajectory.vehicle_pose(sec + k / TELEMETRY_HZ))
        history.append(trajectory.vehicle_pose(sec + 1.0))
        t_cam = sec + np.arange(CAMERA_FPS) / CAMERA_FPS
        t_son = sec + np.arange(SONAR_HZ) / SONAR_HZ
        t_rng = sec + np.arange(RANGE_HZ) / RANGE_HZ
        cam_poses = [sensor_pose(history.at(float(t)), cam_mount) for t in t_cam]
        son_poses = [sensor_pose(history.at(float(t)), son_mount) for t in t_son]
        rng_poses = [history.at(float(t)) for t in t_rng]
        r_org = np.array([p.position_h for p in rng_poses])
        r_dir = np.array([p.R_h_body[:, 0] for p in rng_poses])
        r_m = queries.cast_rays(r_org, r_dir, max_range_m=30.0).t_m  # the sensor's reading (outside the clock)
        seg_cam += cam_poses
        seg_son += son_poses
        queries.rays = 0
        t0 = time.perf_counter()
        for pose in son_poses:
            pmap.add_sonar_ping(pings[ping_no % len(pings)], bearings, cfg.range_resolution_m, cfg.min_range_m,
                                pose, cfg.vertical_aperture_deg, hull_queries=queries, draft_m=DRAFT_M)
            ping_no += 1
        t1 = time.perf_counter()
        pmap.add_range(r_org, r_dir, r_m)
        t2 = time.perf_counter()
        live.observe("camera", cam_poses, t_cam)
        live.observe("sonar", son_poses, t_son)
        t3 = time.perf_counter()
        summary = live.summary()
        t4 = time.perf_counter()
        rays_per_s.append(queries.rays)
        seconds.append((t4 - t0) * 1e3)
        for k, a, b in (("pings", t0, t1), ("ranges", t1, t2), ("coverage", t2, t3), ("summary", t3, t4)):
            parts[k].append((b - a) * 1e3)
        track_m = trajectory.speed * (sec + 1)
        if sec + 1 in cps:
            lo = 0 if not rows else rows[-1]["t_s"]
            n_rays = int(np.median(rays_per_s))
            rays = fan_rays(seg_son, n_rays)
            b = time_bare_cast(baseline_scene, rays)
            baseline_s.append(b)
            geo = georef_round(queries, history, seg_cam, seg_son, history.time_range_s, book, rng, camera,
                               next_track)
            prod = products(pmap, live, samples, queries) if not args.skip_products else {}
            rss, hwm = rss_mb()
            seg = slice(lo, sec + 1)
            rows.append({"t_s": sec + 1, "minutes": (sec + 1) / 60.0, "track_m": track_m,
                         "per_second_ms": pct(seconds[seg]),
                         "parts_ms_p50": {k: float(np.median(v[seg])) for k, v in parts.items()},
                         "rays_per_second": pct(rays_per_s[seg]), "baseline_rays": n_rays,
                         "baseline_ms": b * 1e3, "voxels": len(pmap),
                         "pointmap_mb": pmap.nbytes / 2 ** 20,
                         "rss_mb": rss, "rss_growth_mb": rss - rss0, "hwm_mb": hwm,
                         "coverage_pct": summary.overall_pct, "camera_pct": summary.per_sensor_pct["camera"],
                         "sonar_pct": summary.per_sensor_pct["sonar"], "georef": geo, "products": prod,
                         "wall_s": time.monotonic() - wall0})
            seg_cam, seg_son = [], []
            print(f"  checkpoint {(sec + 1) / 60:.1f} min: {len(pmap):,} voxels, per second p50 "
                  f"{rows[-1]['per_second_ms']['p50']:.0f} ms, RSS {rss:.0f} MB "
                  f"({time.monotonic() - wall0:.0f} s wall)", flush=True)
    base_ms = float(np.median(baseline_s)) * 1e3
    n_base = int(np.median(rays_per_s))
    return {"rows": rows, "baseline_ms": base_ms, "baseline_rays": n_base, "render_pings_s": render_s,
            "pings_rendered": len(pings), "rss_before_mission_mb": rss0, "live": live, "pmap": pmap,
            "book": book, "voxels_per_track_m": len(pmap) / max(track_m, 1e-9)}


def full_sweep(args, plan, queries, rng) -> dict:
    """The synthesised map of the whole plan and its surface (module docstring)."""
    from hull.pose import SensorMount, sensor_pose
    from vision.georef.sonar import sonar_ray_directions
    from vision.hullmap import reconstruct
    from vision.hullmap.pointmap import PointMap
    from vision.hullmap.surface import auto_poisson_depth

    tracks = [t for t in plan.tracks if t.kind != "transit"]
    traj = Trajectory(tracks, 1.0)
    length = min(traj.length_m, args.sweep_m) if args.sweep_m else traj.length_m
    mount = SensorMount("sonar", tilt_up_deg=SONAR_TILT_UP_DEG)
    bearings = np.linspace(-65.0, 65.0, 256)
    pmap = PointMap(VOXEL_M)
    t0 = time.perf_counter()
    buf, n_buf, pings = [], 0, 0
    for s in np.arange(0.0, length, args.sweep_ping_m):
        p = sensor_pose(traj.vehicle_pose(float(s)), mount)
        # one random elevation per beam: where in the aperture the hull explained its return
        elev = np.radians(rng.uniform(-10.0, 10.0, len(bearings)))[:, None]
        across = sonar_ray_directions(p.forward_h, p.up_h, bearings, [0.0])[:, 0, :]
        d = np.cos(elev) * across + np.sin(elev) * np.asarray(p.up_h)
        hit = queries.cast_rays(p.position_h, d, max_range_m=10.0)
        ok = np.isfinite(hit.t_m) & (hit.t_m > 0.1)
        r = hit.t_m[ok] + rng.normal(0.0, 0.02, ok.sum())
        buf.append(p.position_h + d[ok] * r[:, None])
        n_buf += int(ok.sum())
        pings += 1
        if n_buf > 1_000_000:
            pmap.add_points(np.concatenate(buf))
            buf, n_buf = [], 0
    if buf:
        pmap.add_points(np.concatenate(buf))
    synth_s = time.perf_counter() - t0
    pts = pmap.points()
    depth = auto_poisson_depth(pts)  # what reconstruct's default picks
    t0 = time.perf_counter()
    mesh = reconstruct(pts, hull_queries=queries, poisson_depth=depth)
    recon_s = time.perf_counter() - t0
    d = queries.distance(mesh.vertices) if mesh.n_vertices else np.zeros(0)
    extent = float((pts.max(axis=0) - pts.min(axis=0)).max())
    return {"track_m": float(length), "plan_track_m": traj.length_m, "pings": pings, "voxels": len(pmap),
            "synth_s": synth_s, "reconstruct_s": recon_s, "vertices": int(mesh.n_vertices),
            "faces": int(mesh.n_faces), "vertex_to_hull_mm": pct(d * 1e3),
            "poisson_depth": depth, "poisson_cell_m": extent / 2 ** depth,
            "pmap": pmap, "surface": mesh}


def exports(hull_mesh, samples, live, book, pmap, surface) -> dict:
    from vision.hullmap import coverage_classes, export_map, hull_expansion_image
    from vision.hullmap.export import COVERAGE_RGB

    cls = coverage_classes(live.seen_mask("camera"), live.seen_mask("sonar"))
    out = {}
    folder = Path(tempfile.mkdtemp(prefix="bench_hullmap_"))
    try:
        t0 = time.perf_counter()
        written = export_map(folder, hull_mesh, (samples.points_h, cls), book.findings, point_map=pmap,
                             surface_mesh=surface)
        out["export_map_s"] = time.perf_counter() - t0
        out["export_mb"] = sum(p.stat().st_size for v in written.values() for p in v) / 2 ** 20
        bgr = np.array([COVERAGE_RGB[k][::-1] for k in sorted(COVERAGE_RGB)], np.uint8)[cls]
        t0 = time.perf_counter()
        img = hull_expansion_image(hull_mesh, DRAFT_M, (samples.points_h, bgr), book.findings,
                                   path=folder / "expansion.png")
        out["expansion_image_s"] = time.perf_counter() - t0
        out["expansion_px"] = list(img.shape[:2])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5.0, help="simulated mission length (default 5; 30 for the "
                    "issue's full figure)")
    ap.add_argument("--pings", type=int, default=8, help="sonar pings rendered and replayed (default 8)")
    ap.add_argument("--sweep-m", type=float, default=0.0,
                    help="track length (m) of the synthesised full-sweep map (default 0: the whole plan)")
    ap.add_argument("--sweep-ping-m", type=float, default=0.5, help="ping spacing of the full-sweep map (default 0.5)")
    ap.add_argument("--skip-products", action="store_true",
                    help="no reconstruct/gaps/anomalies of the mission map at checkpoints")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.minutes * 60 < 1 or args.pings < 1 or args.sweep_ping_m <= 0 or args.sweep_m < 0:
        ap.error("--minutes must be >= 1/60, --pings >= 1, --sweep-ping-m > 0, --sweep-m >= 0")
    if not DTC.is_file():
        print(f"needs {DTC} (../shared/data beside the checkout)", file=sys.stderr)
        return 1

    from hull.placement import Placement
    from hull.queries import raycasting_scene
    from mission_plans.plan_model import CameraSensor, SensorSetup, SonarSensor
    from mission_plans.planner import SweepPlanner, SweepSettings, sensor_models

    wall0 = time.monotonic()
    mesh = dtc_mesh()
    queries = counting_queries(mesh)
    placement = Placement(origin_lat_deg=53.54, origin_lon_deg=9.97, heading_deg=90.0, draft_m=DRAFT_M,
                          berth_side="port", quay_gap_m=3.0, water_depth_m=18.0)
    camera = CameraSensor(80.0, 60.0, 1920, 1080, 4.0)
    sensors = SensorSetup(camera=camera, sonar=SonarSensor(130.0, 20.0, 0.5, 10.0, 60.0))
    t0 = time.perf_counter()
    # lanes follow the primary sensor (the camera); the camera alone keeps the plan's prediction cheap
    plan = SweepPlanner(mesh, placement, SensorSetup(camera=camera), SweepSettings(standoff_m=2.0),
                        queries=queries).plan()
    plan_s = time.perf_counter() - t0
    samples = plan.samples
    trajectory = Trajectory(plan.tracks, plan.plan.cruise_speed_m_s)
    baseline_scene = raycasting_scene(mesh)
    print(f"DTC {mesh.n_faces:,} triangles, {len(samples):,} wetted samples; plan {len(plan.tracks)} tracks, "
          f"{trajectory.length_m / 1000:.1f} km ({trajectory.length_m / trajectory.speed / 3600:.1f} h at "
          f"{trajectory.speed} m/s), planned in {plan_s:.0f} s; mission {args.minutes:g} min", flush=True)

    m = mission(args, plan, queries, samples, trajectory, {s.name: s for s in sensor_models(sensors)},
                baseline_scene)
    rng = np.random.default_rng([args.seed, 7])
    sweep = full_sweep(args, plan, queries, rng)
    ex = exports(mesh, samples, m["live"], m["book"], sweep["pmap"], sweep["surface"])
    base100k_ms = time_bare_cast(baseline_scene, fan_rays(_some_sonar_poses(trajectory), 100_000)) * 1e3
    base = m["baseline_ms"]
    rows = m["rows"]

    def x(ms):
        return "-" if ms is None else f"{ms / base:.2f}"

    print()
    print(f"baseline: bare Open3D cast of N = {m['baseline_rays']:,} rays (median rays cast per mission second) "
          f"{base:.1f} ms; 100k rays {base100k_ms:.1f} ms ({1e5 / base100k_ms * 1e3 / 1e6:.2f} M rays/s)")
    print()
    print(f"{'mission second (5 pings + 3 ranges + coverage + summary)':<58} "
          + " ".join(f"{r['minutes']:>9.1f}m" for r in rows))
    line = lambda label, vals: print(f"{label:<58} " + " ".join(f"{v:>10}" for v in vals))  # noqa: E731
    line("per second p50 ms", [f"{r['per_second_ms']['p50']:.0f}" for r in rows])
    line("per second p95 ms", [f"{r['per_second_ms']['p95']:.0f}" for r in rows])
    line("per second max ms", [f"{r['per_second_ms']['max']:.0f}" for r in rows])
    line("per second p50 x baseline", [x(r['per_second_ms']['p50']) for r in rows])
    line("per second p95 x baseline", [x(r['per_second_ms']['p95']) for r in rows])
    line("  pings into PointMap p50 ms (5)", [f"{r['parts_ms_p50']['pings']:.0f}" for r in rows])
    line("  ranges into PointMap p50 ms (3)", [f"{r['parts_ms_p50']['ranges']:.2f}" for r in rows])
    line("  coverage observe p50 ms (10 camera + 5 sonar)", [f"{r['parts_ms_p50']['coverage']:.1f}" for r in rows])
    line("  summary() p50 ms", [f"{r['parts_ms_p50']['summary']:.2f}" for r in rows])
    line("rays cast per second p50", [f"{r['rays_per_second']['p50']:,.0f}" for r in rows])
    line("bare cast of those rays ms (this checkpoint)", [f"{r['baseline_ms']:.0f}" for r in rows])
    line("point map voxels", [f"{r['voxels']:,}" for r in rows])
    line("point map arrays MB", [f"{r['pointmap_mb']:.1f}" for r in rows])
    line("process RSS MB (VmRSS)", [f"{r['rss_mb']:.0f}" for r in rows])
    line("RSS growth since mission start MB", [f"{r['rss_growth_mb']:.0f}" for r in rows])
    line("coverage % of the wetted area (any sensor)", [f"{r['coverage_pct']:.2f}" for r in rows])
    line("  camera %", [f"{r['camera_pct']:.2f}" for r in rows])
    line("  sonar %", [f"{r['sonar_pct']:.2f}" for r in rows])
    line("georef camera p50 / p95 ms", [f"{r['georef']['camera_ms']['p50']:.2f}/{r['georef']['camera_ms']['p95']:.2f}"
                                        for r in rows])
    line("georef camera p50 x baseline", [f"{r['georef']['camera_ms']['p50'] / base:.4f}" for r in rows])
    line("georef sonar p50 / p95 ms", [f"{r['georef']['sonar_ms']['p50']:.1f}/{r['georef']['sonar_ms']['p95']:.1f}"
                                       for r in rows])
    line("georef sonar p50 x baseline", [f"{r['georef']['sonar_ms']['p50'] / base:.3f}" for r in rows])
    line("  placed camera / sonar (of 60 each)",
         [f"{r['georef']['placed']['camera']}/{r['georef']['placed']['sonar']}" for r in rows])
    line("PoseHistory.at() p50 / p95 us", [f"{r['georef']['pose_at_us']['p50']:.0f}/"
                                          f"{r['georef']['pose_at_us']['p95']:.0f}" for r in rows])
    line("sensor_pose() us", [f"{r['georef']['sensor_pose_us']:.0f}" for r in rows])
    line("FindingBook.add p50 / p95 ms", [f"{r['georef']['finding_add_ms']['p50']:.2f}/"
                                         f"{r['georef']['finding_add_ms']['p95']:.2f}" for r in rows])
    line("  findings in the book", [f"{r['georef']['findings']}" for r in rows])
    if not args.skip_products:
        line("reconstruct mission map s", [f"{r['products']['reconstruct_s']:.1f}"
                                           if r['products']['reconstruct_s'] is not None else "-" for r in rows])
        line("  x baseline", [x(r['products']['reconstruct_s'] * 1e3)
                              if r['products']['reconstruct_s'] is not None else "-" for r in rows])
        line("  vertices", [f"{r['products']['reconstruct_vertices']:,}" for r in rows])
        line("gap_regions s (regions)", [f"{r['products']['gap_regions_s']:.2f} ({r['products']['gap_regions']})"
                                         for r in rows])
        line("geometric_anomalies s (candidates)", [f"{r['products']['anomalies_s']:.2f} "
                                                    f"({r['products']['anomalies']})" for r in rows])
    print()
    s = sweep
    whole = "whole plan" if s["track_m"] >= s["plan_track_m"] else f"first {s['track_m']:.0f} m of {s['plan_track_m']:.0f} m"
    print(f"{'full sweep (synthesised map, ' + whole + ')':<58} {'value':>10} {'x baseline':>11}")
    print(f"{'pings (every ' + format(args.sweep_ping_m, 'g') + ' m) / voxels':<58} {s['pings']:>10,} "
          f"{s['voxels']:>11,}")
    print(f"{'  voxels per track m: sweep / mission map':<58} {s['voxels'] / max(s['track_m'], 1e-9):>10.0f} "
          f"{m['voxels_per_track_m']:>11.0f}")
    print(f"{'reconstruct (Poisson depth ' + str(s['poisson_depth']) + ', 1 thread) s':<58} "
          f"{s['reconstruct_s']:>10.1f} {s['reconstruct_s'] * 1e3 / base:>11.0f}")
    print(f"{'  vertices / faces':<58} {s['vertices']:>10,} {s['faces']:>11,}")
    print(f"{'  Poisson cell (bbox / 2^depth) m':<58} {s['poisson_cell_m']:>10.2f}")
    vh = s["vertex_to_hull_mm"]
    if vh["n"]:
        print(f"{'  vertex to hull p50 / p95 mm':<58} {vh['p50']:>10.0f} {vh['p95']:>11.0f}")
    print(f"{'export_map ply+obj+glb (DTC hull, points, surface) s':<58} {ex['export_map_s']:>10.1f} "
          f"{ex['export_map_s'] * 1e3 / base:>11.0f}")
    print(f"{'  written MB':<58} {ex['export_mb']:>10.0f}")
    print(f"{'hull_expansion_image s (' + 'x'.join(map(str, ex['expansion_px'])) + ' px)':<58} "
          f"{ex['expansion_image_s']:>10.1f} {ex['expansion_image_s'] * 1e3 / base:>11.0f}")
    print(f"sonar pings rendered for replay: {m['pings_rendered']} in {m['render_pings_s']:.1f} s; "
          f"RSS before the mission {m['rss_before_mission_mb']:.0f} MB, peak {rss_mb()[1]:.0f} MB; "
          f"wall {time.monotonic() - wall0:.0f} s")

    out = {"hull": {"file": DTC.name, "scale": SCALE, "draft_m": DRAFT_M, "triangles": mesh.n_faces,
                    "wetted_samples": len(samples)},
           "plan": {"tracks": len(plan.tracks), "length_m": trajectory.length_m, "speed_m_s": trajectory.speed,
                    "plan_s": plan_s},
           "rates_hz": {"telemetry": TELEMETRY_HZ, "camera": CAMERA_FPS, "sonar": SONAR_HZ, "range": RANGE_HZ},
           "args": vars(args), "baseline_rays": m["baseline_rays"], "baseline_ms": base,
           "baseline_100k_ms": base100k_ms, "checkpoints": rows, "pings_rendered": m["pings_rendered"],
           "render_pings_s": m["render_pings_s"], "rss_before_mission_mb": m["rss_before_mission_mb"],
           "mission_voxels_per_track_m": m["voxels_per_track_m"],
           "full_sweep": {k: v for k, v in sweep.items() if k not in ("pmap", "surface")},
           "exports": ex, "peak_rss_mb": rss_mb()[1], "wall_s": round(time.monotonic() - wall0, 1)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, default=str))
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


def _some_sonar_poses(trajectory):
    from hull.pose import SensorMount, sensor_pose

    mount = SensorMount("sonar", tilt_up_deg=SONAR_TILT_UP_DEG)
    return [sensor_pose(trajectory.vehicle_pose(float(t)), mount) for t in range(0, 20, 2)]


if __name__ == "__main__":
    sys.exit(main())
