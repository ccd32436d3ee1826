"""Validation metrics for the trainer: the head's query vectors ranked by ``vtrsearch.eval``.

The ranks, R@K and MedR are those of :mod:`vtrsearch.eval.metrics` (one implementation for
evaluation and training); this module only projects the queries in chunks with torch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from vtrsearch.eval.metrics import metrics_from_ranks, retrieval_ranks

__all__ = ["retrieval_metrics"]

_NAN = float("nan")
_EMPTY = {"r1": _NAN, "r5": _NAN, "r10": _NAN, "medr": _NAN, "meanr": _NAN, "n_queries": 0}


@torch.no_grad()
def _queries(
    text: torch.Tensor, chunk: int, encode: Callable[[torch.Tensor], torch.Tensor] | None
) -> np.ndarray:
    """``encode`` applied to ``text`` chunk by chunk, as float32 numpy rows on the CPU."""
    parts = [
        (encode(text[s : s + chunk]) if encode else text[s : s + chunk]).float().cpu().numpy()
        for s in range(0, text.shape[0], chunk)
    ]
    return np.concatenate(parts) if parts else np.empty((0, 0), dtype=np.float32)


def retrieval_metrics(
    text: torch.Tensor,
    videos: torch.Tensor,
    positive: torch.Tensor,
    chunk: int = 4096,
    encode: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, float]:
    """Text-to-video retrieval metrics, ranking each query over all ``videos``.

    Ties count half (``ties="average"``): ``rank = 1 + #higher + #tied / 2``.

    Args:
        text: ``(n, D)`` query features (or raw inputs when ``encode`` is given).
        videos: ``(V, D)`` gallery features.
        positive: ``(n,)`` index of each query's video in ``videos``.
        chunk: Queries per step (bounded memory), for the projection and the ranking.
        encode: Optional function applied to each chunk of ``text`` first (e.g. the head).

    Returns:
        ``r1``, ``r5``, ``r10`` (percent), ``medr``, ``meanr`` and ``n_queries`` (NaN figures
        and 0 queries without any query).

    Raises:
        ValueError: the (projected) queries contain NaN or inf, i.e. training diverged.
    """
    if text.shape[0] == 0:
        return dict(_EMPTY)
    q = _queries(text, chunk, encode)
    if not np.isfinite(q).all():
        raise ValueError(
            "validation queries contain NaN or inf: training diverged (try a lower learning "
            "rate, or fp32 instead of mixed precision)"
        )
    ranks = retrieval_ranks(
        q,
        videos.detach().float().cpu().numpy(),
        positive.detach().cpu().numpy(),
        ties="average",
        directions=("t2v",),
        chunk_size=chunk,
    )["t2v"]
    return metrics_from_ranks(ranks).to_dict()
