"""The sonar model shipped in resources/models: on the held-out split of the real forward-
looking sonar frames its card's headline figure, reproduced here from the data in
../shared/data; on a rendered sonar pass along bare plating, no alarm; and on fans rendered
fresh, flown close as a sweep flies them, the containers found at the card's threshold."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from resources import resource_path
from tests.vision.random_seed import random_test_seed
from vision.classes import CLASS_ID, CLASSES

SONAR_MODEL = resource_path("models", "sonar.onnx")
FLS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sonar_fls" / "watertank-segmentation"
pytestmark = pytest.mark.skipif(not SONAR_MODEL.exists(), reason="no sonar model shipped in resources/models yet")

# The real split is fixed data and ONNX Runtime is deterministic on one machine: the floor sits
# just under the figure in the model card, so any regression of the model or the runtime shows.
REAL_SPLIT_MAP50_MARGIN = 0.02
CONTAINER = CLASS_ID["parasitic_container"]
# ~45 containers a seed. The card's close_fan_check: single pings at the operating point find
# 0.40 of them (179 containers, 6 seeds; 0.50 before the verifier's look). Half that is the
# floor: a seed falls under it by chance about once in 500 runs, and a model that lost its
# grip on rendered containers (the previous one found 0.03) fails every time.
CLOSE_FANS = 144
MATCH_IOU = 0.3
RENDERED_RECALL_FLOOR = 0.2


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(SONAR_MODEL.with_name("sonar.card.json").read_text())


@pytest.mark.skipif(not FLS.is_dir(), reason="the real FLS frames are not in ../shared/data")
def test_real_fls_test_split_reaches_the_card_figure(card, tmp_path):
    from vision.evaluation.evaluate_dataset import evaluate_model
    from vision.training.fls_dataset import convert_fls

    fls_card = next(d for d in card["metrics"]["per_dataset"] if d["dataset"].startswith("fls"))
    convert_fls(FLS, tmp_path / "fls", seed=card["training"]["datasets"][0]["seed"])
    ev = evaluate_model(SONAR_MODEL, tmp_path / "fls", split="test")
    assert ev.images == fls_card["images"], "the converter no longer gives the split the model was measured on"
    got = ev.mean["map50"]
    assert got >= fls_card["mean"]["map50"] - REAL_SPLIT_MAP50_MARGIN, ev.table()
    used = {r.class_name: r for r in ev.rows if r.instances}
    assert set(used) == {"parasitic_container", "propeller"}, "the real frames hold these two of our classes"


@pytest.fixture(scope="module")
def detector():
    from vision.detect import OnnxDetector

    return OnnxDetector(SONAR_MODEL, expected_classes=CLASSES)


def test_shipped_sonar_model_finds_planted_containers_in_close_fans(detector):
    """Fans rendered fresh, as a sweep flies the sonar 1-3 m off the plating (`hullwatch
    dataset --standoff 1 3`), of a seed drawn per run: the card's container threshold finds
    at least RENDERED_RECALL_FLOOR of the containers in them, single pings, pooled. What the
    station would drop before an alarm is dropped here too: a box the card's fitting
    suppression removes, and one its alarm verifier (when the card names one) doubts on this
    ping alone (live, an alarm waits for the mean of three looks, so one look is harsher;
    a box it cannot judge, at the fan's edge, waits there for the next ping, so here it is a miss)."""
    from vision.detect.verifier import verifier_for
    from vision.detections import box_iou
    from vision.fittings import FIELD as FITTING_FIELD, drop_alarms_on_fittings
    from vision.training.synthetic_dataset import SyntheticRenderer, SyntheticSpec

    seed = random_test_seed()
    verifier = verifier_for(detector)
    level = verifier.level("parasitic_container") if verifier is not None else None
    suppression = detector.card.extra.get(FITTING_FIELD)
    found = total = 0
    for s in SyntheticRenderer(SyntheticSpec("sonar", CLOSE_FANS, seed=seed, standoff_m=(1.0, 3.0))).samples():
        truth = [b for c, b, _ in s.labels if c == CONTAINER]
        if not truth:
            continue
        det = drop_alarms_on_fittings(detector(s.image), detector.classes, suppression)
        boxes = det.xyxy[det.class_id == CONTAINER].astype(float)
        for t in truth:
            total += 1
            if not len(boxes):
                continue
            iou = box_iou(np.array([t], float), boxes)[0]
            k = int(iou.argmax())
            if iou[k] < MATCH_IOU:
                continue
            look = None if level is None else verifier.score(s.image, boxes[k], "parasitic_container")
            found += level is None or (look is not None and look >= level)
    assert total >= 25, f"seed {seed}: only {total} containers shown in {CLOSE_FANS} fans"
    assert found / total >= RENDERED_RECALL_FLOOR, f"seed {seed}: found {found} of {total} containers"


def test_a_sonar_pass_along_bare_plating_raises_no_alarm(detector):
    """Five pings at each of several stretches of bare side plating (both sides, mid-draft,
    5 m clear of every planted object and niche area), the fan laid along the plating looking
    3 m ahead as a sweep holds it, through the station's detection step (DetectionPipeline:
    the card's thresholds, fitting suppression, tracker, alarm evidence and verifier): no alarm."""
    from sim.embedded_world import build_world
    from sim.sensor_streams import EMBEDDED_MULTIBEAM
    from sim.world import SensorPose
    from vision.detect.pipeline import DetectionPipeline, FrameIn
    from vision.training.synthetic_dataset import DEFAULT_SIZE, sonar_fan_boxes
    from vision.training.view_sampling import fan_along_surface

    seed = random_test_seed()
    ew = build_world(seed=seed)
    model, placement = ew.model, ew.scenario.placement
    rng = np.random.default_rng(seed)
    cfg = dataclasses.replace(EMBEDDED_MULTIBEAM, max_range_m=6.0)
    lo, hi = model.mesh.bounds()
    clear = np.array([o.center_h for o in ew.scenario.objects] + [a.center_h for a in model.niche_areas])
    station = DetectionPipeline(detector, source="sonar")  # never started: frames go through its step
    alarms, pings = [], 0
    z = placement.waterline_z_h - 0.5 * placement.draft_m
    stretches = [(x, y) for y in (lo[1] - 5.0, hi[1] + 5.0) for x in np.linspace(lo[0] + 0.2 * (hi[0] - lo[0]),
                                                                                  hi[0] - 0.2 * (hi[0] - lo[0]), 12)]
    for x, y in stretches:  # both sides, mid-draft, clear of everything planted
        if pings >= 40:
            break
        hit = model.queries.closest_points(np.array([[x + d, y, z] for d in (0.0, 3.0)]))
        if np.min(np.linalg.norm(clear[:, None] - hit.points_h[None], axis=2)) < 5.0:
            continue  # near a planted object or a niche area: not bare plating
        n = hit.normals_h[0] / np.linalg.norm(hit.normals_h[0])
        pos = hit.points_h[0] + 1.8 * n
        f, u = fan_along_surface(pos, hit.points_h[1], n, rng, roll_sigma_deg=0.0)
        for _ in range(5):  # a few pings here, then on: the tracker sees each stretch several times
            frame = ew.world.render_sonar(SensorPose(pos, f, u), cfg, rng)
            fan, boxes, _ = sonar_fan_boxes(frame, DEFAULT_SIZE["sonar"])
            if any(c in ("parasitic_container", "niche_anomaly") for _, c, _ in boxes):
                break
            alarms += station.process(FrameIn(fan.image, 0.1 * pings, pings)).new_alarms
            pings += 1
    assert pings >= 20, f"seed {seed}: too little bare plating found ({pings} pings)"
    assert alarms == [], f"seed {seed}: alarms on bare plating: {[(a.class_name, a.confidence) for a in alarms]}"
