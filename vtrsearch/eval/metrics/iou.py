"""Moment-retrieval metrics: temporal IoU, R@n at IoU >= m, and mean IoU.

Conventions (those of the moment-retrieval literature, e.g. TALL/CTRL, 2D-TAN, Moment-DETR):

* The temporal IoU of a predicted moment ``[s, e]`` and the ground truth ``[gs, ge]`` is
  ``max(0, min(e, ge) - max(s, gs)) / (max(e, ge) - min(s, gs))`` (intersection over the
  span of both; 0 for disjoint moments). A prediction in another video than the ground
  truth's has IoU 0.
* **R@n, IoU=m**: the percentage of queries for which at least one of the top ``n``
  predictions has IoU ``>= m`` (up to :data:`IOU_SLACK`). A query with fewer than ``n``
  predictions counts the ones it has.
* **mIoU**: the mean, over queries, of the IoU of the top-1 prediction (0 without one).

Pure numpy; nothing here knows about indexes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: IoU thresholds reported by default (0.3 / 0.5 / 0.7).
IOU_THRESHOLDS = (0.3, 0.5, 0.7)
#: Recall cut-offs reported by default (R@1, R@5).
MOMENT_KS = (1, 5)
#: Rounding slack of the ``>=`` test: segment edges like ``linspace(0, 100, 21)`` make an IoU
#: of exactly 0.5 come out as 0.49999999999999994.
IOU_SLACK = 1e-9


def temporal_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of predicted moments with ground-truth moments (broadcasting on leading axes).

    Args:
        pred: ``(..., 2)`` start/end of predictions.
        gt: ``(..., 2)`` start/end of the ground truth, broadcastable against ``pred``.

    Returns:
        ``(...)`` IoU in ``[0, 1]``.

    Raises:
        ValueError: the last axis is not 2, or a moment has ``end < start`` or is not finite.
    """
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    for name, a in (("pred", p), ("gt", g)):
        if a.shape[-1:] != (2,):
            raise ValueError(f"{name} must end in an axis of 2 (start, end), got {a.shape}")
        if not np.isfinite(a).all() or (a[..., 1] < a[..., 0]).any():
            raise ValueError(f"{name} moments must be finite with start <= end")
    inter = np.minimum(p[..., 1], g[..., 1]) - np.maximum(p[..., 0], g[..., 0])
    union = np.maximum(p[..., 1], g[..., 1]) - np.minimum(p[..., 0], g[..., 0])
    inter = np.clip(inter, 0.0, None)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass(frozen=True)
class MomentMetrics:
    """R@n at IoU >= m and mean IoU of one set of moment queries.

    Attributes:
        recall: ``(n, m)`` -> percentage of queries with a top-``n`` prediction of IoU >= m.
        miou: Mean top-1 IoU, in percent.
        n_queries: Number of queries.
    """

    recall: dict[tuple[int, float], float]
    miou: float
    n_queries: int

    def at(self, n: int, m: float) -> float:
        """R@n, IoU=m in percent (``KeyError`` naming the computed pairs when absent)."""
        try:
            return self.recall[(int(n), float(m))]
        except KeyError:
            raise KeyError(f"R@{n}, IoU={m} was not computed; have {sorted(self.recall)}") from None

    def to_dict(self) -> dict[str, float | int]:
        """``{"r1_iou0.3": ..., ..., "miou": ..., "n_queries": ...}`` (JSON-friendly)."""
        out: dict[str, float | int] = {
            f"r{n}_iou{m:g}": v for (n, m), v in sorted(self.recall.items())
        }
        out.update(miou=self.miou, n_queries=self.n_queries)
        return out


def moment_metrics(
    ious: np.ndarray,
    ks: Sequence[int] = MOMENT_KS,
    thresholds: Sequence[float] = IOU_THRESHOLDS,
) -> MomentMetrics:
    """R@n at IoU >= m and mean top-1 IoU from ranked IoUs.

    Args:
        ious: ``(n_queries, K)``: IoU of each query's predictions, best first; 0 where a query
            has fewer than ``K`` predictions or a prediction is in another video.
        ks: Recall cut-offs ``n`` (each ``<= K``).
        thresholds: IoU thresholds ``m`` in ``(0, 1]``.

    Raises:
        ValueError: empty input, IoUs outside ``[0, 1]``, a cut-off above ``K`` or a bad
            threshold.
    """
    a = np.asarray(ious, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"ious must be (n_queries, K) with both > 0, got shape {a.shape}")
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise ValueError("ious must be in [0, 1]")
    recall: dict[tuple[int, float], float] = {}
    for n in ks:
        if isinstance(n, bool) or int(n) != n or not 1 <= int(n) <= a.shape[1]:
            raise ValueError(f"cut-off {n!r} must be an int in [1, {a.shape[1]}]")
        best = a[:, : int(n)].max(axis=1)
        for m in thresholds:
            if not 0 < float(m) <= 1:
                raise ValueError(f"IoU threshold {m!r} must be in (0, 1]")
            hits = np.count_nonzero(best >= float(m) - IOU_SLACK)
            recall[(int(n), float(m))] = float(hits * 100.0 / len(a))
    return MomentMetrics(recall=recall, miou=float(a[:, 0].mean() * 100.0), n_queries=len(a))
