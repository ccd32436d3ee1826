"""Arrow schemas of the tables an index holds, and helpers to build their rows."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

#: Table names every store holds for one index.
VIDEOS = "videos"
CAPTIONS = "captions"
#: Prefix of the per-encoder caption-vector cache tables (``caption_vectors_<hash>``).
CAPTION_VECTORS_PREFIX = "caption_vectors_"

VIDEO_KEY = "video_id"
CAPTION_KEY = "sen_id"


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


def vector_array(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """A (n, d) float32 matrix as an Arrow fixed-size-list column (no copy when contiguous)."""
    mat = np.ascontiguousarray(vectors, dtype=np.float32)
    if mat.ndim != 2:
        raise ValueError(f"expected a 2-D matrix of vectors, got shape {mat.shape}")
    return pa.FixedSizeListArray.from_arrays(pa.array(mat.reshape(-1)), mat.shape[1])


def vectors_from_column(column: pa.ChunkedArray | pa.Array, dim: int) -> np.ndarray:
    """The float32 (n, dim) matrix held by a fixed-size-list (or list) vector column."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    n = len(column)
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    flat = column.flatten()  # honours the slice offset and length of the column
    values = flat.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return values.reshape(n, dim)
