"""Segmented videos through the image tower: segment vectors and the video's pooled vector.

Each sampled frame is encoded (unit vectors); a segment's vector is the mean of its frames'
vectors, and the video's vector is the mean of its (unit-normalised) segment vectors, i.e. of
the segments as stored. Used unchanged by the single-process path and by the Ray actors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .segmenting import SegmentedVideo


@dataclass
class EncodedVideo:
    """One video's vectors, ready for :meth:`Index.add_videos` and :meth:`Index.add_segments`."""

    video_id: str
    vector: np.ndarray  # (d,) float32: mean of the unit segment vectors
    segment_vectors: np.ndarray  # (S, d) float32: mean of each segment's frame vectors
    starts: np.ndarray  # (S,) seconds
    ends: np.ndarray  # (S,) seconds
    thumbnails: list[bytes]  # S JPEGs


def pool_segments(
    frame_vectors: np.ndarray, frame_segment: np.ndarray, n_segments: int
) -> tuple[np.ndarray, np.ndarray]:
    """Segment vectors (mean of their frames) and the video vector (mean of unit segments).

    ``frame_segment`` is non-decreasing and names every segment ``0..n_segments-1`` at least
    once.
    """
    seg = np.asarray(frame_segment, dtype=np.int64)
    if seg.size == 0 or not np.array_equal(np.unique(seg), np.arange(n_segments)):
        raise ValueError(f"every one of {n_segments} segments needs a frame, got {seg.tolist()}")
    first = np.flatnonzero(np.diff(seg, prepend=-1))
    counts = np.diff(np.append(first, len(seg)))
    sums = np.add.reduceat(frame_vectors.astype(np.float64), first, axis=0)
    segments = (sums / counts[:, None]).astype(np.float32)
    unit = segments / np.maximum(np.linalg.norm(segments, axis=1, keepdims=True), 1e-12)
    return segments, unit.mean(axis=0).astype(np.float32)


def encode_segmented(
    encoder: Any, videos: Sequence[SegmentedVideo], batch_size: int = 32
) -> list[EncodedVideo]:
    """Encode the sampled frames of ``videos`` (in batches that may span videos) and pool them."""
    from PIL import Image

    if not videos:
        return []
    images = [Image.fromarray(frame) for v in videos for frame in v.frames]
    vectors = encoder.encode_images(images, batch_size=batch_size)
    out: list[EncodedVideo] = []
    offset = 0
    for v in videos:
        n = len(v.frames)
        segments, pooled = pool_segments(
            vectors[offset : offset + n], v.frame_segment, len(v.starts)
        )
        offset += n
        out.append(EncodedVideo(v.video_id, pooled, segments, v.starts, v.ends, list(v.thumbnails)))
    return out
