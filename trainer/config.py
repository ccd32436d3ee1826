"""Configuration and result types of the projection-head trainer."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vtrsearch.heads.config import HeadConfig

__all__ = [
    "DEFAULT_EPOCHS",
    "HARD_NEGATIVE_MODES",
    "MAX_AUTO_WARMUP",
    "FewStepsWarning",
    "TrainConfig",
    "TrainResult",
]

HARD_NEGATIVE_MODES = ("batch", "global", "none")
DEFAULT_EPOCHS = 12
"""Epochs when the data makes enough optimiser steps in them (MSR-VTT 9k: 703 an epoch)."""
MAX_AUTO_WARMUP = 100
"""Largest automatic warm-up (the warm-up of large datasets)."""


class FewStepsWarning(UserWarning):
    """Training makes so few optimiser steps that the head is likely undertrained."""


@dataclass
class TrainConfig:
    """Training hyper-parameters.

    Attributes:
        lr: Peak AdamW learning rate.
        weight_decay: AdamW weight decay (weight matrices only).
        batch_size: Captions per batch (at most one per video).
        epochs: Maximum number of epochs; ``None`` (default): :data:`DEFAULT_EPOCHS`, or more
            when the data is small, so that training makes at least ``min_steps`` optimiser
            steps (see :meth:`resolved`).
        warmup_steps: Linear warm-up steps; ``None`` (default): ``warmup_fraction`` of all
            optimiser steps, at most :data:`MAX_AUTO_WARMUP`.
        warmup_fraction: Share of the optimiser steps spent warming up when ``warmup_steps``
            is ``None``.
        min_steps: Optimiser steps that automatic ``epochs`` reach at least; with ``epochs``
            given and fewer steps than this, training warns (:class:`FewStepsWarning`).
        schedule: ``"cosine"`` (to 0 at the last step) or ``"constant"`` after warm-up.
        seed: Seed of initialisation, shuffling, dropout and the validation hold-out.
        num_hard_negatives: Negatives per caption in the hard-negative term (and mined count).
        hard_negatives: ``"batch"``: the hard-negative term uses each caption's hardest
            in-batch negatives. ``"global"``: additionally, at the end of every epoch each
            training caption's ``num_hard_negatives`` highest-scoring other training videos
            are mined (scored with the caption's projected vector from its latest training
            step, kept in a memory bank, so mining costs no extra forward passes) and appended
            as extra columns to its logits row in the next epoch. Epoch 0 has no mined
            negatives unless the head is residual (then the base vectors are used).
            ``"none"``: plain symmetric InfoNCE.
        hard_weight: Weight of the hard-negative term.
        mining_pool: Global mining scores each caption against the ``mining_pool`` nearest
            training videos (video space, computed once per run) of its own video; ``None``
            scores all training videos (exact, ``O(captions * videos * dim)`` per epoch:
            ~3.3 TFLOP for MSR-VTT 9k, slower than the training steps on CPU).
        mining_dtype: ``"bfloat16"`` or ``"float32"`` memory bank / mining scores.
        temperature: Softmax temperature (initial value when learnable).
        learnable_temperature: Learn the temperature.
        early_stopping_patience: Stop after this many epochs without a better val R@1.
        val_fraction: Held-out fraction of training videos when no validation split exists.
        device: Torch device; ``None`` = CUDA when available, else CPU.
        amp: Autocast (bf16, else fp16 with grad scaling) on CUDA; ignored on CPU.
    """

    lr: float = 1e-4
    weight_decay: float = 0.01
    batch_size: int = 256
    epochs: int | None = None
    warmup_steps: int | None = None
    warmup_fraction: float = 0.1
    min_steps: int = 300
    schedule: str = "cosine"
    seed: int = 0
    num_hard_negatives: int = 8
    hard_negatives: str = "batch"
    hard_weight: float = 1.0
    mining_pool: int | None = 64
    mining_dtype: str = "bfloat16"
    temperature: float = 0.07
    learnable_temperature: bool = False
    early_stopping_patience: int | None = None
    val_fraction: float = 0.1
    device: str | None = None
    amp: bool = True

    def __post_init__(self) -> None:
        if self.hard_negatives not in HARD_NEGATIVE_MODES:
            raise ValueError(f"hard_negatives must be one of {HARD_NEGATIVE_MODES}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError("schedule must be 'cosine' or 'constant'")
        if self.mining_dtype not in ("bfloat16", "float32"):
            raise ValueError("mining_dtype must be 'bfloat16' or 'float32'")
        if self.lr < 0 or self.weight_decay < 0 or (self.warmup_steps or 0) < 0:
            raise ValueError("lr, weight_decay and warmup_steps must be >= 0")
        if not 0.0 <= self.warmup_fraction < 1.0 or self.min_steps < 0:
            raise ValueError("need 0 <= warmup_fraction < 1 and min_steps >= 0")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError("val_fraction must be in [0, 1)")
        if self.batch_size < 2 or (self.epochs or 1) < 1 or self.num_hard_negatives < 0:
            raise ValueError("need batch_size >= 2, epochs >= 1, num_hard_negatives >= 0")


    def resolved(self, steps_per_epoch: int) -> TrainConfig:
        """This config with ``epochs`` and ``warmup_steps`` decided for the data.

        ``epochs=None`` becomes :data:`DEFAULT_EPOCHS`, or enough epochs for ``min_steps``
        optimiser steps when an epoch has few (800 pairs at batch 256: 4 steps an epoch, so
        12 epochs would be 48 steps, most of them warm-up). ``warmup_steps=None`` becomes
        ``warmup_fraction`` of the steps, at most :data:`MAX_AUTO_WARMUP` (large data keeps
        the warm-up it always had).

        Warns:
            FewStepsWarning: ``epochs`` was given and makes fewer than ``min_steps`` steps.
        """
        per_epoch = max(1, int(steps_per_epoch))
        epochs = self.epochs
        if epochs is None:
            epochs = max(DEFAULT_EPOCHS, math.ceil(self.min_steps / per_epoch))
        elif epochs * per_epoch < self.min_steps:
            warnings.warn(
                f"only {epochs * per_epoch} optimiser steps ({per_epoch} per epoch x {epochs} "
                f"epochs, fewer than {self.min_steps}): the head may stay undertrained; leave "
                "--epochs unset (it adapts to the data) or give more epochs",
                FewStepsWarning,
                stacklevel=2,
            )
        warmup = self.warmup_steps
        if warmup is None:
            warmup = min(MAX_AUTO_WARMUP, round(self.warmup_fraction * epochs * per_epoch))
        return replace(self, epochs=int(epochs), warmup_steps=int(warmup))


@dataclass
class TrainResult:
    """Outcome of :func:`train_head`.

    Attributes:
        path: The head directory (best epoch) -- loadable with ``vtrsearch.heads.load_head``.
        checkpoint_path: The last checkpoint file.
        history: One dict per finished epoch (``epoch``, ``loss``, ``loss_t2v``, ``loss_v2t``,
            ``loss_hard``, ``lr``, ``temperature``, ``val_r1``/``val_r5``/``val_r10`` (percent),
            ``val_medr``, ``val_meanr``).
        best_epoch: Epoch (0-based) whose weights are saved at ``path``.
        best_metrics: That epoch's history entry.
        initial_metrics: Validation metrics of the untrained head.
        stopped_early: Whether early stopping ended the run.
        epoch_seconds: Wall time of each epoch run by this call (epoch -> seconds).
        timings: Per epoch run by this call, seconds spent in ``steps``, ``mining``,
            ``validation`` and ``checkpoint`` (saving).
        head_config: The saved head configuration.
    """

    path: Path
    checkpoint_path: Path
    history: list[dict[str, Any]]
    best_epoch: int
    best_metrics: dict[str, Any]
    initial_metrics: dict[str, float]
    stopped_early: bool
    epoch_seconds: dict[int, float] = field(default_factory=dict)
    timings: dict[int, dict[str, float]] = field(default_factory=dict)
    head_config: HeadConfig | None = None
