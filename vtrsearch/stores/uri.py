"""The one place that decides what an index URI names.

Every other module asks :func:`uri_kind` (or the helpers below) instead of testing prefixes:

* a plain path (``./msrvtt-index``, ``/data/idx``): embedded LanceDB in that directory;
* ``s3://``, ``gs://``, ``az://`` (any other ``scheme://`` that is not Qdrant): LanceDB on an
  object store;
* ``qdrant://``, ``qdrant+http://``, ``qdrant+https://``: a Qdrant server or cluster;
* ``qdrant+local:///dir/name``: qdrant-client local mode on disk; ``qdrant+local://:memory:/name``
  in memory.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

__all__ = ["UriKind", "display_name", "is_qdrant_uri", "local_dir", "uri_kind"]

QDRANT_SERVER_SCHEMES = ("qdrant", "qdrant+http", "qdrant+https")
QDRANT_LOCAL_SCHEME = "qdrant+local"
MEMORY = ":memory:"


class UriKind(str, Enum):
    """What an index URI names."""

    LANCE_DIR = "lance-dir"
    LANCE_REMOTE = "lance-remote"
    QDRANT_SERVER = "qdrant-server"
    QDRANT_LOCAL = "qdrant-local"
    QDRANT_MEMORY = "qdrant-memory"


def _scheme(uri: str) -> str | None:
    scheme, sep, _ = uri.partition("://")
    return scheme.lower() if sep and scheme and "/" not in scheme else None


def uri_kind(uri: str | Path) -> UriKind:
    """The kind of store ``uri`` names (see the module docstring)."""
    text = str(uri)
    scheme = _scheme(text)
    if scheme is None:
        return UriKind.LANCE_DIR
    if scheme in QDRANT_SERVER_SCHEMES:
        return UriKind.QDRANT_SERVER
    if scheme == QDRANT_LOCAL_SCHEME:
        rest = text.split("://", 1)[1]
        return UriKind.QDRANT_MEMORY if rest.startswith(MEMORY) else UriKind.QDRANT_LOCAL
    return UriKind.LANCE_REMOTE


def is_qdrant_uri(uri: str | Path) -> bool:
    """Whether ``uri`` names a Qdrant store (server, local mode or in memory)."""
    return uri_kind(uri) in (UriKind.QDRANT_SERVER, UriKind.QDRANT_LOCAL, UriKind.QDRANT_MEMORY)


def local_dir(uri: str | Path) -> Path | None:
    """The folder on this machine that holds the index's files, or ``None`` (remote, memory)."""
    kind = uri_kind(uri)
    if kind is UriKind.LANCE_DIR:
        return Path(str(uri)).expanduser()
    if kind is UriKind.QDRANT_LOCAL:
        folder, _, _ = str(uri).split("://", 1)[1].rpartition("/")
        return Path(folder) if folder else None
    return None


def display_name(uri: str | Path) -> str:
    """A short name for titles: the folder name of a local index, the URI otherwise."""
    if uri_kind(uri) is UriKind.LANCE_DIR:
        return Path(str(uri)).name or str(uri)
    return str(uri)
