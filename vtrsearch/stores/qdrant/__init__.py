"""Qdrant behind the :class:`~vtrsearch.stores.VectorStore` interface: a server or cluster
(qdrant-client), the embedded engine (qdrant-edge) or qdrant-client's in-memory mode."""

from __future__ import annotations

from .codec import point_id
from .settings import QdrantSettings
from .store import QdrantStore

__all__ = ["QdrantSettings", "QdrantStore", "point_id"]
