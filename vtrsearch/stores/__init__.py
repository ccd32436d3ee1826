"""Vector stores behind an :class:`~vtrsearch.Index`, chosen from the index URI."""

from __future__ import annotations

from pathlib import Path

from .base import SCORE, VectorStore
from .uri import UriKind, is_qdrant_uri, uri_kind

__all__ = ["SCORE", "UriKind", "VectorStore", "is_qdrant_uri", "open_store", "uri_kind"]


def open_store(uri: str | Path, **options) -> VectorStore:
    """Open the store named by ``uri`` (see :mod:`vtrsearch.stores.uri` for the forms).

    Qdrant URIs take ``options`` (see :class:`~vtrsearch.stores.qdrant.QdrantStore`, e.g.
    ``api_key``, ``timeout``); LanceDB ignores them.
    """
    if is_qdrant_uri(uri):
        from .qdrant import QdrantStore

        return QdrantStore(str(uri), **options)
    from .lance import LanceStore

    return LanceStore(uri)
