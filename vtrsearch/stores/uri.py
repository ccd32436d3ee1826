"""The one place that decides what an index URI names.

Every other module asks :func:`uri_kind` (or the helpers below) instead of testing prefixes:

* a plain path (``./msrvtt-index``, ``/data/idx``): embedded LanceDB in that directory;
* ``s3://``, ``gs://``, ``az://`` (any other ``scheme://`` that is not Qdrant): LanceDB on an
  object store;
* ``qdrant://``, ``qdrant+http://``, ``qdrant+https://``: a Qdrant server or cluster, with
  optional settings as a query string (``qdrant://node1:6333/msrvtt?shards=6&replicas=2``,
  parsed by :mod:`vtrsearch.stores.qdrant.connection`);
* ``qdrant+local:///dir/name``: the embedded Qdrant engine (qdrant-edge) in the folder
  ``/dir/name``, which is the index's own folder, as for LanceDB;
  ``qdrant+local://:memory:/name``: qdrant-client's in-memory mode (one per process);
* ``qdrant+legacy:///dir/name``: an index written by vtrsearch's earlier ``qdrant+local``
  (qdrant-client local mode, files in ``/dir``); opened only to migrate it, since that format
  unpickles what it reads.
"""

from __future__ import annotations

import hashlib
import os
from enum import Enum
from pathlib import Path

__all__ = [
    "UriKind",
    "cache_dir",
    "display_name",
    "is_qdrant_uri",
    "local_dir",
    "missing_local_index",
    "uri_kind",
]

QDRANT_SERVER_SCHEMES = ("qdrant", "qdrant+http", "qdrant+https")
QDRANT_LOCAL_SCHEME = "qdrant+local"
QDRANT_LEGACY_SCHEME = "qdrant+legacy"
MEMORY = ":memory:"


class UriKind(str, Enum):
    """What an index URI names."""

    LANCE_DIR = "lance-dir"
    LANCE_REMOTE = "lance-remote"
    QDRANT_SERVER = "qdrant-server"
    QDRANT_LOCAL = "qdrant-local"
    QDRANT_MEMORY = "qdrant-memory"
    QDRANT_LEGACY = "qdrant-legacy"


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
    if scheme == QDRANT_LEGACY_SCHEME:
        return UriKind.QDRANT_LEGACY
    return UriKind.LANCE_REMOTE


def is_qdrant_uri(uri: str | Path) -> bool:
    """Whether ``uri`` names a Qdrant store (server, local mode or in memory)."""
    return uri_kind(uri) in (
        UriKind.QDRANT_SERVER,
        UriKind.QDRANT_LOCAL,
        UriKind.QDRANT_MEMORY,
        UriKind.QDRANT_LEGACY,
    )


def _local_path(uri: str | Path) -> str:
    """The path part of a ``qdrant+local://`` or ``qdrant+legacy://`` URI (no query)."""
    return str(uri).split("://", 1)[1].partition("?")[0]


def local_dir(uri: str | Path) -> Path | None:
    """The folder on this machine that holds the index's files, or ``None`` (remote, memory).

    For ``qdrant+local:///dir/name`` that is ``/dir/name`` itself; for a legacy
    ``qdrant+legacy:///dir/name`` it is ``/dir`` (where qdrant-client local mode wrote).
    """
    kind = uri_kind(uri)
    if kind is UriKind.LANCE_DIR:
        return Path(str(uri)).expanduser()
    if kind is UriKind.QDRANT_LOCAL:
        path = _local_path(uri)
        return Path(path).expanduser() if path.strip("/") else None
    if kind is UriKind.QDRANT_LEGACY:
        folder = _local_path(uri).rpartition("/")[0]
        return Path(folder).expanduser() if folder else None
    return None


CACHE_FOLDER = "_vtrsearch_cache"
#: Environment variable naming the folder for derived files of indexes without a local folder.
CACHE_ENV = "VTRSEARCH_CACHE_DIR"


def cache_dir(uri: str | Path) -> Path | None:
    """The folder for files derived from an index (memory-mapped gallery, in-process ANN index).

    A LanceDB folder keeps them inside itself (``<dir>/_vtrsearch_cache``; LanceDB only lists
    ``*.lance`` tables there), so they move and disappear with the index. Every other URI but
    an in-memory one gets ``$VTRSEARCH_CACHE_DIR/<hash of the URI>`` (default
    ``~/.cache/vtrsearch``): a Qdrant engine owns its folder, and a server has none here.
    Returns ``None`` for ``:memory:`` stores (nothing outlives the process). The folder is not
    created here.
    """
    kind = uri_kind(uri)
    if kind is UriKind.LANCE_DIR:
        return Path(str(uri)).expanduser() / CACHE_FOLDER
    if kind is UriKind.QDRANT_MEMORY:
        return None
    text = str(uri)
    if kind is UriKind.QDRANT_LOCAL:
        folder = local_dir(uri)
        if folder is None:
            return None
        text = f"qdrant+local://{folder.resolve()}"
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "vtrsearch").expanduser()
    return root / hashlib.sha256(text.encode()).hexdigest()[:24]


def missing_local_index(uri: str | Path) -> Path | None:
    """The folder a LanceDB ``uri`` names when it does not exist (else ``None``).

    Read-only operations check this before opening the store, because LanceDB's ``connect``
    makes the folder. (The ``qdrant+local`` store creates nothing until its first write, and
    recognises the legacy layout, so it needs no such check.)
    """
    if uri_kind(uri) is not UriKind.LANCE_DIR:
        return None
    folder = local_dir(uri)
    return folder if folder is not None and not folder.exists() else None


def display_name(uri: str | Path) -> str:
    """A short name for titles: the folder name of a local index, the URI otherwise."""
    if uri_kind(uri) is UriKind.LANCE_DIR:
        return Path(str(uri)).name or str(uri)
    return str(uri)
