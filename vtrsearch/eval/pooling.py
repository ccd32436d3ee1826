"""Pooling of an evaluation: ``"mean"`` ranks videos by their pooled vector, ``"max"`` by their
best segment (MaxSim), as ``Index.search(pool=...)`` does.

:func:`load_segments` lays out the split's segments for :func:`.metrics.maxsim_ranks`: grouped
by gallery row, each video without segments represented by its pooled vector (serving scores it
that way too). :class:`SplitSegments` also names the best segment of a video for a query, for
the example figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NoSegmentsError

if TYPE_CHECKING:
    from ..index.index import Index
    from .inputs import EvalSplit

POOLS = ("mean", "max")
"""Pooling modes, in report order."""


def check_pools(pools: Sequence[str] | str) -> tuple[str, ...]:
    """Pools (a list or ``"mean,max"``), checked and put in report order.

    Raises:
        ValueError: naming the bad pool.
    """
    if isinstance(pools, str):
        pools = [p.strip() for p in pools.split(",") if p.strip()]
    bad = [p for p in pools if p not in POOLS]
    out = tuple(p for p in POOLS if p in pools)
    if bad or not out:
        raise ValueError(f"pools must be among {POOLS}, got {list(pools)!r}")
    return out


def pool_label(label: str, pool: str, pools: Sequence[str]) -> str:
    """Row label of ``label`` pooled with ``pool``: unchanged for a mean-only evaluation, else
    suffixed, e.g. ``"baseline [max]"``."""
    return label if tuple(pools) == ("mean",) else f"{label} [{pool}]"


def require_segments(index: Index) -> None:
    """Raise :class:`NoSegmentsError` when ``index`` has no segments (``--pool max``)."""
    if not index.has_segments():
        raise _no_segments(index)


def _no_segments(index: Index) -> NoSegmentsError:
    return NoSegmentsError(
        f"index {index.uri} has no segments: --pool max (MaxSim) needs per-segment vectors "
        "(ingest frame-level features, or `vtrsearch ingest frames --segments ...`); "
        "evaluate with --pool mean"
    )


@dataclass
class SplitSegments:
    """The segments of a split's videos, grouped by gallery row (MaxSim's input).

    Attributes:
        vectors: ``(n, d)`` float32 segment vectors; a video without segments has one row, its
            pooled vector.
        video_row: ``(n,)`` gallery row of each segment row, sorted.
        segment: ``(n,)`` stored segment number (-1: a pooled-vector row).
        start: ``(n,)`` seconds (NaN for pooled-vector rows).
        end: ``(n,)`` seconds (NaN for pooled-vector rows).
        n_segments: Stored segments of the split.
        n_bare: Videos of the split without segments.
    """

    vectors: np.ndarray
    video_row: np.ndarray
    segment: np.ndarray
    start: np.ndarray
    end: np.ndarray
    n_segments: int
    n_bare: int

    def __post_init__(self) -> None:
        n_videos = int(self.video_row[-1]) + 1 if len(self.video_row) else 0
        self._bounds = np.searchsorted(self.video_row, np.arange(n_videos + 1))

    def best(self, query: np.ndarray, video_row: int) -> tuple[int, float, float] | None:
        """``(segment, start, end)`` of ``video_row``'s best segment for ``query``, if any."""
        lo, hi = self._bounds[video_row], self._bounds[video_row + 1]
        if hi <= lo or self.segment[lo] < 0:
            return None
        r = lo + int(np.argmax(self.vectors[lo:hi] @ query))
        return int(self.segment[r]), float(self.start[r]), float(self.end[r])

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """``(len(queries), n_videos)`` MaxSim scores."""
        block = queries @ self.vectors.T
        return np.maximum.reduceat(block, self._bounds[:-1], axis=1)


def load_segments(
    index: Index, data: EvalSplit, split: str | None, required: bool
) -> SplitSegments | None:
    """The segments of ``data``'s videos (the videos of ``split``), laid out for MaxSim.

    Returns:
        ``None`` when no video of the split has segments and they are not ``required``.

    Raises:
        NoSegmentsError: ``required`` and no video of the split has segments.
    """
    m = index.gallery()
    block = m.segments
    if block is None or len(block) == 0:
        if required:
            raise _no_segments(index)
        return None
    rows = m.split_rows(split)
    keep = np.isin(block.video_row, rows)
    if not keep.any():
        if not required:
            return None
        raise NoSegmentsError(
            f"no video of split {split!r} has segments: --pool max (MaxSim) needs "
            "per-segment vectors; evaluate with --pool mean"
        )
    seg_rows = np.flatnonzero(keep)
    split_row = np.searchsorted(rows, block.video_row[seg_rows])
    has = np.zeros(len(rows), dtype=bool)
    has[split_row] = True
    bare = np.flatnonzero(~has)
    order = np.argsort(np.r_[split_row, bare], kind="stable")
    nan = np.full(len(bare), np.nan)
    vectors = np.concatenate([block.vectors[seg_rows], data.vectors[bare]])
    return SplitSegments(
        vectors=np.ascontiguousarray(vectors[order]),
        video_row=np.r_[split_row, bare][order].astype(np.intp),
        segment=np.r_[block.segment[seg_rows].astype(np.int64), np.full(len(bare), -1)][order],
        start=np.r_[block.start[seg_rows], nan][order],
        end=np.r_[block.end[seg_rows], nan][order],
        n_segments=int(len(seg_rows)),
        n_bare=int(len(bare)),
    )
