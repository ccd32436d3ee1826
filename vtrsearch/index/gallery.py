"""Exact in-memory search over an index's video vectors.

At MSR-VTT scale the store is the record, not the hot path: the whole gallery fits in memory as
one normalised float32 matrix, a matrix-vector product plus ``argpartition`` answers a query in a
few milliseconds, and a filter is the (cached) set of rows it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NoSegmentsError

if TYPE_CHECKING:
    from .segment_block import SegmentBlock

POOLS = ("mean", "max")


@dataclass
class Gallery:
    """The gallery: ids, vectors and the columns filters need, row-aligned."""

    ids: np.ndarray  # object array of str
    vectors: np.ndarray  # (n, d) float32, C-contiguous, L2-normalised
    category: np.ndarray  # (n,) int32
    split: np.ndarray  # (n,) object array of str
    segments: SegmentBlock | None = None  # the videos' segments, when the index has any

    def __post_init__(self) -> None:
        self._row = {vid: i for i, vid in enumerate(self.ids.tolist())}
        self._rows_cache: dict[tuple, np.ndarray] = {}
        self._split_counts: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, video_id: str) -> int | None:
        """Row of ``video_id`` or ``None``."""
        return self._row.get(video_id)

    def split_counts(self) -> dict[str, int]:
        """Split name -> number of rows (cached)."""
        if self._split_counts is None:
            values, counts = np.unique(self.split.astype(str), return_counts=True)
            self._split_counts = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
        return self._split_counts

    def split_rows(self, split: str | None) -> np.ndarray:
        """Sorted row numbers of the videos in ``split`` (every row when ``None``)."""
        if split is None:
            return np.arange(len(self))
        rows = self.rows(None, frozenset([split]))
        return np.arange(len(self)) if rows is None else rows

    def rows(
        self, categories: frozenset[int] | None = None, splits: frozenset[str] | None = None
    ) -> np.ndarray | None:
        """Sorted row numbers passing the filters (cached), or ``None`` when unfiltered."""
        if categories is None and splits is None:
            return None
        key = (categories, splits)
        cached = self._rows_cache.get(key)
        if cached is not None:
            return cached
        mask = np.ones(len(self), dtype=bool)
        if categories is not None:
            mask &= np.isin(self.category, np.fromiter(categories, dtype=np.int64))
        if splits is not None:
            mask &= np.isin(self.split, np.array(sorted(splits), dtype=object))
        rows = np.flatnonzero(mask)
        if len(self._rows_cache) >= 256:
            self._rows_cache.clear()
        self._rows_cache[key] = rows
        return rows

    def require_segments(self) -> SegmentBlock:
        """The segment block; :class:`NoSegmentsError` when the index has no segments."""
        if self.segments is None or len(self.segments) == 0:
            raise NoSegmentsError(
                "this index has no segments: MaxSim pooling and moment search need per-segment "
                "vectors (ingest frame-level features or `vtrsearch ingest frames --segments`)"
            )
        return self.segments

    def top_k(
        self, query: np.ndarray, k: int, rows: np.ndarray | None = None, pool: str = "mean"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``k`` rows for one query vector, among ``rows`` when given.

        ``pool="mean"`` scores each video by its pooled vector; ``"max"`` by its best segment
        (MaxSim; a video without segments by its pooled vector). Ties are broken by row order,
        exactly like a stable descending sort, so the result is identical to brute force.

        Returns:
            (rows, scores), best first; fewer than ``k`` when the filter leaves fewer rows.
        """
        if pool == "max":
            scores = self.require_segments().pooled_max(query, rows, self.vectors)
            idx, top = top_k_of_scores(scores, k)
            return (idx if rows is None else rows[idx]), top
        if rows is None:
            return top_k_of_scores(self.vectors @ query, k)
        if len(rows) * 4 < len(self):  # selective filter: only score the rows it keeps
            scores = self.vectors[rows] @ query
        else:
            scores = (self.vectors @ query)[rows]
        idx, top = top_k_of_scores(scores, k)
        return rows[idx], top

    def top_k_many(
        self,
        queries: np.ndarray,
        k: int,
        rows: np.ndarray | None = None,
        chunk: int = 1024,
        pool: str = "mean",
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`top_k` for each row of ``queries`` (one matrix product per chunk)."""
        segments = self.require_segments() if pool == "max" else None
        gallery = self.vectors if rows is None else self.vectors[rows]
        if segments is not None:  # keep a chunk's (queries x segments) block near 256 MB
            chunk = max(1, min(chunk, (1 << 26) // max(1, len(segments))))
        out = []
        for start in range(0, len(queries), chunk):
            part = queries[start : start + chunk]
            if segments is not None:
                block = segments.pooled_max_many(part, rows, self.vectors)
            else:
                block = part @ gallery.T
            for scores in block:
                idx, top = top_k_of_scores(scores, k)
                out.append((idx if rows is None else rows[idx], top))
        return out


def top_k_of_scores(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` indices of a score vector, ties broken by index (stable descending order)."""
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=scores.dtype)
    if k < n:
        part = np.argpartition(scores, n - k)[n - k :]
        kth = scores[part].min()
        # Every row tied with the k-th score is a candidate, so ties resolve by row order.
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(n)
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    rows = candidates[order]
    return rows, scores[rows]
