"""Reliability, training defaults (issue 11, "Also"): the defaults adapt to the data size.

800 training pairs at batch 256 make 4 optimiser steps an epoch; the old fixed defaults (12
epochs, 100 warm-up steps) never left warm-up and a planted linear map reached ~7% held-out
R@1. ``bench/small_data_train.py`` measures the same through ``vtrsearch train``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vtrsearch.eval.metrics import evaluate
from vtrsearch.heads import load_head
from vtrsearch.trainer import TrainConfig, train_head


def _planted(n: int = 1000, n_test: int = 200, seed: int = 0):
    """One caption per video; video = normalize(A caption + small noise), A: 64 -> 48."""
    rng = np.random.default_rng(seed)
    caps = rng.standard_normal((n, 64))
    video = caps @ rng.standard_normal((64, 48)) / 8 + 0.02 * rng.standard_normal((n, 48))
    caps /= np.linalg.norm(caps, axis=1, keepdims=True)
    video /= np.linalg.norm(video, axis=1, keepdims=True)
    split = np.array(["train"] * (n - n_test) + ["test"] * n_test)
    return caps.astype(np.float32), np.arange(n), video.astype(np.float32), split


def test_default_training_learns_a_planted_map_from_800_pairs(tmp_path):
    """With every training option left at its default, 800 pairs (720 after the validation
    hold-out) are enough to learn a linear map: held-out R@1 >= 90% (old defaults: ~7%)."""
    caps, cap_video, video, split = _planted()
    result = train_head(caps, cap_video, video, split, tmp_path / "head", progress=False)
    test = np.flatnonzero(split == "test")
    head = load_head(result.path)
    metrics = evaluate(
        head.project(caps[test]), video[test], np.arange(test.size), directions=("t2v",)
    )["t2v"]
    assert metrics.r1 >= 90.0, metrics
    training = head.config.training
    assert training["epochs"] * 3 >= 300  # 720 pairs / 256 = 3 steps an epoch
    assert training["warmup_steps"] < training["epochs"] * 3 / 2


def test_defaults_resolve_from_the_steps_an_epoch_makes():
    """Small data: more epochs (>= 300 steps) and a warm-up of 10% of the steps; large data
    (MSR-VTT 9k: 703 steps an epoch) keeps 12 epochs and 100 warm-up steps."""
    small = TrainConfig().resolved(3)
    assert (small.epochs, small.warmup_steps) == (100, 30)
    large = TrainConfig().resolved(703)
    assert (large.epochs, large.warmup_steps) == (12, 100)
    given = TrainConfig(epochs=50, warmup_steps=7).resolved(3)
    assert (given.epochs, given.warmup_steps) == (50, 7)


def test_too_few_steps_are_warned_about():
    """Epochs given by the user that make fewer than min_steps steps: a clear warning."""
    from vtrsearch.trainer import FewStepsWarning

    with pytest.warns(FewStepsWarning, match=r"only 36 optimiser steps \(3 per epoch x 12"):
        TrainConfig(epochs=12).resolved(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TrainConfig(epochs=12).resolved(703)
