"""Building the in-memory :class:`~.gallery.Gallery` from the store's tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..stores import VectorStore
from .gallery import Gallery
from .schema import SEGMENTS, VIDEOS, vectors_from_column
from .segment_block import SegmentBlock


def table_versions(store: VectorStore) -> tuple[Any, Any]:
    """Versions of the videos and segments tables (``None`` for an absent segments table)."""
    segments = store.version(SEGMENTS) if store.has_table(SEGMENTS) else None
    return store.version(VIDEOS), segments


def load_gallery(store: VectorStore, dim: int) -> Gallery:
    """Read the videos (and their segments, when the index has any) into one gallery."""
    rows = store.scan(VIDEOS, columns=["video_id", "category", "split", "vector"])
    ids = rows["video_id"].combine_chunks()
    gallery = Gallery(
        ids=np.array(ids.to_pylist(), dtype=object),
        vectors=np.ascontiguousarray(vectors_from_column(rows["vector"], dim)),
        category=rows["category"].to_numpy(zero_copy_only=False).astype(np.int32),
        split=np.array([s or "" for s in rows["split"].to_pylist()], dtype=object),
    )
    if store.has_table(SEGMENTS):
        columns = ["video_id", "segment", "start", "end", "vector"]
        gallery.segments = segment_block(store.scan(SEGMENTS, columns=columns), ids, dim)
    return gallery


def segment_block(table: pa.Table, video_ids: pa.Array, dim: int) -> SegmentBlock:
    """Segments sorted by their video's gallery row, then start; orphans (no video) dropped."""
    found = pc.index_in(table["video_id"], value_set=video_ids).fill_null(-1)
    video_row = found.to_numpy(zero_copy_only=False).astype(np.int64)
    keep = np.flatnonzero(video_row >= 0)
    start = table["start"].to_numpy(zero_copy_only=False)[keep]
    order = keep[np.lexsort((start, video_row[keep]))]
    vectors = vectors_from_column(table["vector"], dim)
    return SegmentBlock(
        vectors=np.ascontiguousarray(vectors[order]),
        video_row=video_row[order],
        segment=table["segment"].to_numpy(zero_copy_only=False)[order].astype(np.int32),
        start=table["start"].to_numpy(zero_copy_only=False)[order].astype(np.float64),
        end=table["end"].to_numpy(zero_copy_only=False)[order].astype(np.float64),
        n_videos=len(video_ids),
    )
