"""The segments of an index in memory: one contiguous matrix with a row -> video map.

Segments are sorted by their video's gallery row, then by start time, so the segments of one
video are one contiguous run. MaxSim pooling (a video's score is its best segment's) is then a
matrix-vector product and one ``np.maximum.reduceat``; no per-video Python objects exist.
Ties are broken by segment row (video row, then start), like a stable descending sort.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compact import CompactVectors, rescored
from .gallery import top_k_of_scores


def _as_compact(vectors: np.ndarray | CompactVectors) -> CompactVectors:
    return vectors if isinstance(vectors, CompactVectors) else CompactVectors(vectors)


@dataclass
class SegmentBlock:
    """Segment vectors and their columns, row-aligned, grouped by video row."""

    vectors: np.ndarray  # (n, d) float32, unit rows (maybe a read-only memory map)
    video_row: np.ndarray  # (n,) int64, non-decreasing: the gallery row of each segment's video
    segment: np.ndarray  # (n,) int32: stored segment number
    start: np.ndarray  # (n,) float64 seconds
    end: np.ndarray  # (n,) float64 seconds
    n_videos: int
    compact: CompactVectors | None = None  # the scoring matrix (default: ``vectors`` as is)
    group_start: np.ndarray = field(init=False)  # first segment row of each video with segments
    group_video: np.ndarray = field(init=False)  # the video row of each group

    def __post_init__(self) -> None:
        if self.compact is None:
            self.compact = CompactVectors(self.vectors)
        n = len(self.video_row)
        if n:
            change = np.flatnonzero(np.diff(self.video_row)) + 1
            self.group_start = np.concatenate(([0], change)).astype(np.int64)
        else:
            self.group_start = np.zeros(0, dtype=np.int64)
        self.group_video = self.video_row[self.group_start]
        self._has = np.zeros(self.n_videos, dtype=bool)
        self._has[self.group_video] = True

    def __len__(self) -> int:
        return len(self.video_row)

    @property
    def videos_with_segments(self) -> np.ndarray:
        """Bool mask over gallery rows: which videos have at least one segment."""
        return self._has

    def rows_of_video(self, video_row: int) -> slice:
        """The segment rows of one video (an empty slice when it has none)."""
        lo = np.searchsorted(self.video_row, video_row, side="left")
        hi = np.searchsorted(self.video_row, video_row, side="right")
        return slice(int(lo), int(hi))

    def _segment_mask(self, video_rows: np.ndarray | None) -> np.ndarray | None:
        if video_rows is None:
            return None
        keep = np.zeros(self.n_videos, dtype=bool)
        keep[video_rows] = True
        return keep[self.video_row]

    # pooling ---------------------------------------------------------------------------------
    def max_scores(self, scores: np.ndarray) -> np.ndarray:
        """Per-group maximum of segment ``scores`` (one value per video with segments)."""
        if len(scores) == 0:
            return np.zeros(0, dtype=scores.dtype)
        return np.maximum.reduceat(scores, self.group_start)

    def best_in_video(self, query: np.ndarray, video_row: int) -> int | None:
        """Segment row of ``video_row``'s best segment for ``query`` (first on ties)."""
        rows = self.rows_of_video(video_row)
        if rows.start == rows.stop:
            return None
        return rows.start + int(np.argmax(self.vectors[rows] @ query))

    def pooled_max(
        self,
        query: np.ndarray,
        video_rows: np.ndarray | None,
        video_vectors: np.ndarray | CompactVectors,
        approx: bool = False,
    ) -> np.ndarray:
        """MaxSim video scores: each video's best segment score (its pooled vector's score when
        it has no segments), for ``video_rows`` (all videos when ``None``), in that order.

        ``approx=True`` scores on the compact matrices (see :mod:`.compact`), else in float32.
        """
        videos = _as_compact(video_vectors)
        assert self.compact is not None
        score = self.compact.scores if approx else self.compact.exact_scores
        n_rows = self.n_videos if video_rows is None else len(video_rows)
        selective = video_rows is not None and n_rows * 4 < self.n_videos
        if selective:
            seg_rows = np.flatnonzero(self._segment_mask(video_rows))
            seg_scores = score(query, seg_rows)
            groups = self.video_row[seg_rows]
        else:
            seg_scores = score(query)
            groups = self.video_row
        out = np.full(self.n_videos, -np.inf, dtype=np.float32)
        if len(seg_scores):
            starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
            out[groups[starts]] = np.maximum.reduceat(seg_scores, starts)
        wanted = np.arange(self.n_videos) if video_rows is None else video_rows
        bare = wanted[~self._has[wanted]]
        if len(bare):
            out[bare] = (videos.scores if approx else videos.exact_scores)(query, bare)
        return out if video_rows is None else out[video_rows]

    def pooled_max_many(
        self,
        queries: np.ndarray,
        video_rows: np.ndarray | None,
        video_vectors: np.ndarray | CompactVectors,
        approx: bool = False,
    ) -> np.ndarray:
        """:meth:`pooled_max` for a (q, d) block of queries: a (q, n_rows) score matrix."""
        videos = _as_compact(video_vectors)
        assert self.compact is not None
        out = np.full((len(queries), self.n_videos), -np.inf, dtype=np.float32)
        if len(self):
            if approx:
                block = self.compact.scores_many(queries)
            else:
                block = queries @ self.vectors.T
            out[:, self.group_video] = np.maximum.reduceat(block, self.group_start, axis=1)
        bare = np.flatnonzero(~self._has)
        if len(bare):
            if approx:
                out[:, bare] = videos.scores_many(queries, bare)
            else:
                out[:, bare] = queries @ videos.exact_rows(bare).T
        return out if video_rows is None else out[:, video_rows]

    # moments ---------------------------------------------------------------------------------
    def top_moments(
        self, query: np.ndarray, k: int, per_video: int, video_rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best segment rows with at most ``per_video`` from one video (exact).

        Returns:
            (segment rows, scores), best first.
        """
        assert self.compact is not None
        compact = self.compact
        mask = self._segment_mask(video_rows)
        if mask is None:
            candidates = None
            scores = compact.scores(query)
        else:
            candidates = np.flatnonzero(mask)
            if len(candidates) * 4 < len(self):
                scores = compact.scores(query, candidates)
            else:
                scores = compact.scores(query)[candidates]
        if compact.is_exact:
            return _limited_top_k(scores, candidates, self.video_row, k, per_video)

        def rows_of(cand: np.ndarray) -> np.ndarray:
            return cand if candidates is None else candidates[cand]

        def select(exact: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return _limited_top_k(exact, rows_of(cand), self.video_row, k, per_video)

        def exact(cand: np.ndarray) -> np.ndarray:
            return compact.exact_scores(query, rows_of(cand))

        return rescored(scores, compact.bound(query), exact, select, k)


def _limited_top_k(
    scores: np.ndarray,
    candidates: np.ndarray | None,
    video_row: np.ndarray,
    k: int,
    per_video: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Walk segments best-first, keeping at most ``per_video`` per video, until ``k`` are kept.

    The walk looks at the top ``m`` segments and widens ``m`` (x4) only when too many of them
    belong to videos already full, so the answer is exact and usually costs one partition.
    """
    n = len(scores)
    k = min(int(k), n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    m = min(n, k * max(1, per_video) if per_video > 1 else k)
    while True:
        idx, top = top_k_of_scores(scores, m)
        rows = idx if candidates is None else candidates[idx]
        if per_video <= 0:
            return rows[:k], top[:k]
        videos = video_row[rows]
        # rank of each segment among those of its own video, in walk order
        order = np.argsort(videos, kind="stable")
        sorted_videos = videos[order]
        first = np.r_[0, np.flatnonzero(np.diff(sorted_videos)) + 1]
        run = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
        within = np.empty(len(order), dtype=np.int64)
        within[order] = run
        kept = np.flatnonzero(within < per_video)
        if len(kept) >= k or m == n:
            kept = kept[:k]
            return rows[kept], top[kept]
        m = min(n, m * 4)
