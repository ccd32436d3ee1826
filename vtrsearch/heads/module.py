"""The projection head ``nn.Module``: a small MLP into the video space.

This module imports torch at import time; :mod:`vtrsearch.heads` imports it only when
``ProjectionHead`` or ``build_head`` is first used, so ``import vtrsearch.heads`` stays light.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import HeadConfig

__all__ = ["ProjectionHead", "build_head"]


class ProjectionHead(nn.Module):
    """MLP projection head; ``forward`` returns L2-normalised ``out_dim`` features.

    Layout for ``depth`` d: ``(Linear -> GELU -> Dropout) x (d-1)`` then a final
    ``Linear`` to ``out_dim``; residual heads add the input before normalising.
    """

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        dim = config.in_dim
        for _ in range(config.depth - 1):
            layers += [nn.Linear(dim, config.hidden_dim), nn.GELU(), nn.Dropout(config.dropout)]
            dim = config.hidden_dim
        layers.append(nn.Linear(dim, config.out_dim))
        self.mlp = nn.Sequential(*layers)
        if config.residual:
            nn.init.zeros_(self.mlp[-1].weight)
            nn.init.zeros_(self.mlp[-1].bias)

    @property
    def residual(self) -> bool:
        """Whether the head adds its input to the MLP output."""
        return bool(self.config.residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project ``(..., in_dim)`` vectors to L2-normalised ``(..., out_dim)`` features."""
        if self.config.normalize_input:
            x = F.normalize(x, dim=-1)
        y = self.mlp(x)
        if self.config.residual:
            y = y + x
        return F.normalize(y, dim=-1)


def build_head(config: HeadConfig) -> ProjectionHead:
    """Instantiate a freshly initialised :class:`ProjectionHead` (uses torch's global RNG)."""
    return ProjectionHead(config)
