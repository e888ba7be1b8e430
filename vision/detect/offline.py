"""`hullwatch detect`: run a detector over a video file, an image folder or a sonar log
(raw Oculus messages, as captured from TCP 52100) as fast as the CPU allows, writing one
JSON line per detection and an annotated video (or annotated images for a folder).

Frames are tracked in order, so track ids in the JSON lines link the same object across
frames, as in live use."""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from ..annotate import annotate
from ..alarms import AlarmBook
from ..tracking import track_frame, tracker_for
from .verifier import verifier_for

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
SONAR_SUFFIXES = {".raw", ".oculus", ".bin"}
SONAR_FAN_SIZE = (640, 360)  # the fan size the sonar data sets are rendered at
VIDEO_FPS_FALLBACK = 10.0


class InputError(ValueError):
    pass


@dataclasses.dataclass(frozen=True, eq=False)
class InputFrame:
    source: str | int  # file name (folders) or frame index (videos, sonar logs)
    t_s: float | None
    image: np.ndarray
    rate_hz: float | None = None  # the source's frame rate, where it has one (videos)


@dataclasses.dataclass
class OfflineSummary:
    kind: str
    frames: int = 0
    detections: int = 0
    tracks: int = 0
    alarms: int = 0
    media_s: float = 0.0  # length of the input in its own time (videos, sonar logs)
    wall_s: float = 0.0
    outputs: list = dataclasses.field(default_factory=list)

    @property
    def speed_x(self) -> float:
        return self.media_s / self.wall_s if self.wall_s > 0 and self.media_s > 0 else float("nan")


def input_kind(path: Path) -> str:
    if path.is_dir():
        return "images"
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    return "sonar" if path.suffix.lower() in SONAR_SUFFIXES else "video"


def iter_images(folder: Path) -> Iterator[InputFrame]:
    import cv2

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
    for p in files:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            raise InputError(f"{p}: not a readable image")
        yield InputFrame(p.name, None, img)


def iter_video(path: Path) -> Iterator[InputFrame]:
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"{path}: not a video FFmpeg can open ({exc})") from None
    with container:
        if not container.streams.video:
            raise InputError(f"{path}: holds no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate) if stream.average_rate else None
        try:
            for i, frame in enumerate(container.decode(stream)):
                t = float(frame.time) if frame.time is not None else i / (rate or VIDEO_FPS_FALLBACK)
                yield InputFrame(i, t, frame.to_ndarray(format="bgr24"), rate)
        except av.error.FFmpegError as exc:
            raise InputError(f"{path}: the video is damaged after frame {i} ({exc})") from None


def iter_sonar(path: Path, fan_size=SONAR_FAN_SIZE) -> Iterator[InputFrame]:
    from ..sonar.fan import fan_image
    from ..sonar.oculus import MSG_SIMPLE_PING_RESULT, OculusFormatError, iter_oculus_messages, parse_oculus_ping

    data = path.read_bytes()
    n = 0
    for i, msg in enumerate(iter_oculus_messages(data)):
        if int.from_bytes(msg[6:8], "little") != MSG_SIMPLE_PING_RESULT:
            continue
        try:
            ping = parse_oculus_ping(msg)
        except OculusFormatError as exc:
            raise InputError(f"{path}: message {i} is not a valid Oculus ping ({exc})") from None
        fan = fan_image(ping, width_px=fan_size[0], height_px=fan_size[1])
        # a raw capture has no host times, and the device's ping counter has no documented unit
        yield InputFrame(n, ping.t_s, fan.image)
        n += 1
    if n == 0:
        raise InputError(f"{path}: no Oculus pings found (expected raw Oculus messages as sent on TCP 52100)")


def run_offline(detector, input_path, out_dir, *, write_media: bool = True, progress=None) -> OfflineSummary:
    input_path, out_dir = Path(input_path), Path(out_dir)
    kind = input_kind(input_path)
    frames = {"images": iter_images, "video": iter_video, "sonar": iter_sonar}[kind](input_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = OfflineSummary(kind)
    tracker = tracker_for(detector)
    alarm_book = AlarmBook(detector.classes, "sonar" if kind == "sonar" else "camera",
                           evidence_conf_s=card.alarm_evidence() if (card := getattr(detector, "card", None)) else None,
                           verifier=verifier_for(detector))
    writer = None
    t_start = time.perf_counter()
    first_t = last_t = None
    jsonl = out_dir / "detections.jsonl"
    with open(jsonl, "w", encoding="utf-8") as out:
        try:
            for frame in frames:
                det = track_frame(detector, tracker, frame.image)
                alarm_book.update(det, frame.t_s if frame.t_s is not None else float(summary.frames), frame.image)
                summary.frames += 1
                summary.detections += len(det)
                for i in range(len(det)):
                    out.write(json.dumps({
                        "source": frame.source, "t_s": None if frame.t_s is None else round(frame.t_s, 4),
                        "class_name": detector.classes[int(det.class_id[i])],
                        "confidence": round(float(det.confidence[i]), 4),
                        "box_xyxy": [round(float(v), 1) for v in det.xyxy[i]],
                        "track_id": int(det.tracker_id[i]) if det.tracker_id[i] > 0 else None}) + "\n")
                if frame.t_s is not None:
                    first_t = frame.t_s if first_t is None else first_t
                    last_t = frame.t_s
                if write_media:
                    drawn = annotate(frame.image, det, detector.classes)
                    if kind == "images":
                        import cv2

                        (out_dir / "annotated").mkdir(exist_ok=True)
                        cv2.imwrite(str(out_dir / "annotated" / (Path(str(frame.source)).stem + ".png")), drawn)
                    else:
                        writer = writer or _VideoWriter(out_dir / "annotated.mp4", drawn.shape[1], drawn.shape[0],
                                                        frame.rate_hz or VIDEO_FPS_FALLBACK)
                        writer.write(drawn)
                if progress is not None:
                    progress(summary)
        finally:
            if writer is not None:
                writer.close()
    summary.tracks = len({t for t in _track_ids(jsonl)})
    summary.alarms = _write_alarms(alarm_book, out_dir, write_media)
    summary.wall_s = time.perf_counter() - t_start
    if first_t is not None and last_t is not None and summary.frames > 1:
        summary.media_s = (last_t - first_t) * summary.frames / (summary.frames - 1)
    summary.outputs = [str(jsonl), str(out_dir / "alarms.jsonl")] + ([str(out_dir / ("annotated" if kind == "images" else "annotated.mp4"))]
                                      if write_media else [])
    return summary


def _write_alarms(book: AlarmBook, out_dir: Path, write_media: bool) -> int:
    """alarms.jsonl: one line per alarm (a confirmed track of an alarm class), as the live
    station would have raised it; with media, its best snapshot beside it."""
    import cv2

    with open(out_dir / "alarms.jsonl", "w", encoding="utf-8") as f:
        for a in sorted(book.alarms.values(), key=lambda a: a.alarm_id):
            snap = None
            if write_media and a.snapshot is not None and a.snapshot.size:
                (out_dir / "alarms").mkdir(exist_ok=True)
                snap = f"alarms/alarm_{a.alarm_id:04d}.png"
                cv2.imwrite(str(out_dir / snap), a.snapshot)
            f.write(json.dumps({"alarm_id": a.alarm_id, "class_name": a.class_name, "track_id": a.track_id,
                                "confidence": round(a.confidence, 4), "first_t_s": round(a.first_t_s, 4),
                                "last_t_s": round(a.last_t_s, 4), "frames": a.frames,
                                "box_xyxy": [round(v, 1) for v in a.box_xyxy], "snapshot": snap}) + "\n")
    return len(book.alarms)


def _track_ids(jsonl: Path):
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            tid = json.loads(line)["track_id"]
            if tid is not None:
                yield tid


class _VideoWriter:
    """H.264 in MP4 through PyAV; even frame sizes, as yuv420p needs."""

    def __init__(self, path: Path, width: int, height: int, fps: float = VIDEO_FPS_FALLBACK):
        import av

        self.container = av.open(str(path), "w")
        from fractions import Fraction

        # the source's rate, so the annotated video plays at the speed it was filmed
        self.stream = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self.stream.width, self.stream.height = width - width % 2, height - height % 2
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"preset": "veryfast", "crf": "23"}

    def write(self, bgr: np.ndarray) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(bgr[: self.stream.height, : self.stream.width], format="bgr24")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
