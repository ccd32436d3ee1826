"""Arrow schemas of the tables an index holds, and helpers to build their rows."""

from __future__ import annotations

import hashlib

import pyarrow as pa

from ..stores.arrow import vector_array, vectors_from_column

__all__ = [
    "CAPTIONS",
    "CAPTIONS_SCHEMA",
    "CAPTION_KEY",
    "CAPTION_TIMES",
    "CAPTION_TIMES_SCHEMA",
    "CAPTION_VECTORS_PREFIX",
    "PAYLOAD_INDEXES",
    "SEGMENTS",
    "SEGMENT_KEY",
    "VIDEOS",
    "VIDEO_KEY",
    "caption_vectors_schema",
    "caption_vectors_table",
    "segment_key",
    "segments_schema",
    "vector_array",
    "vectors_from_column",
    "videos_schema",
]

#: Table names every store holds for one index.
VIDEOS = "videos"
CAPTIONS = "captions"
SEGMENTS = "segments"
#: Start/end times of the captions that describe a moment (ActivityNet Captions); optional,
#: created by the first caption written with times (see :mod:`.caption_times`).
CAPTION_TIMES = "caption_times"
#: Prefix of the per-encoder caption-vector cache tables (``caption_vectors_<hash>``).
CAPTION_VECTORS_PREFIX = "caption_vectors_"

VIDEO_KEY = "video_id"
CAPTION_KEY = "sen_id"
#: Key of a segment row: ``"<segment>:<video_id>"`` (see :func:`segment_key`).
SEGMENT_KEY = "segment_key"
#: Payload fields a server store indexes for filtering, per table (besides each key column).
PAYLOAD_INDEXES: dict[str, tuple[str, ...]] = {
    VIDEOS: ("category", "split"),
    CAPTIONS: ("video_id",),
    SEGMENTS: ("video_id",),
    CAPTION_TIMES: ("video_id",),
}


def videos_schema(dim: int) -> pa.Schema:
    """Schema of the videos table for vectors of dimension ``dim``."""
    return pa.schema(
        [
            pa.field("video_id", pa.string(), nullable=False),
            pa.field("category", pa.int32()),
            pa.field("category_name", pa.string()),
            pa.field("split", pa.string()),
            pa.field("start", pa.float64()),
            pa.field("end", pa.float64()),
            pa.field("url", pa.string()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def segments_schema(dim: int) -> pa.Schema:
    """Schema of the segments table: moments of a video (seconds) with their vectors.

    ``thumbnail`` holds optional small JPEG bytes so front ends can show what matched without
    the media folder.
    """
    return pa.schema(
        [
            pa.field(SEGMENT_KEY, pa.string(), nullable=False),
            pa.field("video_id", pa.string(), nullable=False),
            pa.field("segment", pa.int32(), nullable=False),
            pa.field("start", pa.float64(), nullable=False),
            pa.field("end", pa.float64(), nullable=False),
            pa.field("thumbnail", pa.binary()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def segment_key(video_id: str, segment: int) -> str:
    """The row key of segment ``segment`` of ``video_id``.

    The number comes first, so the key is unambiguous whatever characters the id holds.
    """
    return f"{int(segment)}:{video_id}"


CAPTIONS_SCHEMA = pa.schema(
    [
        pa.field("sen_id", pa.string(), nullable=False),
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("text", pa.string()),
    ]
)

#: Rows of :data:`CAPTION_TIMES`: the moment ``[start, end)`` (seconds) a caption describes.
CAPTION_TIMES_SCHEMA = pa.schema(
    [
        pa.field("sen_id", pa.string(), nullable=False),
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("start", pa.float64(), nullable=False),
        pa.field("end", pa.float64(), nullable=False),
    ]
)


def caption_vectors_schema(dim: int) -> pa.Schema:
    """Schema of a caption-vector cache table (one encoder spec per table)."""
    return pa.schema(
        [
            pa.field("sen_id", pa.string(), nullable=False),
            pa.field("text_hash", pa.string()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def caption_vectors_table(encoder_spec: str) -> str:
    """Name of the cache table for ``encoder_spec``: a stable hash, so specs never mix."""
    digest = hashlib.sha256(encoder_spec.encode("utf-8")).hexdigest()[:16]
    return CAPTION_VECTORS_PREFIX + digest
