"""Public ranking API: ranks and metrics from embeddings or from a full similarity matrix.

See :mod:`vtrsearch.eval.metrics` for the conventions (directions, ties) and
:mod:`vtrsearch.eval.metrics.counting` for the one-pass counting engine behind these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .bracket import check_finite_rows
from .counting import ProgressFn, assemble, default_scan, exact_ref, scan_chunks
from .maxsim import maxsim_scan, segment_groups
from .summary import RetrievalMetrics, metrics_from_ranks

TIES = ("average", "optimistic", "pessimistic")
DIRECTIONS = ("t2v", "v2t")

SimilarityFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def retrieval_ranks(
    text: np.ndarray,
    video: np.ndarray,
    caption_video: np.ndarray,
    *,
    ties: str = "average",
    directions: Sequence[str] = DIRECTIONS,
    chunk_size: int = 4096,
    similarity_fn: SimilarityFn | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, np.ndarray]:
    """Rank of every query in both directions, without materialising the similarity matrix.

    Args:
        text: ``(n_captions, d)`` caption embeddings.
        video: ``(n_videos, d)`` video embeddings.
        caption_video: ``(n_captions,)`` int index of each caption's video in ``video``.
        ties: One of :data:`TIES`.
        directions: Any of ``"t2v"``, ``"v2t"``.
        chunk_size: Caption rows per similarity chunk (memory ~ ``chunk_size * n_videos * 4`` B).
        similarity_fn: Optional ``(text_chunk, video) -> (len(text_chunk), n_videos)`` scores, to
            plug in re-scoring; default is ``text_chunk @ video.T``. With a custom function the
            v2t direction needs a second pass over the chunks (its reference scores come from
            the function itself), so it must be deterministic.
        progress: Optional ``callable(done_rows, total_rows)`` called after each chunk. A second
            pass (custom ``similarity_fn`` with v2t, or a rare fallback) counts again from 0.

    Returns:
        ``"t2v"``: float64 rank per caption. ``"v2t"``: float64 rank per video that has captions,
        ``"v2t_video_index"``: those videos' rows, ``"v2t_excluded"``: rows of videos without
        captions (a warning says how many). Keys only for the requested directions.

    Raises:
        ValueError: On bad shapes, indices, options, or NaN/inf in inputs or similarities.
    """
    ties, dirs, chunk_size = _check_options(ties, directions, chunk_size)
    text = _as_matrix(text, "text")
    video = _as_matrix(video, "video")
    cv = _check_caption_video(caption_video, text.shape[0], video.shape[0])
    want_t2v, want_v2t = "t2v" in dirs, "v2t" in dirs
    if similarity_fn is None:
        scan, ref = default_scan(text, video, cv, want_t2v, want_v2t, chunk_size, progress)
    else:
        check_finite_rows(text, "text")
        check_finite_rows(video, "video")

        def source(s: int, e: int) -> np.ndarray:
            return _as_chunk(
                similarity_fn(text[s:e], video), e - s, video.shape[0], "similarity_fn"
            )

        scan = scan_chunks(
            source, cv, video.shape[0], chunk_size, progress, t2v=want_t2v, check=True
        )
        ref = None
        if want_v2t:
            ref = exact_ref(scan.gt, cv, video.shape[0])
            scan.v2t = scan_chunks(
                source, cv, video.shape[0], chunk_size, progress, exact_ref=ref, check=True
            ).v2t
    return assemble(scan, ref, cv, video.shape[0], ties, want_t2v, want_v2t)


def maxsim_ranks(
    text: np.ndarray,
    segments: np.ndarray,
    segment_video: np.ndarray,
    caption_video: np.ndarray,
    *,
    ties: str = "average",
    directions: Sequence[str] = DIRECTIONS,
    chunk_size: int = 4096,
    progress: ProgressFn | None = None,
) -> dict[str, np.ndarray]:
    """:func:`retrieval_ranks` under MaxSim pooling: a video scores its best segment.

    The similarity of caption ``i`` and video ``v`` is ``max(text[i] @ segments[j])`` over
    the rows ``j`` of ``v``; both directions rank by it (v2t: a caption against a video's best
    segment). Exact and chunked: one ``np.maximum.reduceat`` per block of captions x
    segments (~64 MB), counted in one pass like the matrix-product path.

    Args:
        text: ``(n_captions, d)`` caption embeddings.
        segments: ``(n_segments, d)`` segment embeddings, grouped by video.
        segment_video: ``(n_segments,)`` video row of each segment: sorted, ``0 ..
            n_videos - 1``, each video at least one row (give a video without segments its
            pooled vector as its one row, as serving does).
        caption_video: ``(n_captions,)`` video row of each caption.
        ties, directions, chunk_size, progress: As in :func:`retrieval_ranks`.

    Returns:
        The keys of :func:`retrieval_ranks`.
    """
    ties, dirs, chunk_size = _check_options(ties, directions, chunk_size)
    text = _as_matrix(text, "text")
    segments = _as_matrix(segments, "segments")
    group_start = segment_groups(segment_video, segments.shape[0])
    n_videos = len(group_start)
    cv = _check_caption_video(caption_video, text.shape[0], n_videos)
    want_t2v, want_v2t = "t2v" in dirs, "v2t" in dirs
    scan, ref = maxsim_scan(
        text, segments, group_start, cv, want_t2v, want_v2t, chunk_size, progress
    )
    return assemble(scan, ref, cv, n_videos, ties, want_t2v, want_v2t)


def evaluate(
    text: np.ndarray,
    video: np.ndarray,
    caption_video: np.ndarray,
    *,
    ties: str = "average",
    directions: Sequence[str] = DIRECTIONS,
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = 4096,
) -> dict[str, RetrievalMetrics]:
    """Metrics per direction for embeddings; see :func:`retrieval_ranks` for the arguments."""
    ranks = retrieval_ranks(
        text, video, caption_video, ties=ties, directions=directions, chunk_size=chunk_size
    )
    return {d: metrics_from_ranks(ranks[d], ks) for d in DIRECTIONS if d in ranks}


def similarity_ranks(
    sim: np.ndarray,
    caption_video: np.ndarray,
    *,
    ties: str = "average",
    directions: Sequence[str] = DIRECTIONS,
    chunk_size: int = 4096,
    v2t_sim: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Ranks from a given full ``(n_captions, n_videos)`` similarity matrix.

    t2v ranks come from the rows of ``sim`` and v2t ranks from the columns of ``v2t_sim`` (default
    ``sim``). Transductive re-ranking differs per direction: for Dual Softmax pass
    ``dual_softmax(sim)`` as ``sim`` and ``dual_softmax(sim.T).T`` as ``v2t_sim`` (the prior is
    always taken over the *query* axis; see :func:`vtrsearch.eval.rerank.dual_softmax_ranks`).
    Counting is done in row chunks; nothing beyond a chunk is copied.

    Returns:
        Same keys as :func:`retrieval_ranks`.
    """
    ties, dirs, chunk_size = _check_options(ties, directions, chunk_size)
    sim = _as_full_sim(sim, "sim")
    n_captions, n_videos = sim.shape
    cv = _check_caption_video(caption_video, n_captions, n_videos)
    want_t2v, want_v2t = "t2v" in dirs, "v2t" in dirs
    vsim = sim if v2t_sim is None else _as_full_sim(v2t_sim, "v2t_sim")
    if vsim.shape != sim.shape:
        raise ValueError(f"v2t_sim must have shape {sim.shape} like sim, got {vsim.shape}")
    ref = None
    if want_v2t:
        ref = exact_ref(vsim[np.arange(n_captions), cv], cv, n_videos)
    shared = want_v2t and vsim is sim
    scan = None
    if want_t2v or shared:
        scan = scan_chunks(
            _matrix_source(sim),
            cv,
            n_videos,
            chunk_size,
            None,
            t2v=want_t2v,
            exact_ref=ref if shared else None,
            check=True,
        )
    if want_v2t and not shared:
        v2t = scan_chunks(
            _matrix_source(vsim), cv, n_videos, chunk_size, None, exact_ref=ref, check=True
        )
        if scan is None:
            scan = v2t
        else:
            scan.v2t = v2t.v2t
    return assemble(scan, ref, cv, n_videos, ties, want_t2v, want_v2t)


def evaluate_similarity(
    sim: np.ndarray,
    caption_video: np.ndarray,
    *,
    ties: str = "average",
    directions: Sequence[str] = DIRECTIONS,
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = 4096,
    v2t_sim: np.ndarray | None = None,
) -> dict[str, RetrievalMetrics]:
    """Metrics from a full similarity matrix; see :func:`similarity_ranks` for the arguments."""
    ranks = similarity_ranks(
        sim,
        caption_video,
        ties=ties,
        directions=directions,
        chunk_size=chunk_size,
        v2t_sim=v2t_sim,
    )
    return {d: metrics_from_ranks(ranks[d], ks) for d in DIRECTIONS if d in ranks}


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _check_options(
    ties: str, directions: Sequence[str], chunk_size: int
) -> tuple[str, tuple[str, ...], int]:
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    if isinstance(directions, str):
        directions = (directions,)
    dirs = tuple(directions)
    bad = [d for d in dirs if d not in DIRECTIONS]
    if bad or not dirs:
        raise ValueError(f"directions must be a non-empty subset of {DIRECTIONS}, got {dirs!r}")
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int | np.integer)
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    return ties, dirs, int(chunk_size)


def _as_matrix(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, d), got shape {a.shape}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)
    return a


def _as_full_sim(x: np.ndarray, name: str) -> np.ndarray:
    a = _as_matrix(x, name)
    if 0 in a.shape:
        raise ValueError(f"{name} must be non-empty, got shape {a.shape}")
    return a


def _check_caption_video(caption_video: np.ndarray, n_captions: int, n_videos: int) -> np.ndarray:
    cv = np.asarray(caption_video)
    if cv.ndim != 1 or cv.shape[0] != n_captions:
        raise ValueError(
            f"caption_video must be 1-D with one entry per caption: expected ({n_captions},), "
            f"got {cv.shape}"
        )
    if n_captions == 0 or n_videos == 0:
        raise ValueError(f"need at least one caption and one video, got {n_captions}, {n_videos}")
    if not np.issubdtype(cv.dtype, np.integer):
        raise ValueError(f"caption_video must hold integer video rows, got dtype {cv.dtype}")
    lo, hi = int(cv.min()), int(cv.max())
    if lo < 0 or hi >= n_videos:
        raise ValueError(f"caption_video values must be in [0, {n_videos}), got [{lo}, {hi}]")
    return cv.astype(np.intp, copy=False)


def _as_chunk(s: np.ndarray, n_rows: int, n_videos: int, name: str) -> np.ndarray:
    a = np.asarray(s)
    if a.shape != (n_rows, n_videos):
        raise ValueError(f"{name} must return shape {(n_rows, n_videos)}, got {a.shape}")
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return np.ascontiguousarray(a)


def _matrix_source(m: np.ndarray) -> Callable[[int, int], np.ndarray]:
    return lambda s, e: np.ascontiguousarray(m[s:e])
