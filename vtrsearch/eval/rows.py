"""Report rows from ranks: metrics, breakdowns and the raw data the plots need.

Helpers of :func:`vtrsearch.eval.evaluate_index`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .metrics import DIRECTIONS, LENGTH_BUCKETS, breakdown, metrics_from_ranks, query_length_bucket
from .report import EvalRow, QueryExample, RowData

if TYPE_CHECKING:
    from ..heads.io import LoadedHead
    from .inputs import EvalSplit
    from .pooling import SplitSegments

NEGATIVE_SAMPLE = 100_000
"""Caption x other-video similarities kept for the histograms."""
N_EXAMPLES = 4
"""Success and failure example queries kept per row."""


def metrics_row(
    label: str,
    spec: str,
    head: LoadedHead | None,
    ranks: dict[str, np.ndarray],
    data: EvalSplit,
    ks: Sequence[int],
    rerank: str | None = None,
    *,
    pool: str = "mean",
) -> EvalRow:
    """A row with overall, per-category (when the index has categories) and (t2v)
    per-query-length metrics of ``ranks``."""
    metrics, per_cat, per_len = {}, {}, {}
    names = np.asarray(data.category_names, dtype=object)
    for d in DIRECTIONS:
        if d not in ranks:
            continue
        metrics[d] = metrics_from_ranks(ranks[d], ks)
        if not data.categorised:
            continue
        rows = data.cv if d == "t2v" else ranks["v2t_video_index"]
        groups = breakdown(ranks[d], data.category[rows], ks)
        order = sorted(groups)
        per_cat[d] = {names[np.flatnonzero(data.category == c)[0]]: groups[c] for c in order}
    if "t2v" in ranks:
        buckets = breakdown(ranks["t2v"], [query_length_bucket(t) for t in data.texts], ks)
        per_len = {b: buckets[b] for b in LENGTH_BUCKETS if b in buckets}
    return EvalRow(
        label=label,
        encoder=spec,
        head=None if head is None else str(head.path),
        metrics=metrics,
        per_category=per_cat,
        per_length=per_len,
        rerank=rerank,
        pool=pool,
    )


def row_data(
    q: np.ndarray,
    data: EvalSplit,
    t2v: np.ndarray | None,
    rng: np.random.Generator,
    segments: SplitSegments | None = None,
    pool: str = "mean",
) -> RowData:
    """Positive similarities, a bounded sample of negatives, and example queries.

    Scores are the row's: pooled vectors (``"mean"``) or best segments (``"max"``, from
    ``segments``). With ``segments`` every example names the best moment of its videos.
    """
    g, cv = data.vectors, data.cv
    n, m = len(q), len(g)
    if pool == "max":
        from .metrics.maxsim import own_max_scores

        positive = own_max_scores(q, segments.vectors, segments.video_row, cv)
        scores = segments.scores
    else:
        positive = np.einsum("ij,ij->i", q, g[cv])

        def scores(block: np.ndarray) -> np.ndarray:
            return block @ g.T

    n_rows = int(min(n, max(1, -(-NEGATIVE_SAMPLE // max(m - 1, 1)))))
    rows = np.sort(rng.choice(n, size=n_rows, replace=False))
    block = scores(q[rows])
    own = np.zeros_like(block, dtype=bool)
    own[np.arange(n_rows), cv[rows]] = True
    negative = block[~own]
    if negative.size > NEGATIVE_SAMPLE:
        negative = rng.choice(negative, size=NEGATIVE_SAMPLE, replace=False)
    examples: dict[str, list[QueryExample]] = {}
    if t2v is not None:
        fail_cut = 5 if np.any(t2v > 5) else 1
        for kind, pool in (
            ("success", np.flatnonzero(t2v <= 1)),
            ("failure", np.flatnonzero(t2v > fail_cut)),
        ):
            picks = np.sort(rng.choice(pool, size=min(N_EXAMPLES, pool.size), replace=False))
            examples[kind] = [
                _example(int(i), q, data, float(t2v[i]), scores, segments) for i in picks.tolist()
            ]
    return RowData(t2v, positive.astype(np.float32), negative.astype(np.float32), examples)


def _example(
    i: int,
    q: np.ndarray,
    data: EvalSplit,
    rank: float,
    scores: Callable[[np.ndarray], np.ndarray],
    segments: SplitSegments | None,
) -> QueryExample:
    from ..index.gallery import top_k_of_scores

    row_scores = scores(q[i : i + 1])[0]
    top, top_scores = top_k_of_scores(row_scores, 5)
    gt = int(data.cv[i])
    moments = {}
    if segments is not None:
        for r in [gt, *top.tolist()]:
            best = segments.best(q[i], r)
            if best is not None:
                moments[str(data.ids[r])] = best
    return QueryExample(
        query=i,
        text=data.texts[i],
        video_id=str(data.ids[gt]),
        category=data.category_names[gt],
        rank=rank,
        score=float(row_scores[gt]),
        top=[
            (str(data.ids[r]), float(s), data.category_names[r])
            for r, s in zip(top.tolist(), top_scores.tolist(), strict=True)
        ],
        moments=moments,
    )
