"""Decoding media into segments: video files with PyAV, keyframe folders with PIL.

One pass over the frames (see :mod:`.segmenting`); only the frames a segment needs are kept,
shrunk by FFmpeg's scaler so their short side is at most ``max_side`` pixels (the image
tower resizes again; a 224-px CLIP model loses nothing at the default 256). The same functions
run in the single-process path and in Ray decode tasks, so both produce the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vtrsearch.errors import IngestError
from vtrsearch.extras import require_extra

from .segmenting import SHOT_FRAME_SIZE, SegmentedVideo, Segmenter, SegmentSpec, parse_segments

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".webm", ".avi", ".mkv", ".mov", ".m4v")


@dataclass(frozen=True)
class FrameOptions:
    """How frames are chosen: segments, sampling rate, keyframe rate, decode size."""

    segments: SegmentSpec = field(default_factory=lambda: parse_segments("fixed:2s"))
    sample_fps: float = 1.0  # frames encoded per second of video (at least one per segment)
    keyframe_fps: float = 1.0  # the rate at which a keyframe folder's images were taken
    max_side: int = 256  # short side of the decoded frames (larger frames are shrunk)

    def __post_init__(self) -> None:
        for name in ("sample_fps", "keyframe_fps"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise IngestError(f"{name} must be a positive number, got {value!r}")
        if int(self.max_side) < 16:
            raise IngestError(f"max_side must be at least 16 pixels, got {self.max_side}")


def decode_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """``(width, height)`` shrunk so the short side is at most ``max_side`` (even, >= 2)."""
    scale = min(1.0, max_side / max(1, min(width, height)))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def segment_media(video_id: str, path: str | Path, options: FrameOptions) -> SegmentedVideo:
    """Decode one keyframe folder or video file into segments.

    Raises:
        IngestError: the media cannot be read (the message names the file); a video whose
            tail is damaged keeps the frames decoded before the damage.
    """
    path = Path(path)
    if path.is_dir():
        return _segment_keyframes(video_id, path, options)
    return _segment_video_file(video_id, path, options)


def try_segment_media(video_id: str, path: str | Path, options: FrameOptions) -> Any:
    """:func:`segment_media`, or the error message (a string) when it cannot be read."""
    try:
        return segment_media(video_id, path, options)
    except IngestError as exc:
        return str(exc)
    except (OSError, ValueError, RuntimeError, MemoryError) as exc:  # decoder bugs, odd files
        return f"cannot read {path}: {type(exc).__name__}: {exc}"


def _segment_video_file(video_id: str, path: Path, options: FrameOptions) -> SegmentedVideo:
    av = require_extra("av", "media")

    if not path.is_file():
        raise IngestError(f"cannot decode video {str(path)!r}: no such file")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise IngestError(
            f"cannot decode video {str(path)!r}: {type(exc).__name__}: {exc}"
        ) from None
    seg = Segmenter(options.segments, options.sample_fps)
    with container:
        if not container.streams.video:
            raise IngestError(f"cannot decode video {str(path)!r}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = stream.time_base
        t0 = float(stream.start_time * base) if stream.start_time is not None and base else 0.0
        duration = None
        if stream.duration and base:
            duration = float(stream.duration * base)
        elif container.duration:
            duration = container.duration / 1_000_000 - t0
        rate = float(stream.guessed_rate or stream.average_rate or 25)
        size: tuple[int, int] | None = None
        try:
            for i, frame in enumerate(container.decode(stream)):
                if size is None:
                    size = decode_size(frame.width, frame.height, options.max_side)
                t = (frame.time - t0) if frame.time is not None else i / rate
                seg.feed(
                    t,
                    lambda f=frame, s=size: f.to_ndarray(format="rgb24", width=s[0], height=s[1]),
                    lambda f=frame: f.to_ndarray(
                        format="rgb24", width=SHOT_FRAME_SIZE[0], height=SHOT_FRAME_SIZE[1]
                    ),
                )
        except av.FFmpegError as exc:
            if seg.count == 0:  # a damaged tail is tolerated once some frames decoded
                raise IngestError(
                    f"cannot decode video {str(path)!r}: {type(exc).__name__}: {exc}"
                ) from None
    if seg.count == 0:
        raise IngestError(f"cannot decode video {str(path)!r}: no frame decoded")
    return seg.finish(video_id, duration)


def _segment_keyframes(video_id: str, folder: Path, options: FrameOptions) -> SegmentedVideo:
    """Images of a folder in name order, image ``i`` taken at ``i / keyframe_fps`` seconds.

    Images whose size differs from the first one's are resized to it.
    """
    require_extra("PIL", "media")
    from PIL import Image, UnidentifiedImageError

    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise IngestError(f"{folder}: no images")
    seg = Segmenter(options.segments, options.sample_fps)
    size: tuple[int, int] | None = None
    for i, p in enumerate(images):
        try:
            with Image.open(p) as img:
                rgb = img.convert("RGB")
        except (UnidentifiedImageError, OSError) as exc:
            raise IngestError(f"{p}: unreadable image ({exc})") from None
        if size is None:
            size = decode_size(rgb.width, rgb.height, options.max_side)
        seg.feed(
            i / options.keyframe_fps,
            lambda im=rgb, s=size: np.asarray(
                im if im.size == s else im.resize(s, Image.Resampling.BILINEAR)
            ),
            lambda im=rgb: np.asarray(im.resize(SHOT_FRAME_SIZE, Image.Resampling.BILINEAR)),
        )
    return seg.finish(video_id, len(images) / options.keyframe_fps)
