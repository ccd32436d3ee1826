"""Training checkpoints as one safetensors file (tensors + JSON metadata), written atomically.

Layout of ``<out_dir>/checkpoint/state.safetensors``: tensors ``head.*``, ``loss.*``,
``opt.<param>.<key>`` (optimizer state), ``rng.torch`` / ``rng.cuda`` and optionally
``hard_negatives``; the ``vtrsearch`` metadata entry is a JSON document with everything
else (epoch, history, optimizer param groups, scheduler and grad-scaler state, configs).
Nothing is ever unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from vtrsearch.heads.io import atomic_write_bytes

__all__ = [
    "CHECKPOINT_DIR",
    "CHECKPOINT_FILE",
    "CheckpointError",
    "read_checkpoint",
    "write_checkpoint",
]

CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "state.safetensors"
_FORMAT = "vtrsearch-trainer-checkpoint"
_META_KEY = "vtrsearch"


class CheckpointError(ValueError):
    """A checkpoint is unreadable or does not belong to this training run."""


def _optimizer_to_flat(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in state["state"].items():
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"opt.{pid}.{key}"] = value.detach().to("cpu").contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    groups = [
        {k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
        for g in state["param_groups"]
    ]
    return tensors, {"param_groups": groups, "scalars": scalars}


def _optimizer_from_flat(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("opt."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    for pid, entries in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(entries)
    groups = [
        {k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in meta["param_groups"]
    ]
    return {"state": state, "param_groups": groups}


def write_checkpoint(
    directory: Path,
    *,
    head: torch.nn.Module,
    loss_fn: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    extra_tensors: dict[str, torch.Tensor],
    meta: dict[str, Any],
) -> Path:
    """Atomically write the checkpoint file (temp file + ``os.replace``).

    Args:
        directory: ``<out_dir>/checkpoint`` (created if needed).
        head: The projection head.
        loss_fn: The loss module (learnable temperature).
        optimizer: The optimizer.
        extra_tensors: Additional named tensors (RNG states, mined negatives).
        meta: JSON-serialisable run state (epoch, history, scheduler, ...).

    Returns:
        Path of the checkpoint file.
    """
    from safetensors.torch import save

    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"head.{k}": v.detach().to("cpu").contiguous() for k, v in head.state_dict().items()}
    tensors.update(
        {f"loss.{k}": v.detach().to("cpu").contiguous() for k, v in loss_fn.state_dict().items()}
    )
    opt_tensors, opt_meta = _optimizer_to_flat(optimizer.state_dict())
    tensors.update(opt_tensors)
    tensors.update({k: v.detach().to("cpu").contiguous() for k, v in extra_tensors.items()})
    doc = {"format": _FORMAT, "version": 1, "optimizer": opt_meta, **meta}
    payload = save(tensors, metadata={_META_KEY: json.dumps(doc, allow_nan=True)})
    path = directory / CHECKPOINT_FILE
    atomic_write_bytes(path, payload)
    return path


def read_checkpoint(directory: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """Read a checkpoint written by :func:`write_checkpoint`.

    Args:
        directory: ``<out_dir>/checkpoint``.

    Returns:
        ``(tensors, meta)`` with ``meta["optimizer_state"]`` rebuilt as an optimizer
        ``state_dict``, or ``None`` when there is no checkpoint.

    Raises:
        CheckpointError: The file exists but is corrupt or not a trainer checkpoint.
    """
    from safetensors import SafetensorError, safe_open

    path = directory / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            raw = (fh.metadata() or {}).get(_META_KEY)
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"corrupt training checkpoint {path}: {exc}") from exc
    try:
        meta = json.loads(raw) if raw else None
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"corrupt training checkpoint metadata in {path}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise CheckpointError(f"{path} is not a vtrsearch trainer checkpoint")
    meta["optimizer_state"] = _optimizer_from_flat(tensors, meta.pop("optimizer"))
    return tensors, meta


def strip_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Return the tensors whose name starts with ``prefix``, with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
