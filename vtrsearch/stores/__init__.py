"""Vector stores behind an :class:`~vtrsearch.Index`, chosen from the index URI."""

from __future__ import annotations

from pathlib import Path

from .base import SCORE, VectorStore
from .uri import UriKind, is_qdrant_uri, local_dir, uri_kind

__all__ = [
    "SCORE",
    "UriKind",
    "VectorStore",
    "is_qdrant_uri",
    "legacy_layout",
    "open_store",
    "uri_kind",
]


def open_store(uri: str | Path, **options) -> VectorStore:
    """Open the store named by ``uri`` (see :mod:`vtrsearch.stores.uri` for the forms).

    Qdrant URIs take ``options`` (see :class:`~vtrsearch.stores.qdrant.QdrantStore`, e.g.
    ``api_key``, ``timeout``, ``shards``); LanceDB takes none, and refuses them rather than
    silently ignore, say, ``shards=6``.
    """
    if is_qdrant_uri(uri):
        from .qdrant import QdrantStore

        return QdrantStore(str(uri), **options)
    if options:
        raise TypeError(
            f"{', '.join(sorted(options))}: LanceDB ({uri}) takes no store options; "
            "they are for qdrant:// URIs"
        )
    from .lance import LanceStore

    return LanceStore(uri)


def legacy_layout(uri: str | Path) -> str | None:
    """For a ``qdrant+local`` URI naming an index of the old layout (qdrant-client local mode,
    files beside the index folder): the message saying how to move it; else ``None``."""
    if uri_kind(uri) is not UriKind.QDRANT_LOCAL:
        return None
    folder = local_dir(uri)
    if folder is None:
        return None
    from .qdrant.edge import legacy_message

    return legacy_message(folder.resolve())
