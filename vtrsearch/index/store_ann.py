"""ANN backends answered by the store's own vector index (LanceDB, Qdrant).

One :class:`StoreAnnBackend` per store kind (``lance-ivf-hnsw-sq``, ``lance-ivf-pq``,
``qdrant-hnsw``; see :mod:`vtrsearch.stores.ann_params` for their parameters), implementing
the :class:`~vtrsearch.index.ann.AnnBackend` protocol: ``build`` asks the store to build (or
finish) its index on the videos table, ``search`` sends each query to the store with the
search parameters. Unlike the in-process kinds they need no gallery in memory, so they also
serve indexes opened with ``gallery="store"``, and the store keeps them current: rows written
after the build are searched too (LanceDB scans its unindexed rows exactly, Qdrant indexes on
write), deleted rows are gone.

Parameters: ``build`` takes the kind's build parameters and, optionally, its search
parameters (stored as this index's defaults, e.g. a tuned ``nprobes``); it returns both,
every default filled in, to be kept in the index metadata. ``search`` merges the stored ones
with the per-query overrides it is given.

Filters are pre-filters (``category``/``split`` conditions in the store's query): a filtered
query returns ``min(k, matching videos)`` hits, the store falling back to an exact filtered
search where its ANN search under-returns (see ``LanceStore.search``). Scores are the
store's: exact with LanceDB ``refine_factor`` or Qdrant rescoring, quantised otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidAnnParamsError
from ..filters import Filter
from ..results import Hit
from ..stores.ann_params import KINDS, BuildProgress, ann_kind, kind_search_params
from .schema import VIDEOS

if TYPE_CHECKING:
    from .index import Index

#: The metadata key under which :meth:`Index.build_ann` keeps ``{"kind", "params", ...}``.
META_KEY = "ann"
#: Keys of the stored parameters that describe the build rather than set anything.
INFO_KEYS = ("index_name", "indexed_rows", "indexed_vectors", "points", "exhaustive")


class StoreAnnBackend:
    """The store-side ANN index of one kind (see the module docstring)."""

    needs_gallery = False

    def __init__(self, kind: str):
        self.kind = ann_kind(kind).name
        self.spec = KINDS[self.kind]

    def __repr__(self) -> str:
        return f"StoreAnnBackend({self.kind!r})"

    # building ------------------------------------------------------------------------------
    def _split(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``params`` as (build parameters, search parameters); unknown names are refused."""
        build = {k: v for k, v in params.items() if k in self.spec.build}
        search = {k: v for k, v in params.items() if k in self.spec.search}
        unknown = sorted(set(params) - set(build) - set(search) - set(INFO_KEYS))
        if unknown:
            raise InvalidAnnParamsError(
                f"unknown parameter(s) {', '.join(unknown)} for {self.kind}; build: "
                f"{', '.join(self.spec.build)}; search: {', '.join(self.spec.search)}"
            )
        return build, search

    def build(
        self, index: Index, params: Mapping[str, Any], progress: BuildProgress | None
    ) -> dict[str, Any]:
        """Build (or finish) the store's index on the videos; returns the parameters to keep
        (build and search, defaults filled in, plus what the store reports, e.g.
        ``indexed_rows``). Resumable and a no-op when already built with these parameters
        (see ``VectorStore.build_vector_index``)."""
        build, search = self._split(params)
        search = kind_search_params(self.kind, search)  # checked before the (long) build
        done = index.store.build_vector_index(VIDEOS, self.kind, build, progress)
        out = {**done["build"], **search}
        for key in INFO_KEYS:
            if key in done:
                out[key] = done[key]
        return out

    # searching -----------------------------------------------------------------------------
    def search(
        self,
        index: Index,
        queries: np.ndarray,
        k: int,
        cats: frozenset[int] | None,
        splits: frozenset[str] | None,
        params: Mapping[str, Any],
    ) -> list[list[Hit]]:
        """Top-``k`` hits per query from the store's index, ``cats``/``splits`` as
        pre-filters; ``params``: per-query search parameters over the stored ones."""
        stored = (index.metadata.get(META_KEY) or {}).get("params") or {}
        given = {k_: v for k_, v in params.items() if k_ in self.spec.search}
        unknown = sorted(
            set(params) - set(self.spec.search) - set(self.spec.build) - set(INFO_KEYS)
        )
        if unknown:
            raise InvalidAnnParamsError(
                f"unknown search parameter(s) {', '.join(unknown)} for {self.kind}; "
                f"expected: {', '.join(self.spec.search)}"
            )
        stored_search = {k_: v for k_, v in stored.items() if k_ in self.spec.search}
        ann = kind_search_params(self.kind, {**stored_search, **given})
        ann = {k_: v for k_, v in ann.items() if v is not None}
        where = Filter.where(
            category=None if cats is None else sorted(cats),
            split=None if splits is None else sorted(splits),
        )
        names = index.category_map
        out: list[list[Hit]] = []
        for q in np.asarray(queries, dtype=np.float32).reshape(len(queries), -1):
            rows = index.store.search(
                VIDEOS, q, int(k), where, columns=["video_id", "category"], ann=ann
            )
            out.append(
                [
                    Hit(
                        i + 1,
                        r["video_id"],
                        float(r["_score"]),
                        int(r["category"]),
                        names.name(int(r["category"])),
                    )
                    for i, r in enumerate(rows.to_pylist())
                ]
            )
        return out


#: One backend per store kind.
STORE_KINDS: dict[str, StoreAnnBackend] = {kind: StoreAnnBackend(kind) for kind in KINDS}


def _register() -> None:
    """Add the store kinds to the ANN registry of :mod:`.ann`."""
    from .ann import register_backend

    for backend in STORE_KINDS.values():
        register_backend(backend)


_register()

__all__ = ["STORE_KINDS", "StoreAnnBackend"]
