"""Frame-level features as segments: one segment per frame, times spread uniformly.

MSR-VTT's per-frame CLIP features are ``(T, D)`` per video with no timestamps. Frame ``j`` of
``T`` becomes segment ``j`` covering ``[start + j * L / T, start + (j + 1) * L / T)`` where
``start``/``end`` are the video's times from the annotations (``L = end - start``; these are
times in the source video named by the annotation's ``url``), or, given a frame rate ``fps``,
``[j / fps, (j + 1) / fps)`` from the clip's own start. The segments of a video tile its span,
never overlap, and are computed (and checked) for every video before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vtrsearch.errors import IngestError

from .annotations import VideoInfo
from .features import Features


@dataclass
class SegmentTimes:
    """Segment edges of the frame-level videos: ``edges[i]`` has ``T + 1`` times in seconds."""

    edges: dict[str, np.ndarray]

    def rows(self, ids: list[str], feats: Features, index_of: Mapping[str, int]) -> dict:
        """The :meth:`Index.add_segments` columns of the frame-level videos among ``ids``."""
        vids: list[str] = []
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        numbers: list[np.ndarray] = []
        vectors: list[np.ndarray] = []
        for vid in ids:
            edges = self.edges.get(vid)
            if edges is None:
                continue
            frames = feats.frames_of(index_of[vid])
            assert frames is not None
            vids.extend([vid] * frames.shape[0])
            starts.append(edges[:-1])
            ends.append(edges[1:])
            numbers.append(np.arange(frames.shape[0], dtype=np.int64))
            vectors.append(frames)
        if not vids:
            return {}
        return {
            "video_id": vids,
            "start": np.concatenate(starts).tolist(),
            "end": np.concatenate(ends).tolist(),
            "segment": np.concatenate(numbers).tolist(),
            "vector": np.concatenate(vectors),
        }


def frame_edges(n_frames: int, start: float, end: float) -> np.ndarray:
    """``n_frames + 1`` equally spaced times from ``start`` to ``end``."""
    return np.linspace(float(start), float(end), int(n_frames) + 1)


def plan_segment_times(
    feats: Features, info: Mapping[str, VideoInfo], fps: float | None, source: str
) -> SegmentTimes:
    """Segment edges for every frame-level video, or a clear error before any write.

    Args:
        feats: the features read (clip-level videos get no segments).
        info: the annotations' videos by id (for their start/end times).
        fps: frames per second of the features; ``None`` spreads the frames over each video's
            annotated ``start``..``end``.
        source: the annotation file, named in errors.

    Raises:
        IngestError: ``fps`` is not positive, or a frame-level video has no usable
            start/end times (and no ``fps`` was given).
    """
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise IngestError(f"--fps must be a positive number of frames per second, got {fps}")
    edges: dict[str, np.ndarray] = {}
    bad: list[str] = []
    for i, vid in enumerate(feats.ids):
        frames = feats.frames_of(i)
        if frames is None:
            continue
        n = frames.shape[0]
        if fps is not None:
            edges[vid] = np.arange(n + 1, dtype=np.float64) / float(fps)
            continue
        video = info[vid]
        if video.start is None or video.end is None or not 0 <= video.start < video.end:
            bad.append(f"{vid} (start {video.start}, end {video.end})")
            continue
        edges[vid] = frame_edges(n, video.start, video.end)
    if bad:
        shown = ", ".join(bad[:10]) + (f" ... ({len(bad)} in all)" if len(bad) > 10 else "")
        raise IngestError(
            f"{source}: frame-level features need each video's start and end time "
            f"(0 <= start < end) to place its frames; missing or invalid for: {shown}. "
            "Pass --fps N to place frame j at [j/N, (j+1)/N) seconds instead"
        )
    return SegmentTimes(edges)
