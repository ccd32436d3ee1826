"""Arrow schemas of the tables an index holds, and helpers to build their rows."""

from __future__ import annotations

import hashlib

import pyarrow as pa

from ..stores.arrow import vector_array, vectors_from_column

__all__ = [
    "CAPTIONS",
    "CAPTIONS_SCHEMA",
    "CAPTION_KEY",
    "CAPTION_VECTORS_PREFIX",
    "PAYLOAD_INDEXES",
    "VIDEOS",
    "VIDEO_KEY",
    "caption_vectors_schema",
    "caption_vectors_table",
    "vector_array",
    "vectors_from_column",
    "videos_schema",
]

#: Table names every store holds for one index.
VIDEOS = "videos"
CAPTIONS = "captions"
#: Prefix of the per-encoder caption-vector cache tables (``caption_vectors_<hash>``).
CAPTION_VECTORS_PREFIX = "caption_vectors_"

VIDEO_KEY = "video_id"
CAPTION_KEY = "sen_id"
#: Payload fields a server store indexes for filtering, per table (besides each key column).
PAYLOAD_INDEXES: dict[str, tuple[str, ...]] = {
    VIDEOS: ("category", "split"),
    CAPTIONS: ("video_id",),
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


CAPTIONS_SCHEMA = pa.schema(
    [
        pa.field("sen_id", pa.string(), nullable=False),
        pa.field("video_id", pa.string(), nullable=False),
        pa.field("text", pa.string()),
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
