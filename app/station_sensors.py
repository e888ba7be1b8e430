"""The station's sensor readers for the headless station: the camera's RTP stream and
the Oculus multibeam, summarised once a second beside the telemetry line, and live
detection on the video and on the sonar's fan images with the shipped models (alarms
printed as they are raised; sonar alarms with range and bearing)."""
from __future__ import annotations

import itertools
import sys
import time


class SensorMonitor:
    def __init__(self, video_url: str | None = None, oculus: tuple[str, int] | None = None,
                 oculus_range_m: float = 20.0):
        from vision.sonar.oculus_client import OculusClient
        from vision.video.source import VideoSource

        self.video = VideoSource(video_url).start() if video_url else None
        self.oculus = OculusClient(oculus[0], oculus[1], range_m=oculus_range_m).start() if oculus else None
        self._last = (time.monotonic(), 0, 0)
        self._last_detected = 0
        self.pipeline = self.feeder = None
        self.sonar_pipeline = self.sonar_feeder = None
        self.alarm_log = []
        self.alarm_listeners: list = []  # callables(Alarm), called on the detector threads
        self.result_listeners: list = []  # callables(source, DetectionResult), on the detector threads
        self._alarm_ids = itertools.count(1)  # one numbering for camera and sonar alarms
        self.map = None  # app.station_map.StationMap, when the hull is known

    def start_map(self, station_map) -> None:
        """Feed the hull map from here on: frames and pings received, tracked detections.
        Call before start_detection / start_sonar_detection."""
        self.map = station_map

    def start_detection(self, model_path, err=sys.stderr) -> str:
        """Live detection on the video; returns a line saying what runs (or why not)."""
        from vision.classes import CLASSES
        from vision.detect import ModelError, OnnxDetector
        from vision.detect.feeder import SourceFeeder, video_frame_in
        from vision.detect.pipeline import DetectionPipeline

        if self.video is None:
            return "detection: no video"
        try:
            detector = OnnxDetector(model_path, expected_classes=CLASSES, threads=1)
        except ModelError as exc:
            return f"detection off: {exc}"

        def on_result(result) -> None:
            if self.map is not None:
                self.map.detections(result, "camera")
            self._tell_result("camera", result)
            for alarm in result.new_alarms:
                line = (f"ALARM {alarm.alarm_id}: {alarm.class_name} {alarm.confidence:.2f} (track "
                        f"{alarm.track_id}, confirmed over {alarm.frames} frames)")
                self.alarm_log.append(line)
                print(line, file=err, flush=True)
                self._tell_alarm(alarm)

        self.pipeline = DetectionPipeline(detector, source="camera", on_result=on_result,
                                          alarm_ids=self._alarm_ids).start()
        self.feeder = SourceFeeder(self._read_video, video_frame_in, self.pipeline, name="camera feeder").start()
        return (f"detection: {model_path.name} ({detector.card.input_hw[1]}x{detector.card.input_hw[0]} input) on "
                f"the camera, one thread; alarms need a track confirmed over several frames")

    def start_sonar_detection(self, model_path, err=sys.stderr) -> str:
        """Live detection on the Oculus pings' fan images; returns a line saying what runs."""
        from vision.classes import CLASSES
        from vision.detect import ModelError, OnnxDetector
        from vision.detect.feeder import SourceFeeder, sonar_frame_in
        from vision.detect.pipeline import DetectionPipeline
        from vision.detect.sonar_geometry import fan_detections_to_polar

        if self.oculus is None:
            return "sonar detection: no sonar"
        if not model_path.exists():
            return f"sonar detection off: no model at {model_path}"
        try:
            detector = OnnxDetector(model_path, expected_classes=CLASSES, threads=1)
        except ModelError as exc:
            return f"sonar detection off: {exc}"

        def on_result(result) -> None:
            if self.map is not None:
                self.map.detections(result, "sonar")
            self._tell_result("sonar", result)
            if not result.new_alarms:
                return
            polar = fan_detections_to_polar(result.detections, result.frame.meta)
            for alarm in result.new_alarms:
                i = next((k for k in range(len(result.detections))
                          if int(result.detections.tracker_id[k]) == alarm.track_id), None)
                where = (f" at {polar.range_m[i]:.1f} m, {polar.bearing_deg[i]:+.0f} deg" if i is not None else "")
                line = (f"SONAR ALARM {alarm.alarm_id}: {alarm.class_name} {alarm.confidence:.2f}{where} (track "
                        f"{alarm.track_id}, confirmed over {alarm.frames} pings)")
                self.alarm_log.append(line)
                print(line, file=err, flush=True)
                self._tell_alarm(alarm)

        self.sonar_pipeline = DetectionPipeline(detector, source="sonar", on_result=on_result,
                                                alarm_ids=self._alarm_ids).start()
        self.sonar_feeder = SourceFeeder(self._read_sonar, sonar_frame_in(), self.sonar_pipeline,
                                         name="sonar feeder").start()
        return (f"sonar detection: {model_path.name} ({detector.card.input_hw[1]}x{detector.card.input_hw[0]} "
                f"input) on the Oculus fan images, one thread")

    # every frame and ping received counts towards coverage, also those the detector skips;
    # the map is looked up per read, so a hull loaded mid-mission starts counting at once
    def _read_video(self, timeout_s):
        frame = self.video.read(timeout_s)
        if self.map is not None:
            self.map.camera_frame(frame)
        return frame

    def _read_sonar(self, timeout_s):
        ping = self.oculus.read(timeout_s)
        if self.map is not None:
            self.map.sonar_ping(ping)
        return ping

    def _tell_result(self, source: str, result) -> None:
        for listener in list(self.result_listeners):
            try:
                listener(source, result)
            except Exception:  # noqa: BLE001 - a listener (the recorder) must never stop detection
                import logging

                logging.getLogger(__name__).exception("detection result listener failed")

    def _tell_alarm(self, alarm) -> None:
        import dataclasses

        for listener in list(self.alarm_listeners):
            # a copy: the alarm book keeps updating its own on the detector thread
            listener(dataclasses.replace(alarm, track_ids=list(alarm.track_ids)))

    @property
    def video_port(self) -> int | None:
        return self.video.local_port if self.video is not None else None

    def status(self) -> str:
        """'video 9.8 fps 640x480 | sonar 4.9 pings/s echo 5.1 m': rates since the last call."""
        now = time.monotonic()
        frames = self.video.stats().frames_decoded if self.video else 0
        pings = self.oculus.stats().pings_received if self.oculus else 0
        t0, f0, p0 = self._last
        dt = max(now - t0, 1e-3)
        self._last = (now, frames, pings)
        parts = []
        if self.video is not None:
            latest = self.video.latest()
            size = f" {latest.width}x{latest.height}" if latest is not None else " (waiting for the first frame)"
            parts.append(f"video {(frames - f0) / dt:.1f} fps{size}")
        if self.pipeline is not None:
            st = self.pipeline.stats()
            done = st.processed - self._last_detected
            self._last_detected = st.processed
            latest = self.pipeline.latest
            n = len(latest.detections) if latest is not None else 0
            parts.append(f"detect {done / dt:.1f} fps, {n} in view, {len(self.pipeline.alarms.alarms)} alarms")
        if self.oculus is not None:
            ping = self.oculus.latest()
            echo = ""
            if ping is not None:
                # strongest return along the centre beam: the standoff the sonar sees
                mid = ping.intensities.shape[1] // 2
                centre = ping.intensities[:, max(0, mid - 4):mid + 5].mean(axis=1)
                if centre.max() > 0:
                    echo = f" echo {int(centre.argmax()) * ping.range_resolution_m:.1f} m"
            parts.append(f"sonar {(pings - p0) / dt:.1f} pings/s{echo}" if ping is not None
                         else f"sonar {self.oculus.stats().status or 'connecting'}")
        if self.sonar_pipeline is not None:
            latest = self.sonar_pipeline.latest
            n = len(latest.detections) if latest is not None else 0
            parts.append(f"sonar detect {n} in view, {len(self.sonar_pipeline.alarms.alarms)} alarms")
        if self.map is not None:
            parts.append(self.map.status())
        return " | ".join(parts)

    def close(self) -> None:
        # the map last: it places what the feeders and detectors handed it before they stopped
        for part in (self.feeder, self.pipeline, self.sonar_feeder, self.sonar_pipeline, self.video, self.oculus,
                     self.map):
            if part is not None:
                part.close()
