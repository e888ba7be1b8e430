"""Camera video: RTP/H.264 depacketizer and a latest-frame VideoSource (PyAV decode)."""
from vision.video.rtp_h264 import AccessUnit, H264Depacketizer, RtpPacket, RtpStats, parse_rtp
from vision.video.source import EndOfStream, VideoFrame, VideoSource, VideoSourceError, VideoStats

__all__ = [
    "AccessUnit", "EndOfStream", "H264Depacketizer", "RtpPacket", "RtpStats", "VideoFrame",
    "VideoSource", "VideoSourceError", "VideoStats", "parse_rtp",
]
