"""Projection heads: a small MLP from a text encoder's space into the index's video space.

torch is imported only when a head is built or loaded.
"""

from __future__ import annotations

from .head import HeadConfig, HeadLoadError, LoadedHead, build_head, load_head, save_head

__all__ = ["HeadConfig", "HeadLoadError", "LoadedHead", "build_head", "load_head", "save_head"]
