"""Vector stores behind an :class:`~vtrsearch.Index`, chosen from the index URI."""

from __future__ import annotations

from pathlib import Path

from .base import SCORE, VectorStore

__all__ = ["SCORE", "VectorStore", "open_store", "is_qdrant_uri"]


def is_qdrant_uri(uri: str | Path) -> bool:
    """Whether ``uri`` names a Qdrant store (``qdrant://``, ``qdrant+https://``, ...)."""
    return str(uri).startswith("qdrant")


def open_store(uri: str | Path, **options) -> VectorStore:
    """Open the store named by ``uri``.

    ``qdrant://host:port/name``, ``qdrant+https://host[:port]/name``,
    ``qdrant+local:///dir/name`` and ``qdrant+local://:memory:/name`` open Qdrant (``options``:
    see :class:`~vtrsearch.stores.qdrant.QdrantStore`, e.g. ``api_key``, ``timeout``);
    anything else (a directory, ``s3://``...) opens embedded LanceDB (``options`` ignored).
    """
    if is_qdrant_uri(uri):
        from .qdrant import QdrantStore

        return QdrantStore(str(uri), **options)
    from .lance import LanceStore

    return LanceStore(uri)
