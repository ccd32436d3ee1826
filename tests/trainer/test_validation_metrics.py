"""The trainer's validation metrics are vtrsearch.eval.metrics' (one R@K/MedR implementation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vtrsearch.eval.metrics import evaluate
from vtrsearch.trainer import retrieval_metrics


def test_validation_metrics_equal_the_evaluation_metrics() -> None:
    rng = np.random.default_rng(3)
    # quantised vectors: many exact ties, counted half like evaluate(ties="average")
    text = np.round(rng.standard_normal((301, 6))).astype(np.float32)
    videos = np.round(rng.standard_normal((40, 6))).astype(np.float32)
    positive = rng.integers(0, 40, 301)
    head = torch.nn.Linear(6, 6)
    with torch.no_grad():
        projected = head(torch.from_numpy(text)).numpy()
    got = retrieval_metrics(
        torch.from_numpy(text),
        torch.from_numpy(videos),
        torch.from_numpy(positive),
        chunk=64,
        encode=lambda x: head(x),
    )
    want = evaluate(projected, videos, positive, directions=("t2v",))["t2v"]
    assert got == want.to_dict()
    plain = retrieval_metrics(
        torch.from_numpy(text), torch.from_numpy(videos), torch.from_numpy(positive)
    )
    assert plain == evaluate(text, videos, positive, directions=("t2v",))["t2v"].to_dict()


def test_median_rank_is_the_fields() -> None:
    # two queries ranked 1 and 2: MedR 1.5 (np.median), not torch's lower median 1
    videos = torch.eye(2)
    text = torch.tensor([[1.0, 0.0], [1.0, 0.5]])
    got = retrieval_metrics(text, videos, torch.tensor([0, 1]))
    assert got == {"r1": 50.0, "r5": 100.0, "r10": 100.0, "medr": 1.5, "meanr": 1.5, "n_queries": 2}


def test_no_queries_and_diverged_queries() -> None:
    empty = retrieval_metrics(torch.empty(0, 2), torch.eye(2), torch.empty(0, dtype=torch.long))
    assert empty["n_queries"] == 0 and math.isnan(empty["r1"]) and math.isnan(empty["medr"])
    with pytest.raises(ValueError, match="NaN or inf: training diverged"):
        retrieval_metrics(torch.tensor([[math.nan, 0.0]]), torch.eye(2), torch.tensor([0]))
