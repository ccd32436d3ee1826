"""Writing an :class:`vtrsearch.Index`: videos and captions added (upserts) and videos deleted.

Every write goes through :meth:`WritesMixin._write`: slices of ``batch_size`` rows, each
upserted under the store's write lock, so concurrent writers take turns per slice and a
rerun after a kill upserts the same keys again instead of duplicating rows. A stream of
batches (:mod:`.bulk`) is validated and committed batch by batch. Each write forgets the
in-memory gallery, which the next read reloads from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..filters import Filter
from .bulk import DEFAULT_BATCH_ROWS, Progress, is_stream, progress_reporter, write_stream
from .caption_times import caption_time_rows
from .rows import caption_rows, check_ids, video_rows
from .schema import CAPTION_KEY, CAPTIONS, SEGMENTS, VIDEO_KEY, VIDEOS

if TYPE_CHECKING:
    from ..categories import CategoryMap
    from ..stores import VectorStore
    from .gallery import Gallery

ProgressFn = Callable[[int, int], None]


class WritesMixin:
    """The write side of :class:`vtrsearch.Index`."""

    store: VectorStore
    dim: int
    category_map: CategoryMap
    _matrix: Gallery | None
    _first_caps: dict[str, str] | None

    if TYPE_CHECKING:  # provided by CaptionTimesMixin (no runtime stubs: they would shadow it)

        def _write_caption_times(
            self, times: pa.Table | None, untimed: Sequence[str], batch_size: int
        ) -> None: ...

        def _delete_caption_times(self, video_ids: tuple[str, ...]) -> None: ...

    def add_videos(
        self,
        data: Any = None,
        vectors: np.ndarray | None = None,
        *,
        categories: Sequence[int | str] | None = None,
        splits: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_ROWS,
        progress: Progress = None,
        total: int | None = None,
    ) -> int:
        """Add or replace videos (upsert on ``video_id``).

        Either ``add_videos(frame)`` with a pandas DataFrame / Arrow table holding
        ``video_id``, ``category`` (id or name), ``vector`` and optional ``split``,
        ``start``, ``end``, ``url``; or ``add_videos(ids, vectors, categories=..., splits=...)``;
        or ``add_videos(batches)`` with an iterable of such frames (or record batches, or a
        ``pyarrow.RecordBatchReader``). Vectors are L2-normalised.

        One table is validated whole before anything is written. A stream is validated and
        written batch by batch (flat memory): a bad row in batch ``i`` raises an error naming
        the batch, its rows and the video, after batches ``1 .. i-1`` were committed and
        before anything of batch ``i`` is (rerunning the stream converges: upserts).

        Args:
            batch_size: rows per store commit (few large commits append fastest).
            progress: a ``(done, total)`` callback, or ``True`` for a progress bar.
            total: rows a stream will bring, for the progress bar (0 is passed when unknown).

        Returns:
            The number of rows written.
        """
        if vectors is None and is_stream(data):
            if categories is not None or splits is not None:
                raise TypeError("a stream of batches carries categories and splits as columns")
            rows = partial(video_rows, vectors=None, dim=self.dim, cmap=self.category_map)
            return self._write_stream(VIDEOS, data, rows, VIDEO_KEY, batch_size, progress, total)
        table = video_rows(data, vectors, self.dim, self.category_map, categories, splits)
        with progress_reporter(progress, table.num_rows, "adding videos") as report:
            written = self._write(VIDEOS, table, VIDEO_KEY, batch_size, report)
        self._invalidate()
        return written

    def add_captions(
        self,
        data: Any = None,
        video_ids: Sequence[str] | None = None,
        texts: Sequence[str] | None = None,
        *,
        starts: Sequence[float | None] | None = None,
        ends: Sequence[float | None] | None = None,
        batch_size: int = 20000,
        progress: ProgressFn | None = None,
    ) -> int:
        """Add or replace captions (upsert on ``sen_id``).

        Either a DataFrame / Arrow table with ``sen_id``, ``video_id``, ``text`` (or
        ``caption``) and optional ``start``/``end``, or three sequences ``(sen_ids,
        video_ids, texts)`` with optional ``starts``/``ends``. Every ``video_id`` must already
        be in the index. A caption with a start and end (seconds, ``0 <= start < end``)
        describes that moment of its video (kept in the ``caption_times`` table, see
        :mod:`vtrsearch.index.caption_times`); ``None`` for both means the whole video.
        """
        table = caption_rows(data, video_ids, texts)
        times, untimed = caption_time_rows(table, data if video_ids is None else None, starts, ends)
        missing = self._missing_videos(set(table["video_id"].to_pylist()))
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise ValueError(f"{len(missing)} caption(s) refer to videos not in the index: {shown}")
        written = self._write(CAPTIONS, table, CAPTION_KEY, batch_size, progress)
        self._write_caption_times(times, untimed, batch_size)
        self._first_caps = None
        return written

    def delete_videos(self, video_ids: str | Iterable[str]) -> None:
        """Delete videos with their captions and segments (one id or an iterable of ids)."""
        if isinstance(video_ids, (bytes, bytearray)):
            raise TypeError("delete_videos takes a video id (str) or an iterable of ids, not bytes")
        single = isinstance(video_ids, str)
        ids = tuple(check_ids([video_ids] if single else list(video_ids), "video ids"))
        if not ids:
            return
        self.store.delete(CAPTIONS, Filter.where(video_id=ids))
        self._delete_caption_times(ids)
        if self.store.has_table(SEGMENTS):
            self.store.delete(SEGMENTS, Filter.where(video_id=ids))
        self.store.delete(VIDEOS, Filter.where(video_id=ids))
        self._invalidate()

    def _invalidate(self) -> None:
        """Forget the gallery after a write: the next read reloads it from the store."""
        self._matrix = None
        self._first_caps = None

    def _missing_videos(self, video_ids: Iterable[str]) -> list[str]:
        """Which of ``video_ids`` are not stored, asked of the store (not the cached gallery),
        so a video another handle just added counts as present."""
        wanted = sorted(set(video_ids))
        if len(wanted) > 5000 and self.store.count(VIDEOS) <= 50 * len(wanted):
            # a bulk batch: one read of the id column beats a hundred filtered reads
            stored = self.store.scan(VIDEOS, columns=["video_id"])["video_id"]
            hit = pc.is_in(stored, value_set=pa.array(wanted, pa.string()))
            present = set(stored.filter(hit).to_pylist())
            return [v for v in wanted if v not in present]
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = tuple(wanted[start : start + 500])
            rows = self.store.scan(VIDEOS, columns=["video_id"], where=Filter.where(video_id=chunk))
            found.update(rows["video_id"].to_pylist())
        return [v for v in wanted if v not in found]

    def _write(
        self, name: str, table: pa.Table, key: str, batch_size: int, progress: ProgressFn | None
    ) -> int:
        total = table.num_rows
        done = 0
        step = max(1, int(batch_size))
        for start in range(0, total, step):
            with self.store.write_lock():
                done += self.store.upsert(name, table.slice(start, step), key)
            if progress is not None:
                progress(done, total)
        return done

    def _write_stream(
        self,
        name: str,
        data: Any,
        validate: Callable[[Any], pa.Table],
        key: str,
        batch_size: int,
        progress: Progress,
        total: int | None,
    ) -> int:
        """Write a stream of batches (see :mod:`.bulk`), forgetting the gallery even when a
        batch fails after others were committed."""
        try:
            with progress_reporter(progress, total or 0, f"adding {name}") as report:
                return write_stream(
                    data,
                    validate,
                    lambda rows: self._write(name, rows, key, batch_size, None),
                    lambda done: report(done, total or 0),
                )
        finally:
            self._invalidate()
