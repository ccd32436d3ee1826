"""Exact in-memory search over an index's video vectors.

At MSR-VTT scale the store is the record, not the hot path: the whole gallery fits in memory as
one normalised float32 matrix, a matrix-vector product plus ``argpartition`` answers a query in a
few milliseconds, and a filter is the (cached) set of rows it keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..errors import NoSegmentsError
from .compact import CompactVectors, kth_largest, rescored

if TYPE_CHECKING:
    from .segment_block import SegmentBlock

POOLS = ("mean", "max")


class Gallery:
    """The gallery: ids, vectors and the columns filters need, row-aligned.

    ``vectors`` are the float32 vectors (a read-only memory map when the gallery comes from
    the on-disk cache, see :mod:`.gallery_cache`); searches score ``compact`` (the same vectors
    as float16/int8 for ``precision`` other than float32, see :mod:`.compact`) and re-score the
    candidates from ``vectors``. ``ids`` and ``split`` may be given as Arrow arrays / split
    codes: they become Python objects only when first asked for (1M strings take ~1 s).
    """

    def __init__(
        self,
        ids: np.ndarray | pa.Array,
        vectors: np.ndarray,
        category: np.ndarray,
        split: np.ndarray | None = None,
        segments: SegmentBlock | None = None,
        *,
        compact: CompactVectors | None = None,
        split_codes: np.ndarray | None = None,
        split_names: list[str] | None = None,
    ):
        self._ids = ids
        self.vectors = vectors  # (n, d) float32, L2-normalised (maybe memory-mapped)
        self.category = category  # (n,) int32
        if split is None and (split_codes is None or split_names is None):
            raise ValueError("Gallery needs split values or split codes with their names")
        self._split = split
        self._split_codes = split_codes
        self._split_names = split_names
        self.segments = segments  # the videos' segments, when the index has any
        self.compact = compact if compact is not None else CompactVectors(vectors)
        self._row: dict[str, int] | None = None
        self._rows_cache: dict[tuple, np.ndarray] = {}
        self._split_counts: dict[str, int] | None = None

    @property
    def ids(self) -> np.ndarray:
        """Video ids, an object array of str (built on first use)."""
        if not isinstance(self._ids, np.ndarray):
            self._ids = np.array(self._ids.to_pylist(), dtype=object)
        return self._ids

    def id_at(self, row: int) -> str:
        """The id of one row, without turning every id into a Python string."""
        if isinstance(self._ids, np.ndarray):
            return str(self._ids[row])
        if isinstance(self._ids, pa.ChunkedArray):
            self._ids = self._ids.combine_chunks()
        return str(self._ids[int(row)].as_py())

    @property
    def split(self) -> np.ndarray:
        """Split of each row, an object array of str ("" for none; built on first use)."""
        if self._split is None:
            names = np.array(self._split_names, dtype=object)
            self._split = names[self._split_codes]
        return self._split

    @property
    def precision(self) -> str:
        """The precision searches score in: ``float32``, ``float16`` or ``int8``."""
        return self.compact.precision

    def exact_rows(self, rows: np.ndarray) -> np.ndarray:
        """The float32 vectors of ``rows`` (a copy; a memory map reads only their pages)."""
        return self.compact.exact_rows(rows)

    def __len__(self) -> int:
        return len(self._ids)  # an Arrow column or the object array: no strings made

    def row(self, video_id: str) -> int | None:
        """Row of ``video_id`` or ``None`` (the id -> row map is built on the first call)."""
        if self._row is None:
            self._row = {vid: i for i, vid in enumerate(self.ids.tolist())}
        return self._row.get(video_id)

    def split_counts(self) -> dict[str, int]:
        """Split name -> number of rows (cached)."""
        if self._split_counts is None:
            if self._split is None:
                counts = np.bincount(self._split_codes, minlength=len(self._split_names))
                pairs = [(n, int(c)) for n, c in zip(self._split_names, counts, strict=True) if c]
                self._split_counts = dict(sorted(pairs))
            else:
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
        if splits is not None and self._split is None:
            wanted = [i for i, name in enumerate(self._split_names) if name in splits]
            mask &= np.isin(self._split_codes, np.array(wanted, dtype=np.int64))
        elif splits is not None:
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
        With a compact precision the candidates are re-scored in float32 (:mod:`.compact`).

        Returns:
            (rows, scores), best first; fewer than ``k`` when the filter leaves fewer rows.
        """
        return self._top_k_from(query, k, rows, pool, approx=None)

    def _approx_scores(self, query: np.ndarray, rows: np.ndarray | None, pool: str) -> np.ndarray:
        """Scores on the scoring matrices of ``rows`` (every row when ``None``), in that order."""
        if pool == "max":
            return self.require_segments().pooled_max(query, rows, self.compact, approx=True)
        if rows is None:
            return self.compact.scores(query)
        if len(rows) * 4 < len(self):  # selective filter: only score the rows it keeps
            return self.compact.scores(query, rows)
        return self.compact.scores(query)[rows]

    def _exact_scores(self, query: np.ndarray, rows: np.ndarray, pool: str) -> np.ndarray:
        if pool == "max":
            return self.require_segments().pooled_max(query, rows, self.compact, approx=False)
        return self.compact.exact_scores(query, rows)

    def _is_exact(self, pool: str) -> bool:
        if pool == "max":
            return self.compact.is_exact and self.require_segments().compact.is_exact
        return self.compact.is_exact

    def _bound(self, query: np.ndarray, pool: str) -> float:
        bound = self.compact.bound(query)
        if pool == "max":
            bound = max(bound, self.require_segments().compact.bound(query))
        return bound

    def _top_k_from(
        self,
        query: np.ndarray,
        k: int,
        rows: np.ndarray | None,
        pool: str,
        approx: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` given the scoring-matrix scores ``approx`` of ``rows`` (computed if None)."""
        if approx is None:
            approx = self._approx_scores(query, rows, pool)
        if self._is_exact(pool):
            idx, top = top_k_of_scores(approx, k)
            return (idx if rows is None else rows[idx]), top

        def exact(cand: np.ndarray) -> np.ndarray:
            return self._exact_scores(query, cand if rows is None else rows[cand], pool)

        def select(scores: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            idx, top = top_k_of_scores(scores, k)  # cand is sorted: ties stay in row order
            return cand[idx], top

        idx, top = rescored(approx, self._bound(query, pool), exact, select, k)
        return (idx if rows is None else rows[idx]), top

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
        if segments is not None:  # keep a chunk's (queries x segments) block near 256 MB
            chunk = max(1, min(chunk, (1 << 26) // max(1, len(segments))))
        out = []
        for start in range(0, len(queries), chunk):
            part = queries[start : start + chunk]
            if segments is not None:
                block = segments.pooled_max_many(part, rows, self.compact, approx=True)
            else:
                block = self.compact.scores_many(part, rows)
            for query, scores in zip(part, block, strict=True):
                out.append(self._top_k_from(query, k, rows, pool, approx=scores))
        return out


def top_k_of_scores(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` indices of a score vector, ties broken by index (stable descending order)."""
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=scores.dtype)
    if k < n:
        kth = kth_largest(scores, k)
        # Every row tied with the k-th score is a candidate, so ties resolve by row order.
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(n)
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    rows = candidates[order]
    return rows, scores[rows]
