"""Summaries of ranks: R@K, median and mean rank, breakdowns by group and query length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

LENGTH_BUCKETS = ("1-10", "11-20", "21+")


@dataclass(frozen=True)
class RetrievalMetrics:
    """Recall at K (percent), median and mean rank of one retrieval direction.

    Attributes:
        r1: Percentage of queries with rank <= 1.
        r5: Percentage of queries with rank <= 5.
        r10: Percentage of queries with rank <= 10.
        medr: Median 1-based rank (``np.median``; averages the two middle values).
        meanr: Mean 1-based rank.
        n_queries: Number of queries the figures are over.
        extra_recalls: Recall for any other requested K, e.g. ``{50: 97.1}``.
    """

    r1: float
    r5: float
    r10: float
    medr: float
    meanr: float
    n_queries: int
    extra_recalls: dict[int, float] = field(default_factory=dict)

    def recall(self, k: int) -> float:
        """Return R@k in percent.

        Raises:
            ValueError: If R@k was not computed (pass ``ks`` to :func:`metrics_from_ranks`).
        """
        standard = {1: self.r1, 5: self.r5, 10: self.r10}
        if k in standard:
            return standard[k]
        if k in self.extra_recalls:
            return self.extra_recalls[k]
        raise ValueError(
            f"R@{k} was not computed; available: {sorted([1, 5, 10, *self.extra_recalls])}"
        )

    def to_dict(self) -> dict[str, float | int]:
        """Flat, JSON-friendly dict: ``r1, r5, r10, r<K>..., medr, meanr, n_queries``."""
        out: dict[str, float | int] = {"r1": self.r1, "r5": self.r5, "r10": self.r10}
        for k in sorted(self.extra_recalls):
            out[f"r{k}"] = self.extra_recalls[k]
        out.update(medr=self.medr, meanr=self.meanr, n_queries=self.n_queries)
        return out


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int] = (1, 5, 10)) -> RetrievalMetrics:
    """Summarise 1-based ranks (possibly fractional under average ties) as R@K, MedR, MeanR.

    Args:
        ranks: 1-D array of ranks, one per query, each >= 1.
        ks: Recall cut-offs. R@1, R@5 and R@10 are always computed; others go to
            ``extra_recalls``.

    Raises:
        ValueError: On empty, non-1-D, non-finite or < 1 ranks, or a K < 1.
    """
    r = np.asarray(ranks, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"ranks must be 1-D, got shape {r.shape}")
    if r.size == 0:
        raise ValueError("ranks is empty: no queries to compute metrics over")
    if not np.isfinite(r).all():
        raise ValueError("ranks contain NaN or inf")
    if r.min() < 1:
        raise ValueError(f"ranks are 1-based; got a rank of {r.min()}")
    ks = _check_ks(ks)

    def pct(k: int) -> float:
        return float(np.count_nonzero(r <= k) * 100.0 / r.size)

    extra = {k: pct(k) for k in ks if k not in (1, 5, 10)}
    return RetrievalMetrics(
        r1=pct(1),
        r5=pct(5),
        r10=pct(10),
        medr=float(np.median(r)),
        meanr=float(r.mean()),
        n_queries=int(r.size),
        extra_recalls=extra,
    )


def breakdown(
    ranks: np.ndarray, groups: Sequence | np.ndarray, ks: Sequence[int] = (1, 5, 10)
) -> dict[object, RetrievalMetrics]:
    """Metrics per group (e.g. category or query-length bucket of each query).

    Args:
        ranks: 1-D ranks, one per query.
        groups: One group label per query (same length as ``ranks``).
        ks: Recall cut-offs, as in :func:`metrics_from_ranks`.

    Returns:
        One entry per distinct group value, in sorted order (numpy scalars become Python ones).
    """
    r = np.asarray(ranks, dtype=np.float64)
    # Lists become object arrays so mixed labels are not silently turned into strings.
    g = groups if isinstance(groups, np.ndarray) else np.asarray(list(groups), dtype=object)
    if g.ndim != 1 or r.ndim != 1 or len(g) != len(r):
        raise ValueError(
            f"groups must be 1-D with one label per rank: got groups shape {g.shape}, "
            f"ranks shape {r.shape}"
        )
    try:
        keys, inverse = np.unique(g, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"group labels must be mutually sortable: {exc}") from exc
    inverse = inverse.reshape(-1)
    return {key: metrics_from_ranks(r[inverse == i], ks) for i, key in enumerate(keys.tolist())}


def query_length_bucket(text: str) -> str:
    """Bucket a query by its number of whitespace-separated words: ``1-10``, ``11-20``, ``21+``.

    An empty query counts as 0 words and lands in ``1-10``.
    """
    if not isinstance(text, str):
        raise ValueError(f"query must be a str, got {type(text).__name__}")
    n = len(text.split())
    return LENGTH_BUCKETS[0] if n <= 10 else LENGTH_BUCKETS[1] if n <= 20 else LENGTH_BUCKETS[2]


def _check_ks(ks: Sequence[int]) -> tuple[int, ...]:
    out = []
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"recall cut-offs must be positive ints, got {k!r}")
        out.append(int(k))
    return tuple(out)
