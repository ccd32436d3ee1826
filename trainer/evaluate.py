"""Cheap validation metrics for the trainer (vectorised, chunked, no grad)."""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["metrics_from_ranks", "retrieval_metrics", "t2v_ranks"]


@torch.no_grad()
def t2v_ranks(text: torch.Tensor, videos: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """Rank of each query's video among ``videos``; ties count half.

    ``rank = 1 + #higher + #tied / 2`` (``#tied`` excludes the positive itself).

    Args:
        text: ``(n, D)`` query features.
        videos: ``(V, D)`` gallery features.
        positive: ``(n,)`` index of each query's video in ``videos``.

    Returns:
        ``(n,)`` float64 ranks on the CPU.
    """
    scores = text.float() @ videos.float().T
    pos = scores.gather(1, positive[:, None])
    higher = (scores > pos).sum(1)
    tied = (scores == pos).sum(1) - 1
    return (1 + higher + 0.5 * tied).double().cpu()


def metrics_from_ranks(ranks: torch.Tensor) -> dict[str, float]:
    """``r1``, ``r5``, ``r10`` (percent), ``medr``, ``meanr`` and ``n_queries``."""
    n = int(ranks.numel())
    if n == 0:
        nan = float("nan")
        return {"r1": nan, "r5": nan, "r10": nan, "medr": nan, "meanr": nan, "n_queries": 0}
    return {
        "r1": float((ranks <= 1).double().mean() * 100),
        "r5": float((ranks <= 5).double().mean() * 100),
        "r10": float((ranks <= 10).double().mean() * 100),
        "medr": float(ranks.median()),
        "meanr": float(ranks.mean()),
        "n_queries": n,
    }


@torch.no_grad()
def retrieval_metrics(
    text: torch.Tensor,
    videos: torch.Tensor,
    positive: torch.Tensor,
    chunk: int = 4096,
    encode: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, float]:
    """Text-to-video retrieval metrics, ranking each query over all ``videos``.

    Args:
        text: ``(n, D)`` query features (or raw inputs when ``encode`` is given).
        videos: ``(V, D)`` gallery features.
        positive: ``(n,)`` index of each query's video in ``videos``.
        chunk: Queries per step (bounded memory; chunks stay small enough to be reused by
            the allocator instead of freshly page-faulted).
        encode: Optional function applied to each chunk of ``text`` first (e.g. the head).

    Returns:
        See :func:`metrics_from_ranks`.
    """
    ranks = [
        t2v_ranks(
            encode(text[s : s + chunk]) if encode else text[s : s + chunk],
            videos,
            positive[s : s + chunk],
        )
        for s in range(0, text.shape[0], chunk)
    ]
    return metrics_from_ranks(torch.cat(ranks) if ranks else torch.empty(0))
