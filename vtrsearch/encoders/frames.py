"""Uniform frame sampling from video files with PyAV (``av``), imported lazily."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..extras import require_extra

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["VideoDecodeError", "sample_video_frames"]

SEQUENTIAL_MAX_FRAMES = 3000
"""``method="auto"`` decodes every frame up to this many frames, and seeks beyond it."""


class VideoDecodeError(ValueError):
    """A video file could not be opened or decoded.

    Attributes:
        path: The offending file.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        super().__init__(f"cannot decode video {self.path!r}: {problem}")


def _targets(count: int, num_frames: int) -> list[int]:
    """Frame indices at the centres of ``num_frames`` equal segments of ``count`` frames."""
    return [min(count - 1, int((i + 0.5) * count / num_frames)) for i in range(num_frames)]


def _count_frames(path: Path, stream: Any) -> int:
    """Frame count from the header, else by demuxing (no decoding) a separate handle."""
    import av

    if stream.frames and stream.frames > 0:
        return int(stream.frames)
    with av.open(str(path)) as probe:
        return sum(1 for packet in probe.demux(probe.streams.video[0]) if packet.size)


def _sequential(path: Path, container: Any, stream: Any, num_frames: int) -> list[Image.Image]:
    """Decode every frame and keep the target ones (exact; needs no seeking or index)."""
    import av

    count = _count_frames(path, stream)
    if count <= 0:
        raise RuntimeError("no video packets")
    wanted = _targets(count, num_frames)
    wanted_set = set(wanted)
    picked: dict[int, Image.Image] = {}
    last: Image.Image | None = None
    index = -1
    try:
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted_set:
                last = frame.to_image()
                picked[index] = last
                if len(picked) == len(wanted_set):
                    break
    except av.FFmpegError:
        if not picked:  # a damaged tail is tolerated once some frames decoded
            raise
    if not picked:
        raise RuntimeError(f"no frame decoded ({index + 1} frames seen)")
    out: list[Image.Image] = []
    for i in wanted:  # frames past a damaged tail repeat the last good one
        if i in picked:
            last = picked[i]
        out.append(picked.get(i, last))  # type: ignore[arg-type]
    return out


def _seek(container: Any, stream: Any, num_frames: int) -> list[Image.Image]:
    """Seek near each target time and decode forward to it (fast for long videos)."""
    base = stream.time_base
    if stream.duration:
        start = float((stream.start_time or 0) * base)
        duration = float(stream.duration * base)
    elif container.duration:
        start, duration = 0.0, container.duration / 1_000_000
    else:
        raise RuntimeError("unknown duration")
    out: list[Image.Image] = []
    for i in range(num_frames):
        target = start + (i + 0.5) * duration / num_frames
        container.seek(int(target / base), stream=stream, backward=True, any_frame=False)
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time >= target:
                break
        if chosen is None:
            raise RuntimeError(f"no frame decoded near t={target:.2f}s")
        out.append(chosen.to_image())
    return out


def sample_video_frames(
    path: str | os.PathLike[str], num_frames: int = 8, *, method: str = "auto"
) -> list[Image.Image]:
    """Sample ``num_frames`` frames uniformly over a video's stream (segment centres).

    Always returns exactly ``num_frames`` RGB images; a video with fewer frames repeats some.

    Args:
        path: Video file (anything FFmpeg reads: mp4, webm, avi, ...).
        num_frames: Frames to return (>= 1).
        method: ``"sequential"`` decodes every frame (exact indices; robust), ``"seek"`` seeks
            to each target time (fast on long videos), ``"auto"`` picks sequential for up to
            ``SEQUENTIAL_MAX_FRAMES`` frames and seek beyond, falling back to sequential when
            seeking fails.

    Returns:
        PIL images in temporal order.

    Raises:
        ValueError: ``num_frames < 1`` or unknown ``method``.
        VideoDecodeError: The file is missing, unreadable, has no video stream, or no frame
            decodes; the message names the file.
        MissingExtraError: av or pillow is not installed (``pip install 'vtrsearch[media]'``).
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if method not in ("auto", "sequential", "seek"):
        raise ValueError(f"method must be 'auto', 'sequential' or 'seek', got {method!r}")
    p = Path(path)
    if not p.is_file():
        raise VideoDecodeError(p, "no such file")
    av = require_extra("av", "media")
    require_extra("PIL", "media")  # frames become PIL images

    try:
        container = av.open(str(p))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise VideoDecodeError(p, f"{type(exc).__name__}: {exc}") from None
    try:
        if not container.streams.video:
            raise VideoDecodeError(p, "no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        use_seek = method == "seek" or (
            method == "auto" and (stream.frames or 0) > SEQUENTIAL_MAX_FRAMES
        )
        if use_seek:
            try:
                return _seek(container, stream, num_frames)
            except (av.FFmpegError, RuntimeError, OSError):
                if method == "seek":
                    raise
            container.close()  # start the fallback on a fresh handle, no seeking
            container = av.open(str(p))
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
        return _sequential(p, container, stream, num_frames)
    except VideoDecodeError:
        raise
    except (av.FFmpegError, RuntimeError, OSError, ValueError) as exc:
        raise VideoDecodeError(p, f"{type(exc).__name__}: {exc}") from None
    finally:
        container.close()
