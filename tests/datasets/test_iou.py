"""Temporal IoU and moment-retrieval metrics, checked on cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from vtrsearch.eval.metrics.iou import moment_metrics, temporal_iou


def test_hand_computed_iou() -> None:
    # [2, 6] vs [4, 10]: overlap 4..6 = 2 s, span 2..10 = 8 s -> 0.25
    assert temporal_iou([2.0, 6.0], [4.0, 10.0]) == pytest.approx(0.25)
    # inside: [3, 4] in [0, 8] -> 1/8; identical -> 1; touching or disjoint -> 0
    got = temporal_iou([[3, 4], [0, 8], [8, 9], [20, 30]], [0, 8])
    assert got.tolist() == [0.125, 1.0, 0.0, 0.0]
    # ActivityNet-like: gt 12.5..37.5, prediction 10..20 -> overlap 7.5 / span 27.5
    assert temporal_iou([10.0, 20.0], [12.5, 37.5]) == pytest.approx(7.5 / 27.5)
    assert temporal_iou([5.0, 5.0], [5.0, 5.0]) == 0.0  # empty moments: no IoU


def test_bad_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="start <= end"):
        temporal_iou([5.0, 4.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="axis of 2"):
        temporal_iou([1.0, 2.0, 3.0], [0.0, 1.0])


def test_hand_computed_recalls_and_miou() -> None:
    # 4 queries, top-3 predictions each (IoU; 0 = other video or none)
    ious = np.array(
        [
            [0.80, 0.10, 0.00],  # hit at 1 for 0.3/0.5/0.7
            [0.00, 0.55, 0.20],  # hit at 2 for 0.3/0.5
            [0.35, 0.00, 0.72],  # hit at 1 for 0.3, at 3 for 0.7
            [0.00, 0.00, 0.00],  # never
        ]
    )
    m = moment_metrics(ious, ks=(1, 3), thresholds=(0.3, 0.5, 0.7))
    assert m.at(1, 0.3) == 50.0 and m.at(1, 0.5) == 25.0 and m.at(1, 0.7) == 25.0
    assert m.at(3, 0.3) == 75.0 and m.at(3, 0.5) == 75.0 and m.at(3, 0.7) == 50.0
    assert m.miou == pytest.approx((0.80 + 0.0 + 0.35 + 0.0) / 4 * 100)
    assert m.to_dict()["r3_iou0.7"] == 50.0 and m.n_queries == 4
    with pytest.raises(KeyError, match="R@5, IoU=0.3 was not computed"):
        m.at(5, 0.3)


def test_rounding_at_the_threshold_counts_as_reached() -> None:
    # segments from linspace(0, 100, 21) and a 10 s moment: IoU 0.5 up to rounding
    edges = np.linspace(0.0, 100.0, 21)
    iou = float(temporal_iou([edges[3], edges[4]], [edges[3], edges[5]]))
    assert iou == pytest.approx(0.5)
    assert moment_metrics(np.array([[iou]]), ks=(1,)).at(1, 0.5) == 100.0


@pytest.mark.parametrize(
    ("ious", "kw", "message"),
    [
        (np.zeros((0, 5)), {}, "both > 0"),
        (np.full((2, 5), 1.5), {}, r"in \[0, 1\]"),
        (np.zeros((2, 3)), {"ks": (5,)}, r"cut-off 5 must be an int in \[1, 3\]"),
        (np.zeros((2, 5)), {"thresholds": (0.0,)}, r"threshold 0.0 must be in \(0, 1\]"),
    ],
)
def test_bad_metric_inputs(ious, kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        moment_metrics(ious, **kw)
