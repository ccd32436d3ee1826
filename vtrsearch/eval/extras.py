"""Re-ranked ranks (Dual Softmax, QB-Norm) and the serving-path check of an evaluation.

Helpers of :func:`vtrsearch.eval.evaluate_index`; every function works on unit query
vectors ``q`` ``(n_captions, d)``, the gallery ``g`` ``(n_videos, d)`` and ``cv``, the gallery
row of each caption's video.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .metrics import retrieval_ranks, similarity_ranks
from .rerank.rescore import QueryBankNorm, dual_softmax

if TYPE_CHECKING:
    from ..index.index import Index

DSL_MAX_BYTES = 16 << 30
"""Refuse Dual Softmax when its full matrices would need more memory than this."""

QB_BETA = 20.0
QB_K = 1


def dsl_ranks(
    q: np.ndarray,
    g: np.ndarray,
    cv: np.ndarray,
    *,
    ties: str,
    directions: Sequence[str],
    temperature: float = 100.0,
) -> dict[str, np.ndarray]:
    """Ranks after Dual Softmax over the whole split (transductive).

    Builds the full ``(n_captions, n_videos)`` similarity matrix plus one re-scored copy per
    direction: about ``3 * n_captions * n_videos * 4`` bytes (1.9 GB for 60k x 2.7k).

    Raises:
        ValueError: when that estimate exceeds :data:`DSL_MAX_BYTES`.
    """
    need = 3 * q.shape[0] * g.shape[0] * 4
    if need > DSL_MAX_BYTES:
        raise ValueError(
            f"Dual Softmax needs the full {q.shape[0]} x {g.shape[0]} similarity matrix "
            f"(~{need / 2**30:.1f} GiB with its re-scored copies); evaluate a smaller split"
        )
    sim = q @ g.T
    t2v = dual_softmax(sim, temperature) if "t2v" in directions else None
    v2t = dual_softmax(sim.T, temperature).T if "v2t" in directions else None
    del sim
    main = t2v if t2v is not None else v2t
    return similarity_ranks(main, cv, ties=ties, directions=directions, v2t_sim=v2t)


def qbnorm_ranks(
    q: np.ndarray,
    g: np.ndarray,
    cv: np.ndarray,
    bank_text: np.ndarray,
    bank_video: np.ndarray,
    *,
    ties: str,
    directions: Sequence[str],
    beta: float = QB_BETA,
    k: int = QB_K,
) -> dict[str, np.ndarray]:
    """Ranks after QB-Norm (dynamic inverted softmax), chunked like plain evaluation.

    t2v: the bank is ``bank_text`` (captions of the bank split's videos) querying the gallery.
    v2t: the bank is ``bank_video`` (the bank split's videos) querying the evaluated captions;
    each test video's scores are normalised when its top-1 caption is in the activation set.
    """
    out: dict[str, np.ndarray] = {}
    if "t2v" in directions:
        qb = QueryBankNorm(bank_text, g, beta=beta, k=k)
        out.update(
            retrieval_ranks(q, g, cv, ties=ties, directions=("t2v",), similarity_fn=qb.similarity)
        )
    if "v2t" in directions:
        qbv = QueryBankNorm(bank_video, q, beta=beta, k=k)
        top_caption = np.empty(g.shape[0], dtype=np.int64)
        for s in range(0, g.shape[0], 1024):
            top_caption[s : s + 1024] = np.argmax(g[s : s + 1024] @ q.T, axis=1)
        apply = qbv.activation[top_caption]
        # similarity_fn only sees caption rows, so each caption carries its log-normaliser
        # as an extra column; a video's column is re-scored as a whole (same scale throughout).
        text_aug = np.hstack([q.astype(np.float64), qbv.log_normalizer[:, None]])
        video_aug = np.hstack([g.astype(np.float64), np.zeros((g.shape[0], 1))])

        def rescore(t: np.ndarray, v: np.ndarray) -> np.ndarray:
            s = t[:, :-1] @ v[:, :-1].T
            return np.where(apply[None, :], np.exp(beta * s - t[:, -1:]), s)

        out.update(
            retrieval_ranks(
                text_aug, video_aug, cv, ties=ties, directions=("v2t",), similarity_fn=rescore
            )
        )
    return out


def _positions(hits_per_query: Sequence[Sequence[Any]], gt_ids: Sequence[str]) -> np.ndarray:
    """1-based position of each query's ground truth in its hits (inf when absent)."""
    pos = np.full(len(gt_ids), np.inf)
    for i, (hits, gid) in enumerate(zip(hits_per_query, gt_ids, strict=True)):
        for h in hits:
            if h.video_id == gid:
                pos[i] = h.rank
                break
    return pos


def _recalls(pos: np.ndarray, ks: Sequence[int]) -> dict[str, float]:
    return {str(k): float(np.count_nonzero(pos <= k) * 100.0 / max(len(pos), 1)) for k in ks}


def via_index_check(
    index: Index,
    q: np.ndarray,
    g: np.ndarray,
    cv: np.ndarray,
    gallery_ids: np.ndarray,
    t2v_ranks: np.ndarray,
    exact_recall: dict[int, float],
    *,
    ks: Sequence[int],
    split: str | None,
    ties: str,
    store_sample: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Run every query through ``Index.search_many`` (and a sample through ``search_store``).

    Returns:
        ``path``, ``n_queries``, ``recall`` and ``exact_recall`` per K (keys are str(K)),
        ``difference`` (serving minus exact, points), ``n_rank_mismatches``, ``n_tied_queries``,
        ``explanation`` (when a difference is not 0), ``seconds`` and ``store_sample``.
    """
    kmax = max(ks)
    gt_ids = gallery_ids[cv].tolist()
    started = time.perf_counter()
    hits = index.search_many(q, k=kmax, split=split)
    seconds = time.perf_counter() - started
    pos = _positions(hits, gt_ids)
    recall = _recalls(pos, ks)
    exact = {str(k): float(exact_recall[k]) for k in ks}
    diff = {k: recall[k] - exact[k] for k in recall}
    inside = pos <= kmax
    mismatch = np.flatnonzero((inside | (t2v_ranks <= kmax)) & (pos != t2v_ranks))
    tied = 0
    for i in mismatch.tolist():
        scores = g @ q[i]
        own = scores[cv[i]]
        tied += int(np.count_nonzero(scores == own) > 1)
    out: dict[str, Any] = {
        "path": "Index.search_many (exact, in memory)",
        "n_queries": int(len(pos)),
        "recall": recall,
        "exact_recall": exact,
        "difference": diff,
        "n_rank_mismatches": int(mismatch.size),
        "n_tied_queries": tied,
        "seconds": round(seconds, 3),
    }
    if any(v != 0 for v in diff.values()):
        if tied:
            out["explanation"] = (
                f"{tied} queries have their ground truth tied with other videos: serving orders "
                f"ties by gallery row, the evaluation counts them with ties={ties!r}"
            )
        else:
            out["explanation"] = (
                "no exact ties: search_many re-normalises the query vectors, which moves "
                "near-equal scores by a rounding step"
            )
    if store_sample > 0:
        top1 = [h[0].video_id if h else None for h in hits]
        out["store_sample"] = _store_sample(
            index, q, gt_ids, pos, top1, ks, split, store_sample, seed
        )
    return out


def _store_sample(
    index: Index,
    q: np.ndarray,
    gt_ids: list[str],
    pos: np.ndarray,
    top1: list[str | None],
    ks: Sequence[int],
    split: str | None,
    n: int,
    seed: int,
) -> dict[str, Any]:
    """A sample of queries through the store's own search engine (ANN where it has one)."""
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(gt_ids), size=min(n, len(gt_ids)), replace=False))
    started = time.perf_counter()
    hits = [index.search_store(q[i], k=max(ks), split=split) for i in sample.tolist()]
    seconds = time.perf_counter() - started
    spos = _positions(hits, [gt_ids[i] for i in sample.tolist()])
    mem = pos[sample]
    recall, in_memory = _recalls(spos, ks), _recalls(mem, ks)
    agree = [bool(h) and h[0].video_id == top1[i] for h, i in zip(hits, sample, strict=True)]
    return {
        "path": f"Index.search_store ({type(index.store).__name__})",
        "n_queries": int(sample.size),
        "recall": recall,
        "in_memory_recall": in_memory,
        "difference": {k: recall[k] - in_memory[k] for k in recall},
        "top1_agreement": float(np.mean(agree) * 100.0) if agree else 0.0,
        "seconds": round(seconds, 3),
        "note": "the store may answer with an approximate index; differences then measure it",
    }
