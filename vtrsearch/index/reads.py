"""Reading an :class:`vtrsearch.Index`: its gallery, counts, videos and captions."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..categories import Category, CategoryMap
from ..filters import Filter
from ..results import Video
from ..stores.uri import cache_dir
from .captions import caption_order_key, first_caption_per_video
from .gallery import Gallery
from .gallery_loader import open_gallery, table_versions
from .schema import CAPTIONS, VIDEOS, vectors_from_column

if TYPE_CHECKING:
    from ..stores import VectorStore


class ReadsMixin:
    """The read side of :class:`vtrsearch.Index` (the in-memory gallery and the records)."""

    store: VectorStore
    dim: int
    category_map: CategoryMap
    refresh_interval: float
    searches_on_store: bool
    _matrix: Gallery | None
    _precision: str
    _meta: dict[str, Any]
    _matrix_version: Any
    _checked_at: float
    _first_caps: dict[str, str] | None
    _first_caps_version: Any
    _first_caps_checked: float

    def _get_matrix(self) -> Gallery:
        now = time.monotonic()
        if self._matrix is not None and now - self._checked_at < self.refresh_interval:
            return self._matrix
        version = table_versions(self.store)
        self._checked_at = now
        if self._matrix is None or version != self._matrix_version:
            cache = cache_dir(self.store.uri)
            # the creation time tells a re-created index (versions restart) from the old one
            key = [version, self._meta.get("created")]
            self._matrix = open_gallery(self.store, self.dim, self._precision, cache, key)
            self._matrix_version = version
        return self._matrix

    def gallery(self) -> Gallery:
        """The in-memory gallery: ids, vectors, categories and splits, row-aligned.

        Reloaded from the store when the videos table changed; treat it as read-only.
        """
        return self._get_matrix()

    @property
    def precision(self) -> str:
        """What searches score in: ``float32``, ``float16`` or ``int8`` (candidates re-scored
        in float32), or ``"store"`` when searches run on the store's engine."""
        if self.searches_on_store:
            return "store"
        return self._get_matrix().precision

    def refresh(self) -> None:
        """Reload the in-memory matrix now if the store changed (no-op when searches run on
        the store, which always sees its latest writes)."""
        self._checked_at = 0.0
        if not self.searches_on_store:
            self._get_matrix()

    def __len__(self) -> int:
        if self.searches_on_store:
            return self.store.count(VIDEOS)
        return len(self._get_matrix())

    def __contains__(self, video_id: object) -> bool:
        if self.searches_on_store:
            return self._store_contains(str(video_id))
        return self._get_matrix().row(str(video_id)) is not None

    def categories(self) -> list[Category]:
        """The index's categories with the number of videos in each."""
        if self.searches_on_store:
            count = self._store_category_counts()
        else:
            values, counts = np.unique(self._get_matrix().category, return_counts=True)
            count = dict(zip(values.tolist(), counts.tolist(), strict=True))
        return [Category(cid, name, count.get(cid, 0)) for cid, name in self.category_map.items()]

    def splits(self) -> dict[str, int]:
        """Split name -> number of videos."""
        if self.searches_on_store:
            return self._store_splits()
        return dict(self._get_matrix().split_counts())

    def get(self, video_id: str) -> Video | None:
        """The stored video ``video_id`` with its captions, or ``None``."""
        rows = self.store.scan(VIDEOS, where=Filter.where(video_id=str(video_id)))
        if rows.num_rows == 0:
            return None
        row = rows.slice(0, 1).to_pylist()[0]
        return Video(
            video_id=row["video_id"],
            category=row["category"],
            category_name=row["category_name"],
            split=row["split"] or "",
            start=row["start"],
            end=row["end"],
            url=row["url"],
            vector=vectors_from_column(rows["vector"].slice(0, 1), self.dim)[0],
            captions=tuple(self.captions(video_id)),
        )

    def captions(self, video_id: str) -> list[str]:
        """Caption texts of ``video_id`` in ``sen_id`` order (:func:`caption_order_key`)."""
        rows = self.store.scan(
            CAPTIONS, columns=["sen_id", "text"], where=Filter.where(video_id=str(video_id))
        )
        pairs = zip(rows["sen_id"].to_pylist(), rows["text"].to_pylist(), strict=True)
        return [text for _, text in sorted(pairs, key=lambda p: caption_order_key(p[0]))]

    def first_captions(self, video_ids: Iterable[str]) -> dict[str, str]:
        """video id -> its first caption (same order as :meth:`captions`); videos without
        captions are absent.

        Answered from an in-memory map of every video's first caption, rebuilt when the
        captions table changed (this handle's writes at once, other processes' within
        :attr:`refresh_interval`), so a search shows one caption per hit without a store scan
        (a filtered scan per search cost ~6 ms at 10k videos, more than the search itself).
        """
        now = time.monotonic()
        if self._first_caps is None or now - self._first_caps_checked >= self.refresh_interval:
            version = self.store.version(CAPTIONS)
            self._first_caps_checked = now
            if self._first_caps is None or version != self._first_caps_version:
                rows = self.store.scan(CAPTIONS, columns=["sen_id", "video_id", "text"])
                self._first_caps = first_caption_per_video(
                    rows["sen_id"].to_pylist(),
                    rows["video_id"].to_pylist(),
                    rows["text"].to_pylist(),
                )
                self._first_caps_version = version
        caps = self._first_caps
        return {v: caps[v] for v in (str(x) for x in video_ids) if v in caps}

    def caption_table(self, columns: Sequence[str] | None = None) -> pa.Table:
        """Every caption row (``sen_id``, ``video_id``, ``text``)."""
        return self.store.scan(CAPTIONS, columns=columns)
