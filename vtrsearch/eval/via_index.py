"""The serving-path check of an evaluation: the same queries through ``Index`` search.

Used by :func:`vtrsearch.eval.evaluate_index` with ``via_index=True``; works on unit query
vectors ``q`` ``(n_captions, d)``, the gallery ``g`` ``(n_videos, d)`` and ``cv``, the gallery
row of each caption's video.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..index.index import Index


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
    pool: str = "mean",
    row_scores: Callable[[np.ndarray], np.ndarray] | None = None,
    mode: str = "exact",
) -> dict[str, Any]:
    """Run every query through ``Index.search_many`` (and a sample through ``search_store``).

    ``pool="max"`` searches with MaxSim (``search_many(pool="max")``); ``row_scores`` then
    gives the evaluated scores of a ``(n, d)`` block of queries (default ``q @ g.T``), to find
    ties. ``mode="ann"`` (or ``"auto"``) searches through the ANN index: the difference is
    then what the approximation costs, and ``ann`` holds its top-K overlap with exact search.
    The store sample only applies to mean pooling (pass ``store_sample=0`` otherwise).

    Returns:
        ``path``, ``n_queries``, ``recall`` and ``exact_recall`` per K (keys are str(K)),
        ``difference`` (serving minus exact, points), ``n_rank_mismatches``, ``n_tied_queries``,
        ``explanation`` (when a difference is not 0), ``seconds`` and ``store_sample``.
    """
    kmax = max(ks)
    gt_ids = gallery_ids[cv].tolist()
    started = time.perf_counter()
    hits = index.search_many(q, k=kmax, split=split, pool=pool, mode=mode)
    seconds = time.perf_counter() - started
    ann = _ann_overlap(index, q, hits, kmax, split, pool, mode, seconds)
    pos = _positions(hits, gt_ids)
    recall = _recalls(pos, ks)
    exact = {str(k): float(exact_recall[k]) for k in ks}
    diff = {k: recall[k] - exact[k] for k in recall}
    inside = pos <= kmax
    mismatch = np.flatnonzero((inside | (t2v_ranks <= kmax)) & (pos != t2v_ranks))
    tied = 0
    for i in mismatch.tolist():
        scores = g @ q[i] if row_scores is None else row_scores(q[i : i + 1])[0]
        own = scores[cv[i]]
        tied += int(np.count_nonzero(scores == own) > 1)
    path = "exact, in memory" if ann is None else f"ANN {ann['kind']}"
    out: dict[str, Any] = {
        "path": f"Index.search_many ({path})" + ("" if pool == "mean" else f", pool={pool}"),
        "n_queries": int(len(pos)),
        "recall": recall,
        "exact_recall": exact,
        "difference": diff,
        "n_rank_mismatches": int(mismatch.size),
        "n_tied_queries": tied,
        "seconds": round(seconds, 3),
    }
    if ann is not None:
        out["ann"] = ann
    if any(v != 0 for v in diff.values()):
        if ann is not None:
            out["explanation"] = (
                f"approximate search ({ann['kind']}): its top-{kmax} holds "
                f"{ann['overlap'] * 100:.1f}% of the exact top-{kmax}; the difference is what "
                "the approximation costs on this data"
            )
        elif tied:
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


def _ann_overlap(
    index: Index,
    q: np.ndarray,
    hits: Sequence[Sequence[Any]],
    kmax: int,
    split: str | None,
    pool: str,
    mode: str,
    seconds: float,
) -> dict[str, Any] | None:
    """Overlap of the ANN top-K with the exact top-K and both timings (``None`` when exact)."""
    if mode == "exact" or pool != "mean":
        return None
    info = index.ann_info()
    if info is None:
        return None
    started = time.perf_counter()
    exact = index.search_many(q, k=kmax, split=split, pool=pool, mode="exact")
    exact_seconds = time.perf_counter() - started
    shared = [
        len({h.video_id for h in a} & {h.video_id for h in b}) / max(1, len(b))
        for a, b in zip(hits, exact, strict=True)
    ]
    return {
        "kind": info["kind"],
        "params": info.get("params", {}),
        "stale": info["stale"],
        "overlap": float(np.mean(shared)) if shared else 1.0,
        "seconds": round(seconds, 3),
        "exact_seconds": round(exact_seconds, 3),
    }


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
        "path": f"Index.search_store ({index.store_name})",
        "n_queries": int(sample.size),
        "recall": recall,
        "in_memory_recall": in_memory,
        "difference": {k: recall[k] - in_memory[k] for k in recall},
        "top1_agreement": float(np.mean(agree) * 100.0) if agree else 0.0,
        "seconds": round(seconds, 3),
        "note": "the store may answer with an approximate index; differences then measure it",
    }
