"""Qdrant behind the :class:`~vtrsearch.stores.VectorStore` interface (server or local mode)."""

from __future__ import annotations

from .store import QdrantStore, point_id

__all__ = ["QdrantStore", "point_id"]
