"""Building the :class:`~.gallery.Gallery` from the store's tables.

:func:`open_gallery` is what :class:`~vtrsearch.Index` calls: the memory-mapped on-disk cache
(:mod:`.gallery_cache`) when the index has a cache folder, else :func:`load_gallery` in RAM.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..stores import VectorStore
from .compact import CompactVectors, resolve_precision
from .gallery import Gallery
from .schema import SEGMENTS, VIDEOS, vectors_from_column
from .segment_block import SegmentBlock

logger = logging.getLogger(__name__)


def table_versions(store: VectorStore) -> tuple[Any, Any]:
    """Versions of the videos and segments tables (``None`` for an absent segments table)."""
    segments = store.version(SEGMENTS) if store.has_table(SEGMENTS) else None
    return store.version(VIDEOS), segments


def gallery_precision(store: VectorStore, dim: int, precision: str) -> str:
    """The concrete precision for ``precision`` (``"auto"`` counts videos and segments)."""
    if precision != "auto":
        return resolve_precision(precision, 0, dim)
    n = store.count(VIDEOS) + (store.count(SEGMENTS) if store.has_table(SEGMENTS) else 0)
    return resolve_precision(precision, n, dim)


def open_gallery(
    store: VectorStore, dim: int, precision: str, cache: Path | None, versions: Any
) -> Gallery:
    """The gallery at ``versions``: memory-mapped from ``cache`` (rebuilt there when stale), or
    in RAM when there is no cache folder or it cannot be written (a warning says why)."""
    precision = gallery_precision(store, dim, precision)
    if cache is not None:
        from .gallery_cache import load_cached

        try:
            return load_cached(store, dim, precision, cache, versions)
        except OSError as exc:
            logger.warning("cannot cache the gallery in %s (%s); loading it into RAM", cache, exc)
    return load_gallery(store, dim, precision)


def load_gallery(store: VectorStore, dim: int, precision: str = "float32") -> Gallery:
    """Read the videos (and their segments, when the index has any) into one gallery in RAM,
    scored in ``precision`` (float32, float16 or int8; the float32 vectors are kept too)."""
    rows = store.scan(VIDEOS, columns=["video_id", "category", "split", "vector"])
    ids = rows["video_id"].combine_chunks()
    vectors = np.ascontiguousarray(vectors_from_column(rows["vector"], dim))
    gallery = Gallery(
        ids=np.array(ids.to_pylist(), dtype=object),
        vectors=vectors,
        category=rows["category"].to_numpy(zero_copy_only=False).astype(np.int32),
        split=np.array([s or "" for s in rows["split"].to_pylist()], dtype=object),
        compact=CompactVectors(vectors, precision),
    )
    if store.has_table(SEGMENTS):
        columns = ["video_id", "segment", "start", "end", "vector"]
        block = segment_block(store.scan(SEGMENTS, columns=columns), ids, dim)
        block.compact = CompactVectors(block.vectors, precision)
        gallery.segments = block
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
