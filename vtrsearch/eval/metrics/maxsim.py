"""MaxSim pooling for the counting engine: a video's score for a caption is its best segment's.

The similarity source of a chunk of captions is ``chunk @ segments.T`` reduced per video with one
``np.maximum.reduceat`` (segments sorted by video, every video owning at least one row), so no
``n_captions x n_segments`` matrix exists beyond one block. It is counted by the same one-pass
engine as the matrix-product path (:func:`.counting.bracketed_scan`); the v2t reference scores
are bracketed with the same floating-point error bound, taken here over each caption's own
segments: the BLAS value of a segment score and its row-wise estimate differ by at most the
bound, so their maxima over a video's segments (and captions) do too.
"""

from __future__ import annotations

import numpy as np

from .bracket import band_from_estimates, product_error_bound, row_norms
from .counting import ProgressFn, bracketed_scan

BLOCK_BYTES = 1 << 26
"""Size of one (captions x segments) score block: captions per chunk ~ this / n_segments / 4."""
PAIR_BLOCK = 1 << 22
"""Caption-segment pairs (x d floats) gathered at once for the own-score estimates."""


def segment_groups(segment_video: np.ndarray, n_segments: int) -> np.ndarray:
    """First row of each video's run of segments, checking the layout.

    Args:
        segment_video: ``(n_segments,)`` video of each segment row: non-decreasing, starting at
            0, every video ``0 .. n_videos - 1`` owning at least one row.
        n_segments: Rows of the segment matrix.

    Raises:
        ValueError: naming what is wrong with ``segment_video``.
    """
    sv = np.asarray(segment_video)
    if sv.ndim != 1 or sv.shape[0] != n_segments:
        raise ValueError(
            f"segment_video must be 1-D with one entry per segment: expected ({n_segments},), "
            f"got {sv.shape}"
        )
    if n_segments == 0:
        raise ValueError("need at least one segment")
    if not np.issubdtype(sv.dtype, np.integer):
        raise ValueError(f"segment_video must hold integer video rows, got dtype {sv.dtype}")
    step = np.diff(sv)
    if int(sv[0]) != 0 or np.any((step != 0) & (step != 1)):
        bad = 0 if int(sv[0]) != 0 else int(np.flatnonzero((step != 0) & (step != 1))[0]) + 1
        raise ValueError(
            "segment_video must be sorted video rows 0, 1, ... with at least one segment per "
            f"video; row {bad} has video {int(sv[bad])} after "
            + ("nothing" if bad == 0 else f"video {int(sv[bad - 1])}")
        )
    return np.r_[0, np.flatnonzero(step) + 1].astype(np.intp)


def maxsim_scan(
    text: np.ndarray,
    segments: np.ndarray,
    group_start: np.ndarray,
    cv: np.ndarray,
    want_t2v: bool,
    want_v2t: bool,
    chunk_size: int,
    progress: ProgressFn | None,
):
    """Scan the MaxSim scores once (see the module doc); returns ``(scan, v2t reference)``."""
    if text.shape[1] != segments.shape[1]:
        raise ValueError(
            f"text and segment dimensions differ: text is {text.shape}, segments are "
            f"{segments.shape}"
        )
    dtype = np.result_type(text.dtype, segments.dtype)
    text, segments = text.astype(dtype, copy=False), segments.astype(dtype, copy=False)
    n_videos, n_seg = len(group_start), segments.shape[0]
    rows = int(max(1, min(chunk_size, BLOCK_BYTES // (n_seg * dtype.itemsize))))
    buf = np.empty((min(rows, text.shape[0]), n_seg), dtype=dtype)
    seg_t = segments.T

    def source(s: int, e: int) -> np.ndarray:
        block = np.matmul(np.ascontiguousarray(text[s:e]), seg_t, out=buf[: e - s])
        return np.maximum.reduceat(block, group_start, axis=1)

    tnorm, snorm = row_norms(text, "text"), row_norms(segments, "segments")
    check = not float(tnorm.max()) * float(snorm.max()) < np.finfo(dtype).max / 4
    band = None
    bound = product_error_bound(dtype, text.shape[1])
    if want_v2t and not check and bound is not None:
        est, tol = _own_estimates(text, segments, group_start, cv, (tnorm, snorm, *bound))
        band = band_from_estimates(est, tol, cv, n_videos, dtype)
    return bracketed_scan(source, cv, n_videos, rows, progress, want_t2v, want_v2t, band, check)


def own_max_scores(
    text: np.ndarray, segments: np.ndarray, segment_video: np.ndarray, cv: np.ndarray
) -> np.ndarray:
    """Each caption's score against its own video: the max over that video's segments.

    Row-wise dot products (float32 like the inputs); for plots and examples, not for ranks.
    """
    group_start = segment_groups(segment_video, segments.shape[0])
    return _own_estimates(text, segments, group_start, np.asarray(cv, dtype=np.intp), None)[0]


def _own_estimates(
    text: np.ndarray,
    segments: np.ndarray,
    group_start: np.ndarray,
    cv: np.ndarray,
    errors: tuple[np.ndarray, np.ndarray, float, float] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per caption: the max row-wise score over its video's segments, and its error bound
    (from ``errors = (text norms, segment norms, rel, atol)``, zero without it)."""
    n, d = text.shape
    counts = np.diff(np.r_[group_start, segments.shape[0]])
    per = counts[cv]
    cum = np.cumsum(per)
    est = np.empty(n, dtype=np.float64)
    tol = np.zeros(n, dtype=np.float64)
    budget = max(1, PAIR_BLOCK // max(d, 1))
    s = 0
    while s < n:
        base = int(cum[s - 1]) if s else 0
        e = min(n, max(s + 1, int(np.searchsorted(cum, base + budget, side="right"))))
        cnt = per[s:e]
        first = np.cumsum(cnt) - cnt
        rep = np.repeat(np.arange(e - s), cnt)
        seg = np.repeat(group_start[cv[s:e]] - first, cnt) + np.arange(int(cnt.sum()))
        dots = np.einsum("ij,ij->i", text[s:e][rep], segments[seg])
        est[s:e] = np.maximum.reduceat(dots, first)
        if errors is not None:
            tnorm, snorm, rel, atol = errors
            tol[s:e] = np.maximum.reduceat(rel * tnorm[s:e][rep] * snorm[seg], first) + atol
        s = e
    return est, tol
