"""Projection-head trainer (installed as ``vtrsearch.trainer``).

Public names are resolved lazily so that importing the package does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .config import FewStepsWarning, TrainConfig, TrainResult
    from .data import PairData, epoch_batches, prepare_data, split_videos
    from .evaluate import retrieval_metrics
    from .loss import ContrastiveLoss, contrastive_loss
    from .mining import HardNegativeMiner, mine_hard_negatives, video_neighbours
    from .train import train_head

_EXPORTS = {
    "ContrastiveLoss": ".loss",
    "contrastive_loss": ".loss",
    "PairData": ".data",
    "epoch_batches": ".data",
    "prepare_data": ".data",
    "split_videos": ".data",
    "retrieval_metrics": ".evaluate",
    "HardNegativeMiner": ".mining",
    "mine_hard_negatives": ".mining",
    "video_neighbours": ".mining",
    "TrainConfig": ".config",
    "FewStepsWarning": ".config",
    "TrainResult": ".config",
    "train_head": ".train",
}

__all__ = [
    "ContrastiveLoss",
    "FewStepsWarning",
    "HardNegativeMiner",
    "PairData",
    "TrainConfig",
    "TrainResult",
    "contrastive_loss",
    "epoch_batches",
    "mine_hard_negatives",
    "prepare_data",
    "retrieval_metrics",
    "split_videos",
    "train_head",
    "video_neighbours",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
