"""The one-pass chunked counting engine behind :mod:`vtrsearch.eval.metrics.ranks`.

Each chunk of the similarity matrix is counted against per-row (t2v) and per-column (v2t)
thresholds; no argsort and no full ``n_captions x n_videos`` matrix is built. For the default
matrix-product path the v2t reference scores are bracketed by a rigorous floating-point error
bound, the few scores inside the bracket are kept and resolved exactly at the end (with an exact
second pass as the fallback). See :mod:`vtrsearch.eval.metrics` for the conventions.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .bracket import matmul_band, row_norms

ProgressFn = Callable[[int, int], object]

_BAND_CAP = 1 << 23  # v2t scores kept for exact resolution before falling back to a second pass
_BLOCK_BYTES = 1 << 18  # rows per counting block ~ this / n_videos: keeps a block in L2 cache
_MAX_THREADS = 8


def _n_threads() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(_MAX_THREADS, n))


# --------------------------------------------------------------------------------------------
# The chunked counting pass
# --------------------------------------------------------------------------------------------


@dataclass
class _V2TCounts:
    """Per-video counts of non-own captions, relative to the thresholds used in the pass."""

    above: np.ndarray  # count(S > hi)
    at_or_above: np.ndarray | None  # exact mode: count(S >= lo) with lo == hi == ref
    band_cols: np.ndarray | None  # band mode: columns of scores in [lo, hi]
    band_vals: np.ndarray | None  # band mode: those scores
    overflow: bool = False  # band mode: too many band scores; result unusable


@dataclass
class _Scan:
    gt: np.ndarray  # score of each caption's own video (dtype of the chunks)
    t2v_higher: np.ndarray | None
    t2v_tied: np.ndarray | None  # other videos tied with the own one
    v2t: _V2TCounts | None
    n_checked_chunks: int = 0


class _Worker:
    """Scratch buffers and accumulators of one counting thread."""

    def __init__(self, block_rows: int, n_videos: int, band_cap: int) -> None:
        self.b1 = np.empty((block_rows, n_videos), dtype=bool)
        self.b2 = np.empty((block_rows, n_videos), dtype=bool)
        self.above = np.zeros(n_videos, dtype=np.int64)
        self.at_or_above = np.zeros(n_videos, dtype=np.int64)
        self.band_cols: list[np.ndarray] = []
        self.band_vals: list[np.ndarray] = []
        self.band_n = 0
        self.band_cap = band_cap
        self.overflow = False


def scan_chunks(
    source: Callable[[int, int], np.ndarray],
    cv: np.ndarray,
    n_videos: int,
    chunk_size: int,
    progress: ProgressFn | None,
    *,
    t2v: bool = False,
    exact_ref: np.ndarray | None = None,
    band: tuple[np.ndarray, np.ndarray] | None = None,
    check: bool = False,
) -> _Scan:
    """One pass over row chunks: t2v counts, own scores and (optionally) v2t column counts.

    v2t counting uses either ``exact_ref`` (the true reference score per video; counts > and
    >=) or ``band = (lo, hi)`` brackets (counts > hi and keeps scores in [lo, hi]).
    """
    n = cv.shape[0]
    lo = hi = None
    if exact_ref is not None:
        lo = hi = exact_ref
    elif band is not None:
        lo, hi = band
    v2t_mode = "exact" if exact_ref is not None else "band" if band is not None else None
    block_rows = int(np.clip(_BLOCK_BYTES // max(n_videos, 1), 8, 1024))
    n_threads = min(_n_threads(), max(1, -(-min(chunk_size, n) // block_rows)))
    workers = [_Worker(block_rows, n_videos, _BAND_CAP // n_threads) for _ in range(n_threads)]
    gt = higher = tied = None
    if t2v:
        higher = np.empty(n, dtype=np.int64)
        tied = np.empty(n, dtype=np.int64)
    row_dtype = np.uint16 if n_videos < 65536 else np.int64
    own_above = np.zeros(n_videos, dtype=np.int64)
    own_at_or_above = np.zeros(n_videos, dtype=np.int64)

    def count_rows(
        w: _Worker, s_chunk: np.ndarray, g: np.ndarray, c: np.ndarray, base: int
    ) -> None:
        for r0 in range(0, s_chunk.shape[0], block_rows):
            r1 = min(r0 + block_rows, s_chunk.shape[0])
            blk, gb = s_chunk[r0:r1], g[r0:r1]
            b1, b2 = w.b1[: r1 - r0], w.b2[: r1 - r0]
            if t2v:
                np.greater(blk, gb[:, None], out=b1)
                higher[base + r0 : base + r1] = b1.view(np.uint8).sum(axis=1, dtype=row_dtype)
                np.greater_equal(blk, gb[:, None], out=b2)
                ge = b2.view(np.uint8).sum(axis=1, dtype=row_dtype)
                tied[base + r0 : base + r1] = (
                    ge.astype(np.int64) - higher[base + r0 : base + r1] - 1
                )
            if v2t_mode is None:
                continue
            np.greater(blk, hi, out=b1)
            w.above += b1.view(np.uint8).sum(axis=0, dtype=np.uint16)
            np.greater_equal(blk, lo, out=b2)
            if v2t_mode == "exact":
                w.at_or_above += b2.view(np.uint8).sum(axis=0, dtype=np.uint16)
            elif not w.overflow:
                np.not_equal(b1, b2, out=b2)  # b1 is a subset of b2: this is lo <= S <= hi
                _keep_band(w, blk, b2, c[r0:r1], n_videos)

    pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
    try:
        for s in range(0, n, chunk_size):
            e = min(s + chunk_size, n)
            chunk = source(s, e)
            if check and not np.isfinite(chunk).all():
                raise ValueError(f"similarities contain NaN or inf (caption rows {s}..{e - 1})")
            c = cv[s:e]
            g = chunk[np.arange(e - s), c]
            if gt is None:
                gt = np.empty(n, dtype=chunk.dtype)
            gt[s:e] = g
            parts = np.linspace(0, e - s, n_threads + 1).astype(int)
            jobs = [
                (w, chunk[a:b], g[a:b], c[a:b], s + a)
                for w, a, b in zip(workers, parts[:-1], parts[1:], strict=True)
                if b > a
            ]
            if pool is None:
                for job in jobs:
                    count_rows(*job)
            else:
                for fut in [pool.submit(count_rows, *job) for job in jobs]:
                    fut.result()
            if v2t_mode is not None:  # own captions never count for their video
                own_above += np.bincount(c[g > hi[c]], minlength=n_videos)
                own_at_or_above += np.bincount(c[g >= lo[c]], minlength=n_videos)
            if progress is not None:
                progress(e, n)
    finally:
        if pool is not None:
            pool.shutdown()
    v2t = None
    if v2t_mode is not None:
        v2t = _merge_workers(workers, v2t_mode, own_above, own_at_or_above)
    return _Scan(gt=gt, t2v_higher=higher, t2v_tied=tied, v2t=v2t)


def _keep_band(w: _Worker, blk: np.ndarray, mask: np.ndarray, c: np.ndarray, n_videos: int) -> None:
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return
    rows, cols = np.divmod(idx, n_videos)
    keep = cols != c[rows]
    idx, cols = idx[keep], cols[keep]
    w.band_n += idx.size
    if w.band_n > w.band_cap:
        w.overflow = True
        w.band_cols.clear()
        w.band_vals.clear()
        return
    w.band_cols.append(cols.astype(np.int32))
    w.band_vals.append(blk.reshape(-1)[idx])


def _merge_workers(
    workers: list[_Worker], mode: str, own_above: np.ndarray, own_at_or_above: np.ndarray
) -> _V2TCounts:
    above = sum(w.above for w in workers) - own_above
    if mode == "exact":
        at_or_above = sum(w.at_or_above for w in workers) - own_at_or_above
        return _V2TCounts(above, at_or_above, None, None)
    if any(w.overflow for w in workers):
        return _V2TCounts(above, None, None, None, overflow=True)
    cols = [a for w in workers for a in w.band_cols]
    vals = [a for w in workers for a in w.band_vals]
    return _V2TCounts(
        above,
        None,
        np.concatenate(cols) if cols else np.empty(0, dtype=np.int32),
        np.concatenate(vals) if vals else np.empty(0),
    )


# --------------------------------------------------------------------------------------------
# Default (matrix product) path
# --------------------------------------------------------------------------------------------


def default_scan(
    text: np.ndarray,
    video: np.ndarray,
    cv: np.ndarray,
    want_t2v: bool,
    want_v2t: bool,
    chunk_size: int,
    progress: ProgressFn | None,
) -> tuple[_Scan, np.ndarray | None]:
    """Scan ``text @ video.T`` once; for v2t bracket the reference scores (see module doc)."""
    if text.shape[1] != video.shape[1]:
        raise ValueError(
            f"text and video dimensions differ: text is {text.shape}, video is {video.shape}"
        )
    dtype = np.result_type(text.dtype, video.dtype)
    text, video = text.astype(dtype, copy=False), video.astype(dtype, copy=False)
    n_videos = video.shape[0]
    buf = np.empty((min(chunk_size, text.shape[0]), n_videos), dtype=dtype)
    video_t = video.T

    def source(s: int, e: int) -> np.ndarray:
        return np.matmul(np.ascontiguousarray(text[s:e]), video_t, out=buf[: e - s])

    tnorm, vnorm = row_norms(text, "text"), row_norms(video, "video")
    # Products cannot overflow when |t| |v| stays well below the dtype's max.
    check = not float(tnorm.max()) * float(vnorm.max()) < np.finfo(dtype).max / 4
    band = None
    if want_v2t and not check:
        band = matmul_band(text, video, cv, tnorm, vnorm, chunk_size)
    return bracketed_scan(
        source, cv, n_videos, chunk_size, progress, want_t2v, want_v2t, band, check
    )


def bracketed_scan(
    source: Callable[[int, int], np.ndarray],
    cv: np.ndarray,
    n_videos: int,
    chunk_size: int,
    progress: ProgressFn | None,
    want_t2v: bool,
    want_v2t: bool,
    band: tuple[np.ndarray, np.ndarray] | None,
    check: bool,
) -> tuple[_Scan, np.ndarray | None]:
    """One pass counting v2t against ``band``; an exact second pass when it missed a reference.

    ``band`` (per-video ``[lo, hi]`` around the max own-caption score, see
    :func:`band_from_estimates`) may be ``None``: v2t then always takes the second pass.
    Returns the scan and the exact v2t reference scores (``None`` without v2t).
    """
    scan = scan_chunks(
        source, cv, n_videos, chunk_size, progress, t2v=want_t2v, band=band, check=check
    )
    if not want_v2t:
        return scan, None
    ref = exact_ref(scan.gt, cv, n_videos)
    has = np.bincount(cv, minlength=n_videos) > 0
    ok = band is not None and not scan.v2t.overflow
    ok = ok and bool(np.all((band[0][has] <= ref[has]) & (ref[has] <= band[1][has])))
    if not ok:  # bracket failed (or was too crowded): exact second pass
        scan.v2t = scan_chunks(
            source, cv, n_videos, chunk_size, progress, exact_ref=ref, check=check
        ).v2t
    return scan, ref


# --------------------------------------------------------------------------------------------
# Turning counts into ranks
# --------------------------------------------------------------------------------------------


def exact_ref(gt: np.ndarray, cv: np.ndarray, n_videos: int) -> np.ndarray:
    """Max own-caption score per video (-inf for videos without captions)."""
    ref = np.full(n_videos, -np.inf, dtype=gt.dtype)
    np.maximum.at(ref, cv, gt)
    return ref


def _tie_term(tied: np.ndarray, ties: str) -> np.ndarray:
    tied = tied.astype(np.float64)
    if ties == "average":
        return tied / 2.0
    if ties == "optimistic":
        return np.zeros_like(tied)
    return tied


def assemble(
    scan: _Scan,
    ref: np.ndarray | None,
    cv: np.ndarray,
    n_videos: int,
    ties: str,
    want_t2v: bool,
    want_v2t: bool,
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if want_t2v:
        out["t2v"] = 1.0 + scan.t2v_higher + _tie_term(scan.t2v_tied, ties)
    if not want_v2t:
        return out
    v = scan.v2t
    if v.at_or_above is not None:  # exact mode
        higher, tied = v.above, v.at_or_above - v.above
    else:  # band mode: resolve the kept scores against the exact references
        r = ref[v.band_cols]
        higher = v.above + np.bincount(v.band_cols[v.band_vals > r], minlength=n_videos)
        tied = np.bincount(v.band_cols[v.band_vals == r], minlength=n_videos)
    has = np.bincount(cv, minlength=n_videos) > 0
    index = np.flatnonzero(has)
    out["v2t"] = (1.0 + higher + _tie_term(tied, ties))[index]
    out["v2t_video_index"] = index
    out["v2t_excluded"] = np.flatnonzero(~has)
    if out["v2t_excluded"].size:
        warnings.warn(
            f"{out['v2t_excluded'].size} of {n_videos} videos have no captions; "
            "they are excluded from video-to-text ranks",
            stacklevel=3,
        )
    return out
