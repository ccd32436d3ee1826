"""Save and load head directories: ``model.safetensors`` (weights) + ``config.json``.

Loading never unpickles anything. Importing this module does not import torch (``vtrsearch
--help`` must stay instant): torch, safetensors and :mod:`vtrsearch.heads.module` are imported
inside the functions that need them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..extras import require_extra
from .config import (
    CONFIG_FILE,
    HEAD_FORMAT,
    HEAD_FORMAT_VERSION,
    WEIGHTS_FILE,
    HeadConfig,
    HeadLoadError,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    import torch

__all__ = ["LoadedHead", "atomic_write_bytes", "load_head", "save_head"]


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

    require_extra("safetensors", "clip")
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


def _check_shapes(config: HeadConfig, cfg_path: Path, w_path: Path) -> None:
    """Compare the tensor shapes ``config`` implies with the safetensors header.

    Only the header is read and the expected module is built on torch's ``meta`` device, so a
    tampered config (``hidden_dim=400000``) is refused without allocating its weights.

    Raises:
        HeadLoadError: unreadable header, or names/shapes that differ from the config's.
    """
    import torch
    from safetensors import SafetensorError, safe_open

    from .module import build_head

    try:
        with safe_open(str(w_path), framework="pt", device="cpu") as fh:
            stored = {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise HeadLoadError(f"corrupt head weights {w_path}: {exc}") from exc
    described = (
        f"{cfg_path} (in_dim={config.in_dim}, out_dim={config.out_dim}, "
        f"hidden_dim={config.hidden_dim}, depth={config.depth})"
    )
    if config.depth > len(stored):  # each layer has tensors: no need to build it to know
        raise HeadLoadError(
            f"head weights {w_path} hold {len(stored)} tensors, too few for {described}"
        )
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in build_head(config).state_dict().items()}
    if expected != stored:
        names = expected.keys() | stored.keys()
        diff = sorted(k for k in names if expected.get(k) != stored.get(k))
        shown = "; ".join(
            f"{k}: config {expected.get(k, 'absent')}, file {stored.get(k, 'absent')}"
            for k in diff[:4]
        )
        raise HeadLoadError(f"head weights {w_path} do not match {described}: {shown}")


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
        MissingExtraError: torch/safetensors are not installed (``vtrsearch[clip]``).
    """
    import json

    require_extra("torch", "clip")
    require_extra("safetensors", "clip")
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .module import build_head

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
    _check_shapes(config, cfg_path, w_path)  # before any tensor is allocated
    try:
        state = load_file(str(w_path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise HeadLoadError(f"corrupt head weights {w_path}: {exc}") from exc
    bad = sorted(k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all())
    if bad:
        raise HeadLoadError(f"head weights {w_path} hold NaN or infinite values in {bad}")
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
