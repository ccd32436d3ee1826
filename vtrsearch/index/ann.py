"""Approximate nearest-neighbour (ANN) search for an :class:`vtrsearch.Index`: the protocol every
ANN backend implements, the registry of backends, and the search ``mode`` rules.

A backend is one *kind* of ANN index (``"faiss-ivf-fp16"``: in-process faiss over the gallery;
store kinds such as LanceDB ``IVF_HNSW_SQ`` or Qdrant HNSW register the same way). It builds
its index from an :class:`~vtrsearch.Index` and answers batched queries with
:class:`~vtrsearch.results.Hit` lists. :meth:`Index.build_ann` records
``{"kind", "params", "version"}`` under the ``ann`` metadata key, so a re-opened index knows
which backend answers ``mode="ann"``; ``version`` is the videos-table version the index was
built from (different from :attr:`Index.version` means stale: videos were written since).

Contract of :meth:`AnnBackend.search`: filters are **pre-filters** (a filtered query returns
``k`` hits whenever ``k`` videos pass the filter, all of them passing it), a deleted video is
never returned and a video added since the build is still found (a backend that cannot cover
new rows searches them exactly and merges). Hits are ranked best first with their exact
score where the backend can afford it.

Search modes (``search``, ``search_many``, ``search_moments``):

- ``"exact"``: the exact in-memory (or store) search, as always.
- ``"ann"``: the built ANN index; :class:`AnnNotBuiltError` when there is none.
- ``"auto"``: exact below :data:`AUTO_ANN_MIN_VIDEOS` videos or when no ANN index is built,
  ANN above it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..errors import AnnNotBuiltError

if TYPE_CHECKING:
    from ..results import Hit
    from .index import Index

ProgressFn = Callable[[int, int], object]

MODES = ("exact", "ann", "auto")
#: ``mode="auto"`` answers exactly below this many videos (measured in bench/ann_recall.py:
#: exact float32 over 200k x 1024 takes ~20 ms p50 on 2 cores; an IVF query ~1-3 ms).
AUTO_ANN_MIN_VIDEOS = 200_000
#: The metadata key holding ``{"kind", "params", "version"}`` of the built ANN index.
META_KEY = "ann"
__all__ = [
    "AUTO_ANN_MIN_VIDEOS",
    "DEFAULT_KIND",
    "MODES",
    "AnnBackend",
    "AnnNotBuiltError",
    "ann_info",
    "ann_kinds",
    "backend_for",
    "check_mode",
    "register_backend",
]
#: The default kind of :meth:`Index.build_ann` and ``vtrsearch build-ann``.
DEFAULT_KIND = "faiss-ivf-pq4fs"


@runtime_checkable
class AnnBackend(Protocol):
    """One kind of ANN index. Keep implementations stateless between indexes: per-index state
    (a loaded faiss index, ...) lives on the :class:`Index` (e.g. in ``index.__dict__``)."""

    kind: str

    def build(
        self, index: Index, params: Mapping[str, Any], progress: ProgressFn | None
    ) -> dict[str, Any]:
        """Build (or rebuild) the ANN index of ``index``; a killed build leaves the previous
        one usable. Returns the parameters to store (defaults filled in)."""
        ...

    def search(
        self,
        index: Index,
        queries: np.ndarray,
        k: int,
        cats: frozenset[int] | None,
        splits: frozenset[str] | None,
        params: Mapping[str, Any],
    ) -> list[list[Hit]]:
        """Top-``k`` hits for each row of ``queries`` ((n, dim) float32, unit norm), with
        ``cats``/``splits`` as pre-filters; ``params`` are the stored build parameters merged
        with per-query overrides (e.g. ``nprobe``)."""
        ...


_BACKENDS: dict[str, AnnBackend] = {}


def register_backend(backend: AnnBackend) -> AnnBackend:
    """Make ``backend`` answer its ``kind`` (replacing an earlier one of that kind)."""
    if not isinstance(getattr(backend, "kind", None), str) or not backend.kind:
        raise TypeError(f"an ANN backend needs a non-empty str `kind`, got {backend!r}")
    _BACKENDS[backend.kind] = backend
    return backend


def _load_builtin() -> None:
    from . import (
        faiss_ann,  # noqa: F401  (registers the faiss kinds; faiss itself is lazy)
        store_ann,  # noqa: F401  (registers the stores' own kinds)
    )


def ann_kinds() -> list[str]:
    """The registered kinds, sorted."""
    _load_builtin()
    return sorted(_BACKENDS)


def backend_for(kind: str) -> AnnBackend:
    """The backend of ``kind``; ``ValueError`` naming the known kinds otherwise."""
    _load_builtin()
    backend = _BACKENDS.get(kind)
    if backend is None:
        raise ValueError(f"unknown ANN kind {kind!r}; known: {', '.join(sorted(_BACKENDS))}")
    return backend


def check_mode(mode: str) -> str:
    """``mode`` when it is one of :data:`MODES`, else ``ValueError`` (expected vs got)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def ann_info(
    index: Index, *, reread: bool = False, with_stale: bool = True
) -> dict[str, Any] | None:
    """The stored ``{"kind", "params", "version"}`` plus ``stale`` (the videos were written
    since the build), or ``None`` when no ANN index was built. ``reread`` asks the store
    again (another process may have built one since this handle opened); ``with_stale=False``
    leaves ``stale`` out (it asks the store for the table version: a search does not need it)."""
    info = index.metadata.get(META_KEY)
    now = time.monotonic()
    if info is None and reread and now - index.__dict__.get("_ann_meta_at", -1e9) >= 1.0:
        index.__dict__["_ann_meta_at"] = now  # at most once a second: the store is not free
        info = index.store.get_metadata().get(META_KEY)
        if info is not None:
            index._meta[META_KEY] = info
    if not info:
        return None
    out = dict(info)
    if with_stale:
        out["stale"] = str(out.get("version")) != str(index.version)
    return out


def not_built_message(index: Index) -> str:
    return (
        f"no ANN index is built for {index.uri}; build one with `vtrsearch build-ann "
        f"{index.uri}` (or Index.build_ann()), or search with mode='exact'"
    )
