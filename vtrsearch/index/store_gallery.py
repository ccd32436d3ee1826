"""Searching on the store's own engine instead of the in-memory gallery.

By default an :class:`~vtrsearch.Index` loads its videos (and segments) into one matrix and
searches it exactly in memory. When that matrix would not fit the client's RAM, or when
asked (``Index.open(uri, gallery="store")``), every search goes to the store's engine instead:
a Qdrant server or cluster (HNSW, sharded, replicated), the embedded Qdrant engine, or LanceDB.
Nothing then needs the whole gallery on the client:

* videos: ``store.search`` with the category/split filter as a typed store filter;
* moments: ``store.search_groups`` on the segments (Qdrant: ``query_points_groups``, grouped
  by ``video_id``), so at most ``per_video`` segments per video come back; the ``k`` best
  moments under that cap always lie in the ``k`` best groups;
* MaxSim (``pool="max"``): the best segment of each video by the same grouped search, and
  videos without segments by their pooled vector, merged by score.

A category/split filter on moments is applied through the ids of the videos it keeps
(segments carry only ``video_id``), so a broad filter over millions of videos sends a large
id list. Scores and results equal the in-memory ones when the engine searches exactly
(LanceDB without a vector index, qdrant-edge before ``optimize``, ``exact=True``); with HNSW
they are approximate. Ties may come in another order than the in-memory gallery's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import NoSegmentsError
from ..filters import Filter
from ..results import Hit, Moment
from .schema import SEGMENTS, VIDEOS

if TYPE_CHECKING:
    from ..categories import CategoryMap
    from ..stores import VectorStore

GALLERY_MODES = ("auto", "memory", "store")
_ID_CHUNK = 1000  # video ids per filter when looking rows up by id


def default_gallery_budget() -> int:
    """Bytes of vectors the in-memory gallery may take in ``"auto"`` mode: a quarter of RAM."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        total = 16 << 30
    return int(total) // 4


class StoreGalleryMixin:
    """Store-side search, mixed into :class:`vtrsearch.Index`."""

    store: VectorStore
    dim: int
    category_map: CategoryMap
    _gallery_mode: str
    _gallery_budget: int | None
    _on_store: bool | None

    def _init_gallery_mode(self, gallery: str, budget: int | None) -> None:
        if gallery not in GALLERY_MODES:
            raise ValueError(f"gallery must be one of {', '.join(GALLERY_MODES)}, got {gallery!r}")
        if budget is not None and int(budget) < 0:
            raise ValueError(f"gallery_budget must be >= 0 bytes, got {budget}")
        self._gallery_mode = gallery
        self._gallery_budget = None if budget is None else int(budget)
        self._on_store = None if gallery == "auto" else gallery == "store"

    @property
    def searches_on_store(self) -> bool:
        """Whether searches go to the store's engine (``gallery="store"``, or ``"auto"`` with a
        gallery larger than the budget) instead of the in-memory gallery.

        ``"auto"`` decides once per handle, at its first use (two row counts).
        """
        if self._on_store is None:
            rows = self.store.count(VIDEOS)
            if self.store.has_table(SEGMENTS):
                rows += self.store.count(SEGMENTS)
            budget = self._gallery_budget
            budget = default_gallery_budget() if budget is None else budget
            self._on_store = rows * self.dim * 4 > budget
        return self._on_store

    # counts without the gallery --------------------------------------------------------------
    def _store_contains(self, video_id: str) -> bool:
        return self.store.count(VIDEOS, Filter.where(video_id=video_id)) > 0

    def _store_category_counts(self) -> dict[int, int]:
        return {
            cid: self.store.count(VIDEOS, Filter.where(category=cid))
            for cid, _ in self.category_map.items()
        }

    def _store_splits(self) -> dict[str, int]:
        values = self.store.scan(VIDEOS, columns=["split"])["split"].to_pylist()
        names, counts = np.unique(
            np.array([v or "" for v in values], dtype=object).astype(str), return_counts=True
        )
        return {str(n): int(c) for n, c in zip(names, counts, strict=True)}

    def _store_unknown_splits(self, splits: frozenset[str]) -> list[str]:
        return sorted(s for s in splits if self.store.count(VIDEOS, Filter.where(split=s)) == 0)

    # searching ---------------------------------------------------------------------------------
    @staticmethod
    def _where(cats: frozenset[int] | None, splits: frozenset[str] | None) -> Filter:
        return Filter.where(
            category=None if cats is None else sorted(cats),
            split=None if splits is None else sorted(splits),
        )

    def _has_segments_on_store(self) -> bool:
        return self.store.has_table(SEGMENTS) and self.store.count(SEGMENTS) > 0

    def _segment_filter(
        self, cats: Any, splits: Any, video_ids: frozenset[str] | None = None
    ) -> Filter | None:
        """The segments of the videos the filters keep (``None``: all segments)."""
        if cats is None and splits is None:
            return None if video_ids is None else Filter.where(video_id=sorted(video_ids))
        rows = self.store.scan(VIDEOS, columns=["video_id"], where=self._where(cats, splits))
        kept = set(rows["video_id"].to_pylist())
        return Filter.where(video_id=sorted(kept if video_ids is None else kept & video_ids))

    def _video_categories(self, video_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        wanted = sorted(set(video_ids))
        for start in range(0, len(wanted), _ID_CHUNK):
            rows = self.store.scan(
                VIDEOS,
                columns=["video_id", "category"],
                where=Filter.where(video_id=wanted[start : start + _ID_CHUNK]),
            )
            found.update(
                zip(rows["video_id"].to_pylist(), rows["category"].to_pylist(), strict=True)
            )
        return found

    def _best_moments(self, q: np.ndarray, video_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The best segment of each of ``video_ids`` that has segments."""
        if not video_ids or not self.store.has_table(SEGMENTS):
            return {}
        rows = self.store.search_groups(
            SEGMENTS,
            q,
            len(video_ids),
            "video_id",
            1,
            Filter.where(video_id=video_ids),
            columns=["video_id", "segment", "start", "end"],
        )
        return {
            r["video_id"]: {"segment": int(r["segment"]), "start": r["start"], "end": r["end"]}
            for r in rows.to_pylist()
        }

    def _store_search(self, q: np.ndarray, k: int, cats: Any, splits: Any, pool: str) -> list[Hit]:
        k = min(k, self.store.count(VIDEOS))  # a store takes a bounded limit (huge k: all)
        if k == 0:
            return []
        where = self._where(cats, splits)
        if pool == "max":
            scored = self._store_maxsim(q, k, cats, splits)
        else:
            rows = self.store.search(VIDEOS, q, k, where, columns=["video_id", "category"])
            scored = [
                (r["video_id"], float(r["_score"]), int(r["category"])) for r in rows.to_pylist()
            ]
        moments = self._best_moments(q, [v for v, _, _ in scored])
        cmap = self.category_map
        return [
            Hit(
                rank=i + 1,
                video_id=vid,
                score=score,
                category=cat,
                category_name=cmap.name(cat),
                **moments.get(vid, {}),
            )
            for i, (vid, score, cat) in enumerate(scored)
        ]

    def _store_maxsim(self, q: np.ndarray, k: int, cats: Any, splits: Any) -> list[tuple]:
        """Videos by their best segment (videos without segments by their pooled vector)."""
        if not self._has_segments_on_store():
            self._no_segments()
        seg_where = self._segment_filter(cats, splits)
        best = self.store.search_groups(
            SEGMENTS, q, k, "video_id", 1, seg_where, columns=["video_id"]
        )
        scores = dict(zip(best["video_id"].to_pylist(), best["_score"].to_pylist(), strict=True))
        cutoff = sorted(scores.values(), reverse=True)[k - 1] if len(scores) >= k else -np.inf
        where = self._where(cats, splits)
        total = self.store.count(VIDEOS, where)
        limit = max(1, k) * 2
        pooled: dict[str, tuple[float, int]] = {}
        while True:  # videos without segments, best pooled score first, down to the cutoff
            rows = self.store.search(VIDEOS, q, min(limit, total), where, ["video_id", "category"])
            ids = rows["video_id"].to_pylist()
            with_segments = set()
            for start in range(0, len(ids), _ID_CHUNK):
                part = Filter.where(video_id=ids[start : start + _ID_CHUNK])
                segs = self.store.scan(SEGMENTS, columns=["video_id"], where=part)
                with_segments.update(segs["video_id"].to_pylist())
            for r in rows.to_pylist():
                if r["video_id"] not in with_segments:
                    pooled[r["video_id"]] = (float(r["_score"]), int(r["category"]))
            last = float(rows["_score"][-1].as_py()) if rows.num_rows else -np.inf
            if limit >= total or last < cutoff:
                break
            limit *= 4
        categories = self._video_categories(list(scores))
        merged = [(v, float(s), int(categories[v])) for v, s in scores.items() if v in categories]
        merged += [(v, s, c) for v, (s, c) in pooled.items()]
        merged.sort(key=lambda t: -t[1])
        return merged[:k]

    @staticmethod
    def _no_segments() -> None:
        raise NoSegmentsError(
            "this index has no segments: MaxSim pooling and moment search need per-segment "
            "vectors (ingest frame-level features or `vtrsearch ingest frames --segments`)"
        )

    def _store_moments(
        self,
        q: np.ndarray,
        k: int,
        per_video: int,
        cats: Any,
        splits: Any,
        video_ids: frozenset[str] | None = None,
    ) -> list[Moment]:
        if not self._has_segments_on_store():
            self._no_segments()
        where = self._segment_filter(cats, splits, video_ids)
        if where is not None and not any(c.values for c in where.conditions):
            return []  # the filters keep no video
        rows = self.store.search_groups(
            SEGMENTS,
            q,
            k,
            "video_id",
            per_video,
            where,
            columns=["video_id", "segment", "start", "end"],
        )
        ranked = sorted(rows.to_pylist(), key=lambda r: -r["_score"])
        categories = self._video_categories([r["video_id"] for r in ranked])
        found = [r for r in ranked if r["video_id"] in categories][:k]  # orphans dropped
        cmap = self.category_map
        return [
            Moment(
                rank=i + 1,
                video_id=r["video_id"],
                segment=int(r["segment"]),
                start=float(r["start"]),
                end=float(r["end"]),
                score=float(r["_score"]),
                category=int(categories[r["video_id"]]),
                category_name=cmap.name(int(categories[r["video_id"]])),
            )
            for i, r in enumerate(found)
        ]
