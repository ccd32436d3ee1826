"""Head configuration (``config.json``), file names and the errors of head directories.

Importing this module never imports torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = [
    "CONFIG_FILE",
    "HEAD_FORMAT",
    "HEAD_FORMAT_VERSION",
    "WEIGHTS_FILE",
    "HeadConfig",
    "HeadLoadError",
]

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
HEAD_FORMAT = "vtrsearch-projection-head"
HEAD_FORMAT_VERSION = 1


class HeadLoadError(ValueError):
    """A head directory exists but its files are missing, corrupt or inconsistent."""


@dataclass
class HeadConfig:
    """Architecture and provenance of a projection head.

    Attributes:
        in_dim: Dimension of the (frozen) text-encoder vectors.
        out_dim: Dimension of the video feature space.
        hidden_dim: Width of the hidden layers.
        depth: Number of linear layers (1 = a single linear map).
        dropout: Dropout probability after each hidden activation.
        residual: ``out = normalize(x + mlp(x))``. ``None`` resolves to ``in_dim == out_dim``;
            ``True`` requires equal dims. The last layer of a residual head starts at zero, so
            an untrained residual head is the identity (on normalised inputs).
        normalize_input: L2-normalise inputs before the MLP (robust to cached vectors that
            were or were not normalised).
        base_encoder: Spec string of the text encoder whose vectors the head consumes.
        feature_model: Name of the video feature space the head maps into.
        training: Training arguments (free-form, JSON-serialisable).
        metrics: Validation metrics (free-form, JSON-serialisable).
    """

    in_dim: int = 512
    out_dim: int = 1024
    hidden_dim: int = 1024
    depth: int = 2
    dropout: float = 0.1
    residual: bool | None = None
    normalize_input: bool = True
    base_encoder: str | None = None
    feature_model: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("in_dim", "out_dim", "hidden_dim", "depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"HeadConfig.{name} must be a positive int, got {value!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"HeadConfig.dropout must be in [0, 1), got {self.dropout!r}")
        if self.residual is None:
            self.residual = self.in_dim == self.out_dim
        elif self.residual and self.in_dim != self.out_dim:
            raise ValueError(
                f"residual head needs in_dim == out_dim, got {self.in_dim} != {self.out_dim}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (the ``config.json`` payload, minus format keys)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadConfig:
        """Build a config from a dict, ignoring unknown keys (forward compatibility)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
