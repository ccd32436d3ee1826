"""Searching an :class:`vtrsearch.Index`: filters, query vectors, top-k and hits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..categories import CategoryMap
from ..errors import UnknownSplitError
from ..filters import Filter
from ..results import Hit
from .gallery import POOLS, Gallery
from .query_checks import check_k, unit_queries, unit_query
from .schema import VIDEOS

if TYPE_CHECKING:
    from ..stores import VectorStore


class SearchMixin:
    """Video search for :class:`vtrsearch.Index` (moments live in :mod:`.moments`)."""

    store: VectorStore
    dim: int
    category_map: CategoryMap
    searches_on_store: bool
    _ann_route: Any
    _ann_search: Any

    def _resolve_filters(
        self, categories: Any, split: str | Sequence[str] | None
    ) -> tuple[frozenset[int] | None, frozenset[str] | None]:
        cats = None if categories is None else self.category_map.resolve_many(categories)
        splits = None
        if split is not None:
            splits = frozenset([split] if isinstance(split, str) else [str(s) for s in split])
            if self.searches_on_store:
                unknown = self._store_unknown_splits(splits)
                known = self.splits() if unknown else {}
            else:
                known = self.splits()
                unknown = sorted(splits - set(known))
            if unknown:
                raise UnknownSplitError(
                    f"unknown split {', '.join(map(repr, unknown))}; "
                    f"the index has: {', '.join(map(repr, sorted(known))) or 'no videos'}"
                )
        return cats, splits

    def query_vector(self, query: str | np.ndarray) -> np.ndarray:
        """A normalised float32 query vector from a vector (or, with an encoder, a text).

        Raises:
            InvalidVectorError: the vector holds NaN/inf or is all zeros.
        """
        if isinstance(query, str):
            return self._encode_text(query)
        return unit_query(query, self.dim)

    def _hits(
        self, rows: np.ndarray, scores: np.ndarray, m: Gallery, query: np.ndarray | None = None
    ) -> list[Hit]:
        """Hits for gallery ``rows``; with segments, each carries its best moment for ``query``."""
        cmap, block = self.category_map, m.segments
        hits = []
        for i, (r, s) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True)):
            moment: dict[str, Any] = {}
            if block is not None and query is not None:
                best = block.best_in_video(query, r)
                if best is not None:
                    moment = {
                        "segment": int(block.segment[best]),
                        "start": float(block.start[best]),
                        "end": float(block.end[best]),
                    }
            hits.append(
                Hit(
                    rank=i + 1,
                    video_id=m.id_at(r),
                    score=float(s),
                    category=int(m.category[r]),
                    category_name=cmap.name(int(m.category[r])),
                    **moment,
                )
            )
        return hits

    @staticmethod
    def _check_pool(pool: str) -> str:
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
        return pool

    def search(
        self,
        query: str | np.ndarray,
        k: int = 10,
        categories: int | str | Iterable[int | str] | None = None,
        split: str | Sequence[str] | None = None,
        *,
        pool: str = "mean",
        mode: str = "auto",
        ann_params: Mapping[str, Any] | None = None,
    ) -> list[Hit]:
        """The ``k`` videos most similar to ``query`` (exact inner product).

        Args:
            query: a vector of the index's dimension, or a text (encoded by the index's query
                encoder, through the head set with :meth:`use_head` if any).
            k: number of results.
            categories: category ids or names to restrict to.
            split: split name(s) to restrict to.
            pool: ``"mean"`` scores a video by its pooled vector; ``"max"`` by its best segment
                (MaxSim; needs segments). With segments, every hit names its best moment.
            mode: ``"exact"``, ``"ann"`` (the index built by :meth:`build_ann`; an error when
                there is none) or ``"auto"`` (exact below 200k videos or without an ANN index;
                see :mod:`vtrsearch.index.ann`). ANN covers ``pool="mean"``; ``"max"`` is exact.
            ann_params: per-query ANN overrides, e.g. ``{"nprobe": 64, "rescore": 4}``.
        """
        self._check_pool(pool)
        k = check_k(k)
        route = self._ann_route(mode, pool)
        cats, splits = self._resolve_filters(categories, split)
        q = self.query_vector(query)
        if route is not None:
            found = self._ann_search(
                route, q[None, :], k, cats, splits, ann_params, auto=mode == "auto"
            )
            if found is not None:
                return found[0]
        if self.searches_on_store:
            return self._store_search(q, k, cats, splits, pool)
        m = self._get_matrix()
        rows, scores = m.top_k(q, k, m.rows(cats, splits), pool=pool)
        return self._hits(rows, scores, m, q)

    def search_many(
        self,
        queries: np.ndarray | Sequence[str],
        k: int = 10,
        categories: int | str | Iterable[int | str] | None = None,
        split: str | Sequence[str] | None = None,
        *,
        pool: str = "mean",
        mode: str = "auto",
        ann_params: Mapping[str, Any] | None = None,
    ) -> list[list[Hit]]:
        """:meth:`search` for each row of a (n, dim) query matrix (or each text), in one batch."""
        self._check_pool(pool)
        k = check_k(k)
        route = self._ann_route(mode, pool)
        cats, splits = self._resolve_filters(categories, split)
        if len(queries) and isinstance(queries[0], str):
            queries = self.query_encoder.encode(list(queries))
        mat = unit_queries(queries, self.dim)
        if route is not None:
            found = self._ann_search(route, mat, k, cats, splits, ann_params, auto=mode == "auto")
            if found is not None:
                return found
        if self.searches_on_store:
            return [self._store_search(q, k, cats, splits, pool) for q in mat]
        m = self._get_matrix()
        results = m.top_k_many(mat, k, m.rows(cats, splits), pool=pool)
        return [self._hits(rows, scores, m, mat[i]) for i, (rows, scores) in enumerate(results)]

    def search_store(
        self,
        query: str | np.ndarray,
        k: int = 10,
        categories: int | str | Iterable[int | str] | None = None,
        split: str | Sequence[str] | None = None,
    ) -> list[Hit]:
        """Like :meth:`search`, but answered by the store's own engine (ANN where it has one)."""
        # the store takes a bounded limit, and no more rows than it holds can come back
        k = min(check_k(k), self.store.count(VIDEOS))
        cats, splits = self._resolve_filters(categories, split)
        q = self.query_vector(query)
        if k == 0:  # an empty index
            return []
        where = Filter.where(
            category=None if cats is None else sorted(cats),
            split=None if splits is None else sorted(splits),
        )
        rows = self.store.search(VIDEOS, q, k, where, columns=["video_id", "category"])
        return [
            Hit(
                i + 1,
                r["video_id"],
                float(r["_score"]),
                int(r["category"]),
                self.category_map.name(int(r["category"])),
            )
            for i, r in enumerate(rows.to_pylist())
        ]
