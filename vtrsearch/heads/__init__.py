"""Projection heads: a small MLP from a text encoder's space into the index's video space.

- :mod:`.config`: :class:`HeadConfig`, file names, :class:`HeadLoadError` (no torch).
- :mod:`.module`: the :class:`ProjectionHead` ``nn.Module`` and :func:`build_head` (torch).
- :mod:`.io`: :func:`save_head`, :func:`load_head`, :class:`LoadedHead` (torch inside).
- :mod:`.resolve`: :func:`resolve_head_dir`, the one lookup of a head directory or name.

``import vtrsearch.heads`` does not import torch: the torch module is imported on first use
of ``ProjectionHead`` / ``build_head``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..extras import require_extra
from .config import CONFIG_FILE, WEIGHTS_FILE, HeadConfig, HeadLoadError
from .io import LoadedHead, atomic_write_bytes, load_head, save_head
from .resolve import HeadNotFoundError, resolve_head_dir

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .module import ProjectionHead, build_head

_LAZY = {"ProjectionHead": ".module", "build_head": ".module"}

__all__ = [
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "HeadConfig",
    "HeadLoadError",
    "HeadNotFoundError",
    "LoadedHead",
    "ProjectionHead",
    "atomic_write_bytes",
    "build_head",
    "load_head",
    "resolve_head_dir",
    "save_head",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    require_extra("torch", "clip")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
