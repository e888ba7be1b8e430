"""`hullwatch` command line: one entry point, sub-commands as in CLI.md.

Exit codes: 0 success, 1 a user-facing error (one line naming the cause; traceback only
with --debug), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .errors import UserError


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _depth(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of metres") from None
    if not 0 <= value <= 300:
        raise argparse.ArgumentTypeError(f"depth {value:g} m is outside 0..300 m (depth is positive down)")
    return value


def _image_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of images") from None
    if value < 3:
        raise argparse.ArgumentTypeError(f"{value} images cannot fill train, val and test: give at least 3")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed {value} must be >= 0")
    return value


def _image_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 640x480") from None
    if not (32 <= w <= 4096 and 32 <= h <= 4096):
        raise argparse.ArgumentTypeError(f"{w}x{h}: width and height must be 32..4096 pixels")
    return w, h


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 0.9:
        raise argparse.ArgumentTypeError(f"{value:g} is outside 0..0.9")
    return value


def _mode(text: str) -> str:
    from vehicle.ardusub import parse_mode

    try:
        return parse_mode(text).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole_positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _train_imgsz(text: str):
    from vision.training.train import parse_imgsz

    try:
        return parse_imgsz(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"confidence {value:g} must be between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hullwatch",
        description="HullWatch: ROV hull-inspection ground station for ArduSub vehicles. "
                    "Without a sub-command it opens the ground station's window on the embedded world "
                    "(a ship at the berth and a simulated ArduSub vehicle on loopback), or on a real "
                    "vehicle with --connect; without a display it runs `demo --headless` (with --connect: the "
                    "headless station).")
    parser.add_argument("--connect", metavar="URL",
                        help="run the station on a real vehicle instead of the embedded world "
                             "(udpin:0.0.0.0:14550, tcp:HOST:5760, serial:/dev/ttyACM0:115200)")
    parser.add_argument("--duration", type=_positive, metavar="S",
                        help="stop after S seconds (default: run until Ctrl-C or the window is closed)")
    parser.add_argument("--headless", action="store_true",
                        help="no window: the headless station (telemetry, sensor rates, alarms and the map's "
                             "coverage printed once a second); the default without a display")
    parser.add_argument("--screenshot", metavar="FILE.png",
                        help="fly a short simulated mission in the window (arm, lights, GUIDED to the planted "
                             "container nearest the start) and save the whole window to FILE.png after --duration "
                             "seconds (default 30)")
    parser.add_argument("--settings", metavar="FILE.ini", help=argparse.SUPPRESS)  # tests: a private layout
    parser.add_argument("--self-test", action="store_true",
                        help="run a short headless check of this installation (models, embedded vehicle, "
                             "libraries, Qt) and exit: 0 when every step passed")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("sim", help="run the embedded ArduSub-compatible vehicle, its world and sensors until stopped",
                       description="Runs the embedded vehicle: MAVLink on UDP (sending to HOST:PORT like a "
                                   "BlueOS vehicle) and on a TCP server port like ArduPilot SITL; beside it the "
                                   "world (a ship at the berth with planted objects: --scenario, or a scenario "
                                   "generated on --hull or on a default 120 m ship) and the vehicle's sensors as "
                                   "a BlueROV2 serves them: camera H.264 over RTP/UDP, Oculus multibeam on TCP, "
                                   "Ping360 on UDP.")
    p.add_argument("--udp", metavar="HOST:PORT", default="127.0.0.1:14550",
                   help="where to send MAVLink over UDP (default 127.0.0.1:14550); 'none' disables UDP")
    p.add_argument("--tcp", metavar="PORT", type=int, default=5760,
                   help="TCP server port (default 5760); 0 picks a free one; -1 disables TCP")
    p.add_argument("--hull", metavar="FILE", help="hull mesh at the berth (the rangefinder and sensors see it); "
                                                  "default: a parametric 120 m ship")
    p.add_argument("--draft", type=_positive, metavar="D", help="draft of --hull (default 40%% of its depth)")
    p.add_argument("--scenario", metavar="FILE", help="scenario file: hull, placement and planted objects")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed of the generated scenario and sensor noise (default 1)")
    p.add_argument("--video", metavar="HOST:PORT", default="127.0.0.1:5600",
                   help="send the camera's H.264 RTP stream here (default 127.0.0.1:5600); 'none' turns it off")
    p.add_argument("--oculus-port", metavar="PORT", type=int, default=52100,
                   help="Oculus multibeam TCP port (default 52100); 0 picks a free one; -1 turns it off")
    p.add_argument("--ping360-port", metavar="PORT", type=int, default=12345,
                   help="Ping360 UDP port (default 12345); 0 picks a free one; -1 turns it off")
    p.add_argument("--no-sensors", action="store_true",
                   help="no world and no sensor streams (MAVLink only; --hull still feeds the rangefinder)")
    p.add_argument("--save-scenario", metavar="FILE.scenario.json",
                   help="write the scenario in use (generated or loaded) to FILE, and its ground truth (each "
                        "object's class, pose, size, hull-surface address) beside it as FILE.truth.json")
    p.add_argument("--no-position", action="store_true",
                   help="simulate a vehicle without DVL: AUTO/GUIDED/POSHOLD are refused")
    p.add_argument("--duration", type=_positive, metavar="S", help="stop after S seconds")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    # the station's own embedded world (app/world_child.py): ports announced on stdout, ends with stdin
    p.add_argument("--station-child", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("connect", help="headless station: discover a vehicle and print telemetry",
                       description="Connects, discovers the vehicle, prints one telemetry line per second. "
                                   "With --arm/--mode/--dive-to it runs those steps and exits 0 once the "
                                   "vehicle has confirmed each, 1 with the reason otherwise.")
    p.add_argument("url", metavar="URL",
                   help="udpin:0.0.0.0:14550 | udpout:HOST:PORT | tcp:HOST:5760 | serial:DEVICE:BAUD | FILE.tlog")
    p.add_argument("--arm", action="store_true", help="arm the vehicle (the station then sends neutral "
                                                      "MANUAL_CONTROL so the pilot-input failsafe stays quiet)")
    p.add_argument("--mode", metavar="NAME", type=_mode, help="switch to an ArduSub mode: MANUAL, STABILIZE, ALT_HOLD, "
                                                  "POSHOLD, GUIDED, AUTO, SURFACE")
    p.add_argument("--dive-to", type=_depth, metavar="DEPTH_M", help="descend to DEPTH_M metres and hold it")
    p.add_argument("--duration", type=_positive, metavar="S", help="keep printing for S seconds in all")
    p.add_argument("--timeout", type=_positive, default=10.0, metavar="S",
                   help="how long to wait for the vehicle's heartbeat (default 10 s)")
    p.add_argument("--tlog", metavar="FILE", help="record all MAVLink traffic to this telemetry log")
    p.add_argument("--keep-armed", action="store_true",
                   help="leave the vehicle armed at exit (by default the station disarms what it armed)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("hull", help="load a hull mesh and print what was repaired and measured",
                       description="Loads an STL (ASCII, binary, gzipped), OBJ or PLY hull, normalises it to the "
                                   "hull frame (x forward from the aft end, y to port, z up from the keel), repairs "
                                   "what real files bring and prints each repair and the main measurements.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--scale", type=_positive, default=1.0, metavar="K",
                   help="model-to-full-scale factor (e.g. 59.407 for a 1:59.407 model)")
    p.add_argument("--units", choices=["m", "cm", "mm"], help="units of the file (default: detect)")
    p.add_argument("--draft", type=_positive, metavar="D", help="also measure the wetted surface at this draft (m)")
    p.add_argument("--up", metavar="AXIS", help="file axis that points up (x, y, z, -x, ...; default: detect)")
    p.add_argument("--forward", metavar="AXIS", help="file axis that points to the bow (default: detect)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("plan", help="build a hull sweep plan and print its predicted coverage",
                       description="Plans a sweep over the hull at a standoff (niche areas first, then lanes round "
                                   "the hull and under the bottom), predicts coverage by ray casting and writes a "
                                   ".hullplan.json, or with --export a QGroundControl .plan or QGC WPL 110 file.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--hull", metavar="FILE", help="hull mesh (STL, OBJ, PLY; niche areas from FILE.niches.json)")
    src.add_argument("--parametric", metavar="L,B,T[,D,CB]",
                     help="parametric hull: length, beam, draft[, depth, block coefficient]")
    p.add_argument("--draft", type=_positive, required=True, metavar="D", help="draft at the berth, metres")
    p.add_argument("--scale", type=_positive, default=1.0, metavar="K", help="model-to-full-scale factor of --hull")
    p.add_argument("--units", choices=["m", "cm", "mm"], help="units of --hull (default: detect)")
    p.add_argument("--standoff", type=_positive, default=2.0, metavar="M", help="distance from the hull (default 2)")
    p.add_argument("--overlap", type=float, default=0.3, metavar="F", help="overlap between lanes (default 0.3)")
    p.add_argument("--sensor", choices=["camera", "sonar", "both"], default="camera")
    p.add_argument("--pattern", choices=["horizontal", "vertical"], default="horizontal",
                   help="side lanes at constant depth (default; flies in depth hold) or up-and-down lanes")
    p.add_argument("--min-depth", type=_positive, default=1.0, metavar="M", help="shallowest lane (default 1 m)")
    p.add_argument("--speed", type=_positive, default=0.5, metavar="M_S", help="cruise speed (default 0.5 m/s)")
    p.add_argument("--berth", choices=["port", "starboard"], default="port", help="side facing the quay")
    p.add_argument("--quay-gap", type=float, default=3.0, metavar="M", help="hull to quay wall (default 3 m)")
    p.add_argument("--water-depth", type=_positive, metavar="M", help="surface to seabed (default draft + 5 m)")
    p.add_argument("--heading", type=float, default=0.0, metavar="DEG", help="bow heading, degrees true")
    p.add_argument("--origin", metavar="LAT,LON", help="WGS84 of the aft end on the keel (needed for --export)")
    p.add_argument("--vessel", default="unnamed vessel", metavar="NAME")
    p.add_argument("--export", choices=["qgc", "wpl"], help="write a QGC .plan or WPL 110 mission instead")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("dataset", help="write a YOLO data set with its card",
                       description="Renders an ultralytics YOLO data set (data.yaml, images/ and labels/ split into "
                                   "train/val/test by hull, card.json + card.md, index.jsonl) from the embedded world "
                                   "with domain randomisation: hull types and sizes, water, lights, objects, "
                                   "distractors, standoff, view angle, camera tilt; sonar fans on a log display, most laid "
                                   "along the surface they graze. The same --seed gives the same "
                                   "files, byte for byte. --from-fls instead converts the real forward-looking sonar "
                                   "frames (watertank-segmentation) into HullWatch's classes. --heldout renders an "
                                   "evaluation-only set of what training never sees (container shapes, hull).")
    p.add_argument("--kind", choices=["camera", "sonar"], required=True)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--n", type=_image_count, metavar="N", help="number of images to render (at least 3: "
                                                                  "one hull for each of train, val and test)")
    what.add_argument("--from-fls", metavar="DIR", help="convert the real FLS sonar set in DIR instead of rendering")
    p.add_argument("--seed", type=_seed, default=0, metavar="S", help="seed of everything random (default 0)")
    p.add_argument("--size", type=_image_size, metavar="WxH",
                   help="image size in pixels (default 640x480 camera, 640x360 sonar fan)")
    p.add_argument("--negatives", type=_fraction, default=0.1, metavar="F",
                   help="share of images chosen to hold no labelled object (default 0.1)")
    p.add_argument("--focus", choices=["niche", "distractor"],
                   help="niche: every view that is not a --negatives view looks at a niche area (propeller, rudder, "
                        "thruster, sea chest...), each kind equally often; for teaching what bare niche fittings "
                        "look like. distractor: every view looks at a fender, rope, debris, fish or fouling clump; "
                        "for teaching the alarm verifier what is not a container")
    p.add_argument("--standoff", type=_positive, nargs=2, metavar=("NEAR", "FAR"),
                   help="metres from the sensor to what it looks at, drawn from NEAR..FAR (default camera 0.5 4, "
                        "sonar 1 10; the sonar's range scale follows it): short standoffs make objects large in "
                        "the fan, as on a sweep flown close along the hull")
    p.add_argument("--force", action="store_true",
                   help="replace a previous data set in DIR (a folder without data.yaml/card.json is never deleted)")
    p.add_argument("--heldout", action="store_true",
                   help="render a held-out evaluation set: every image in test (train/val empty), containers of "
                        "shapes training never shows, and an unseen hull (--hull, or parametric hull families "
                        "training never draws); hullwatch train refuses it")
    p.add_argument("--hull", metavar="FILE", help="with --heldout: render on this hull mesh (STL, OBJ, PLY; niche "
                                                  "areas from FILE.niches.json when present)")
    p.add_argument("--hull-scale", type=_positive, metavar="K", help="model-to-full-scale factor of --hull "
                                                                     "(default 1; DTC-scaled.stl.gz: 59.407)")
    p.add_argument("--draft", type=_positive, metavar="D", help="draft of --hull at the berth, metres at full "
                                                                "scale (default 40%% of its depth)")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(_parser=p)

    p = sub.add_parser("train", help="train a YOLO11n detector on a data set; writes MODEL.onnx and its card",
                       description="Trains YOLO11n from scratch (ultralytics, offline, all CPU cores, fixed seed) on a "
                                   "YOLO data set from `hullwatch dataset`, exports MODEL.onnx with a fixed input "
                                   "(rectangular like the data: 480x640 for 640x480 video; for sets of several shapes, the "
                                   "smallest input that holds each at its training scale) and writes MODEL.card.json: "
                                   "classes, input size, per-class thresholds chosen on the val split (alarm classes: "
                                   "max recall within 0.5 false alarms per minute at 10 frames/s on its object-free "
                                   "images), metrics on the held-out test split, training record and licences. "
                                   "Progress per epoch (losses, "
                                   "val mAP50) on stderr. Checkpoints go to MODEL.train/ after every epoch: after "
                                   "Ctrl-C or a crash, --resume continues from the last completed epoch.")
    p.add_argument("--kind", choices=["camera", "sonar"], help="camera or sonar model (must fit the data set)")
    p.add_argument("--data", metavar="DIR", action="append",
                   help="YOLO data set folder (data.yaml; train, val and test splits); repeat it to train on the "
                        "union of several sets with the same classes (e.g. real FLS sonar frames and a synthetic "
                        "sonar set): test metrics are reported per set")
    p.add_argument("--epochs", type=_whole_positive, metavar="E", help="training epochs (default 50)")
    p.add_argument("--imgsz", type=_train_imgsz, metavar="S",
                   help="long side of the model input in pixels (default 640; the other side follows the data's "
                        "aspect), or HEIGHT,WIDTH such as 480,640; multiples of 32")
    p.add_argument("--seed", type=_seed, default=0, metavar="N", help="seed of the training run (default 0)")
    p.add_argument("--batch", type=_whole_positive, default=16, metavar="B", help="images per batch (default 16)")
    p.add_argument("--threads", type=_whole_positive, metavar="N",
                   help="CPU threads for torch (default: all cores; use fewer when other work shares the machine: "
                        "oversubscribed cores slow training many times over)")
    p.add_argument("--init", metavar="MODEL",
                   help="fine-tune: start from the weights of an earlier HullWatch model of the same classes "
                        "(MODEL.onnx, e.g. a shipped model: its MODEL.train/ checkpoint when it is beside it, else "
                        "the weights read back from the ONNX file; or a .pt checkpoint) instead of from scratch; "
                        "the card records which")
    p.add_argument("--resume", action="store_true",
                   help="continue the stopped training of MODEL.onnx from its last checkpoint in MODEL.train/")
    p.add_argument("--hours", type=_positive, metavar="H",
                   help="time budget of the training: after each epoch ultralytics re-plans the number of epochs "
                        "and the learning-rate schedule to finish within H hours at the pace measured so far "
                        "(--epochs then only sets the plan before the first epoch); with --resume, H more hours "
                        "from now")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.onnx")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(_parser=p)

    p = sub.add_parser("evaluate", help="score a model on a data set split: mAP, recall at threshold, false alarms",
                       description="Runs MODEL.onnx (with MODEL.card.json beside it) over a split of a YOLO data set "
                                   "and prints per class: images, instances, precision and recall at the card's "
                                   "operating threshold, mAP50 and mAP50-95 (COCO-style, from conf 0.001), a mean "
                                   "row, and false alarms (alarm-class detections above threshold on object-free "
                                   "images) per image and per minute of video.")
    p.add_argument("model", metavar="MODEL.onnx")
    p.add_argument("dataset", metavar="DATASET", help="YOLO data set folder (its data.yaml names must equal the "
                                                      "model card's classes)")
    p.add_argument("--split", choices=["train", "val", "test"], default="test", help="split to score (default test)")
    p.add_argument("--conf", type=_confidence, metavar="C",
                   help="one operating threshold for all classes instead of the card's per-class thresholds")
    p.add_argument("--fps", type=_positive, default=10.0, metavar="F",
                   help="frame rate for false alarms per minute (default 10)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--record", action="store_true",
                   help="record the results in the model card (under `evaluations`, one entry per data set and "
                        "split): how held-out figures reach the card a report cites")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("detect", help="detect and track objects in a video file, image folder or sonar log",
                       description="Runs a detector (ONNX, with its model card) over INPUT as fast as the CPU "
                                   "allows, with tracking: INPUT is a video file (anything FFmpeg reads), a folder "
                                   "of images, or a sonar log (raw Oculus messages as captured from TCP 52100, "
                                   ".raw/.oculus/.bin). Writes OUTDIR/detections.jsonl (one JSON object per "
                                   "detection: source, t_s, class_name, confidence, box_xyxy, track_id) and an "
                                   "annotated video (OUTDIR/annotated.mp4) or annotated images.")
    p.add_argument("input", metavar="INPUT")
    p.add_argument("--model", metavar="M", help="model (.onnx with its .card.json); default: the shipped camera "
                                                "model, or the sonar model for a sonar log")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.add_argument("--no-media", action="store_true", help="write detections.jsonl only")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("demo", help="a complete simulated inspection: plan, dive, detect, map, record, report",
                       description="Runs a whole inspection on the embedded world without a window: plans the sweep "
                                   "of the ship at the berth (niche areas first), opens a mission record, arms and "
                                   "flies the plan in AUTO with live detection and mapping, closes and signs the "
                                   "record, and prints a summary: coverage, findings with their position error "
                                   "against the planted objects, frames processed and dropped, and the record's "
                                   "path.")
    p.add_argument("--headless", action="store_true", help="no window (the demo always runs headless for now)")
    p.add_argument("--duration", type=float, default=600.0, metavar="S",
                   help="stop the mission after S seconds (default 600; 0 flies the whole plan, about 95 min)")
    p.add_argument("-o", "--output", metavar="DIR", help="where the plan and the record go (default ~/HullWatch/demo)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("verify", help="check a mission record's integrity",
                       description="Checks the record's signed manifest, every file's SHA-256, the hash chain of "
                                   "its events and the signed addenda (later reviews). Exit 0 when intact, 1 with "
                                   "exactly which file or event was altered, added or removed.")
    p.add_argument("record", metavar="RECORD")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("analyze", help="re-run detection and mapping on a mission record, faster than real time",
                       description="Re-runs detection (optionally with another model) and mapping on a closed "
                                   "mission record's video, sonar and telemetry, faster than real time. The new "
                                   "findings are written beside the original ones as a signed addendum (never over "
                                   "them), and the differences are listed.")
    p.add_argument("record", metavar="RECORD")
    p.add_argument("--model", metavar="M", help="camera model (.onnx with its .card.json); default: the shipped one")
    p.add_argument("--sonar-model", metavar="M", help="sonar model; default: the shipped one")
    p.add_argument("--engine", default="fastest", choices=("fastest", "onnxruntime", "openvino", "openvino-bf16"),
                   help="inference engine: fastest (default) is OpenVINO in bf16 where the CPU has bf16 units, "
                        "boxes within a pixel or two of the live station's; onnxruntime repeats the live "
                        "station's arithmetic exactly")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("compare", help="new and vanished objects between two inspections of the same vessel",
                       description="Compares the findings of two mission records of the same vessel (by their "
                                   "place on the hull): objects found only in the newer one, only in the older "
                                   "one, and in both (with how far they moved).")
    p.add_argument("record_a", metavar="RECORD_A")
    p.add_argument("record_b", metavar="RECORD_B")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("report", help="the inspection report of a mission record (PDF, HTML, JSON, CSV)",
                       description="Writes the inspection report of a closed mission record: vessel and mission "
                                   "details, the plan and the coverage achieved (overall, per side, per niche "
                                   "area, the hull expansion image), every finding with its snapshot, place on the "
                                   "hull, size, time, detector, confidence and review decision, the gaps left "
                                   "uncovered, the team, and the record's integrity digest; plus a machine-readable "
                                   "export (JSON, CSV).")
    p.add_argument("record", metavar="RECORD")
    p.add_argument("-o", "--output", metavar="FILE.pdf",
                   help="the PDF to write; the HTML, JSON and CSV go beside it (default: RECORD_report.pdf beside "
                        "the record folder: a record is never written into after closing)")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("export-video", help="a record's video as an MP4 with telemetry and detections burned in",
                       description="Writes the record's camera video as an ordinary MP4 with the telemetry (UTC "
                                   "time, depth, heading, mode) and the live detections burned in, for viewing "
                                   "without HullWatch. The record keeps its original stream untouched.")
    p.add_argument("record", metavar="RECORD")
    p.add_argument("-o", "--output", required=True, metavar="FILE.mp4")
    p.add_argument("--no-overlay", action="store_true", help="leave the telemetry out")
    p.add_argument("--no-detections", action="store_true", help="leave the detection boxes out")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    p = sub.add_parser("replay", help="summarise a telemetry log (.tlog)",
                       description="Vehicle type, firmware, duration, modes, max depth, message counts, bad packets.")
    p.add_argument("file", metavar="FILE.tlog")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("hullwatch: stopped", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place where errors become a message
        if args.debug:
            raise
        from vehicle.errors import VehicleError

        known = (UserError, VehicleError, OSError, ValueError)
        try:
            from vehicle.tlog import TlogError
            known += (TlogError,)
        except ImportError:
            pass
        if isinstance(exc, known):
            print(f"hullwatch: error: {exc}", file=sys.stderr)
        else:
            print(f"hullwatch: internal error: {type(exc).__name__}: {exc} "
                  f"(run again with --debug and report the traceback)", file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    if args.self_test:
        from .self_test import run_self_test

        return run_self_test()
    if args.command == "sim":
        from .cmd_sim import run_sim_command

        return run_sim_command(args)
    if args.command == "connect":
        from .cmd_connect import run_connect_command

        return run_connect_command(args)
    if args.command == "hull":
        from .cmd_hull import run_hull_command

        return run_hull_command(args)
    if args.command == "plan":
        from .cmd_plan import run_plan_command

        return run_plan_command(args)
    if args.command == "dataset":
        from .cmd_dataset import run_dataset_command

        return run_dataset_command(args)
    if args.command == "train":
        from .cmd_train import run_train_command

        return run_train_command(args)
    if args.command == "evaluate":
        from .cmd_evaluate import run_evaluate_command

        return run_evaluate_command(args)
    if args.command == "detect":
        from .cmd_detect import run_detect_command

        return run_detect_command(args)
    if args.command == "demo":
        from .cmd_demo import run_demo_command

        return run_demo_command(args)
    if args.command == "verify":
        from .cmd_verify import run_verify_command

        return run_verify_command(args)
    if args.command == "analyze":
        from .cmd_analyze import run_analyze_command

        return run_analyze_command(args)
    if args.command == "compare":
        from .cmd_compare import run_compare_command

        return run_compare_command(args)
    if args.command == "report":
        from .cmd_report import run_report_command

        return run_report_command(args)
    if args.command == "export-video":
        from .record_video_export import export_video

        done = export_video(Path(args.record), Path(args.output), overlay=not args.no_overlay,
                            detections=not args.no_detections)
        print(f"wrote {done.path}: {done.frames} frames ({done.media_s:.0f} s of video, {done.detections_drawn} with "
              f"detections) in {done.wall_s:.1f} s")
        return 0
    if args.command == "replay":
        from .cmd_replay import run_replay_command

        return run_replay_command(args)
    from .gui import display_available

    if args.headless or not display_available():
        if args.screenshot:
            raise UserError("--screenshot needs a display: run it under Xvfb (xvfb-run -a hullwatch --screenshot "
                            "FILE.png) or on a desktop")
        if not args.headless and not args.connect:
            # CLI.md: without a display, `hullwatch` is the whole inspection, headless
            print("no display: running the simulated inspection (hullwatch demo --headless)", file=sys.stderr)
            from .cmd_demo import run_demo_command

            return run_demo_command(argparse.Namespace(duration=args.duration or 600.0, output=None))
        from .cmd_station import run_station

        return run_station(connect_url=args.connect, duration_s=args.duration)
    from .gui import run_gui

    return run_gui(connect_url=args.connect, duration_s=args.duration, screenshot=args.screenshot,
                   settings_path=args.settings)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
