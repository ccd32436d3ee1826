"""Device selection and the inference context (inference mode + CUDA autocast).

Everything here imports torch lazily, inside the functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["autocast_dtype", "inference_context", "resolve_device"]


def resolve_device(device: str | None) -> torch.device:
    """Return the torch device to run on.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or ``None`` for CUDA when available,
            CPU otherwise.

    Returns:
        The resolved device.

    Raises:
        ValueError: ``device`` is not a valid torch device string, or names CUDA when no CUDA
            device is available.
    """
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"invalid device {device!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return dev


def autocast_dtype(device: torch.device, prefer_bf16: bool) -> torch.dtype | None:
    """The reduced precision to autocast to on ``device``, or ``None`` for float32.

    Args:
        device: The device the model runs on.
        prefer_bf16: Use bfloat16 when the GPU supports it (transformers models), else float16.

    Returns:
        ``torch.float16``/``torch.bfloat16`` on CUDA, ``None`` on CPU.
    """
    import torch

    if device.type != "cuda":
        return None
    if prefer_bf16 and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


@contextlib.contextmanager
def inference_context(device: torch.device, dtype: torch.dtype | None) -> Iterator[Any]:
    """``torch.inference_mode()`` plus CUDA autocast to ``dtype`` when it is not ``None``."""
    import torch

    with torch.inference_mode():
        if dtype is None:
            yield None
        else:
            with torch.autocast(device_type=device.type, dtype=dtype):
                yield None
