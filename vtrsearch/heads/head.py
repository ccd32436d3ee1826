"""Learned projection head mapping frozen text-encoder vectors into a video feature space.

A head lives in a directory holding ``model.safetensors`` (weights) and ``config.json``
(a :class:`HeadConfig`). Loading never unpickles anything.

Importing this module does not import torch (``vtrsearch --help`` must stay instant): torch
is imported inside functions and the :class:`ProjectionHead` ``nn.Module`` class is built on
first access (``vtrsearch.heads.head.ProjectionHead`` resolves lazily through ``__getattr__``).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    import torch

__all__ = [
    "CONFIG_FILE",
    "HEAD_FORMAT",
    "WEIGHTS_FILE",
    "HeadConfig",
    "HeadLoadError",
    "LoadedHead",
    "ProjectionHead",  # noqa: F822 - resolved lazily by __getattr__
    "build_head",
    "load_head",
    "save_head",
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


# ----------------------------------------------------------------------------- module class

_HEAD_CLASS: type | None = None


def _projection_head_class() -> type:
    """Build (once) and return the ``ProjectionHead`` ``nn.Module`` class."""
    global _HEAD_CLASS
    if _HEAD_CLASS is not None:
        return _HEAD_CLASS

    import torch.nn.functional as F
    from torch import nn

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

    ProjectionHead.__module__ = __name__
    ProjectionHead.__qualname__ = "ProjectionHead"
    _HEAD_CLASS = ProjectionHead
    return ProjectionHead


def __getattr__(name: str) -> Any:
    if name == "ProjectionHead":
        return _projection_head_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_head(config: HeadConfig) -> torch.nn.Module:
    """Instantiate a freshly initialised :class:`ProjectionHead` (uses torch's global RNG)."""
    return _projection_head_class()(config)


# ----------------------------------------------------------------------------- save / load


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and ``os.replace``."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _json_safe(value: Any) -> Any:
    """Make metrics/args JSON-safe (numpy scalars, tuples, paths, non-finite floats)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy / torch scalar
        return _json_safe(value.item())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def save_head(head: torch.nn.Module, config: HeadConfig, path: str | os.PathLike[str]) -> Path:
    """Save a head directory: ``model.safetensors`` + ``config.json``, each written atomically.

    Args:
        head: The projection head module (its ``state_dict`` is saved, moved to CPU).
        config: Its configuration (with provenance: base encoder, training args, metrics).
        path: Target directory (created if needed).

    Returns:
        The directory path.
    """
    import json

    from safetensors.torch import save

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in head.state_dict().items()}
    meta = {"format": HEAD_FORMAT, "in_dim": str(config.in_dim), "out_dim": str(config.out_dim)}
    atomic_write_bytes(out / WEIGHTS_FILE, save(tensors, metadata=meta))
    payload = {"format": HEAD_FORMAT, "format_version": HEAD_FORMAT_VERSION}
    payload.update(_json_safe(config.to_dict()))
    text = json.dumps(payload, indent=2, sort_keys=False, allow_nan=False) + "\n"
    atomic_write_bytes(out / CONFIG_FILE, text.encode("utf-8"))
    return out


@dataclass
class LoadedHead:
    """A head loaded for inference.

    Attributes:
        module: The :class:`ProjectionHead` in eval mode.
        config: Its :class:`HeadConfig`.
        path: The directory it was loaded from.
        device: The torch device it lives on.
    """

    module: Any
    config: HeadConfig
    path: Path
    device: Any

    @property
    def in_dim(self) -> int:
        """Input (text) dimension."""
        return self.config.in_dim

    @property
    def out_dim(self) -> int:
        """Output (video space) dimension."""
        return self.config.out_dim

    def project(self, x: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Project text vectors into the video space.

        Args:
            x: ``(in_dim,)`` or ``(n, in_dim)`` array (any float dtype).
            batch_size: Rows per forward pass.

        Returns:
            float32 L2-normalised ``(out_dim,)`` or ``(n, out_dim)`` array.
        """
        import numpy as np
        import torch

        arr = np.asarray(x, dtype=np.float32)
        single = arr.ndim == 1
        if single:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.config.in_dim:
            raise ValueError(
                f"head {self.path} expects vectors of dim {self.config.in_dim}, "
                f"got array of shape {np.shape(x)}"
            )
        out = np.empty((arr.shape[0], self.config.out_dim), dtype=np.float32)
        self.module.eval()
        with torch.inference_mode():
            for start in range(0, arr.shape[0], batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(arr[start : start + batch_size]))
                y = self.module(chunk.to(self.device))
                out[start : start + batch_size] = y.float().cpu().numpy()
        return out[0] if single else out


def load_head(path: str | os.PathLike[str], device: Any = None) -> LoadedHead:
    """Load a head directory written by :func:`save_head` (safetensors only, no pickle).

    Args:
        path: The head directory.
        device: Torch device (default CPU).

    Returns:
        The loaded head, in eval mode.

    Raises:
        FileNotFoundError: ``path`` is not a directory.
        HeadLoadError: A file is missing, unreadable, or inconsistent with the config.
    """
    import json

    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"projection head directory not found: {root}")
    cfg_path, w_path = root / CONFIG_FILE, root / WEIGHTS_FILE
    for p in (cfg_path, w_path):
        if not p.is_file():
            raise HeadLoadError(f"not a projection head directory: {root} (missing {p.name})")
    try:
        raw = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HeadLoadError(f"corrupt head config {cfg_path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != HEAD_FORMAT:
        raise HeadLoadError(f"{cfg_path} is not a vtrsearch projection head config")
    try:
        config = HeadConfig.from_dict(raw)
    except (TypeError, ValueError) as exc:
        raise HeadLoadError(f"invalid head config {cfg_path}: {exc}") from exc
    try:
        state = load_file(str(w_path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise HeadLoadError(f"corrupt head weights {w_path}: {exc}") from exc
    module = build_head(config)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise HeadLoadError(
            f"head weights {w_path} do not match {cfg_path} "
            f"(in_dim={config.in_dim}, out_dim={config.out_dim}, hidden_dim={config.hidden_dim}, "
            f"depth={config.depth}): {exc}"
        ) from exc
    dev = torch.device(device) if device is not None else torch.device("cpu")
    module.to(dev).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return LoadedHead(module=module, config=config, path=root, device=dev)
