"""Segments of :class:`vtrsearch.Index`: writing them, reading them and moment search."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..errors import InvalidSegmentError
from ..filters import Filter
from ..results import Moment, Segment
from .ann import check_mode
from .bulk import DEFAULT_BATCH_ROWS, Progress, is_stream, progress_reporter, write_stream
from .query_checks import check_k
from .schema import PAYLOAD_INDEXES, SEGMENT_KEY, SEGMENTS, segments_schema, vectors_from_column
from .segment_rows import check_no_overlap, segment_rows

if TYPE_CHECKING:
    from ..stores import VectorStore
    from .gallery import Gallery

ProgressFn = Callable[[int, int], None]


class MomentsMixin:
    """Segment writing, reading and moment search, mixed into :class:`vtrsearch.Index`."""

    store: VectorStore
    dim: int

    # provided by Index
    def gallery(self) -> Gallery:
        raise NotImplementedError

    def _resolve_filters(self, categories: Any, split: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def query_vector(self, query: str | np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _write(self, name: str, table: pa.Table, key: str, batch_size: int, progress: Any) -> int:
        raise NotImplementedError

    def _missing_videos(self, video_ids: Iterable[str]) -> list[str]:
        raise NotImplementedError

    def _invalidate(self) -> None:
        raise NotImplementedError

    searches_on_store: bool  # provided by StoreGalleryMixin

    def _has_segments_on_store(self) -> bool:
        raise NotImplementedError

    def _store_moments(
        self, q: Any, k: int, per_video: int, cats: Any, splits: Any, video_ids: Any = None
    ) -> Any:
        raise NotImplementedError

    # writing -------------------------------------------------------------------------------
    def _ensure_segments_table(self) -> None:
        if not self.store.has_table(SEGMENTS):
            self.store.create_table(
                SEGMENTS, segments_schema(self.dim), SEGMENT_KEY, indexed=PAYLOAD_INDEXES[SEGMENTS]
            )

    def add_segments(
        self,
        data: Any = None,
        starts: Sequence[float] | None = None,
        ends: Sequence[float] | None = None,
        vectors: Any = None,
        *,
        segments: Sequence[int] | None = None,
        thumbnails: Sequence[bytes | None] | None = None,
        replace: bool = False,
        batch_size: int = DEFAULT_BATCH_ROWS,
        progress: Progress = None,
        total: int | None = None,
    ) -> int:
        """Add or replace segments of stored videos (upsert on ``(video_id, segment)``).

        Either ``add_segments(frame)`` with a DataFrame / Arrow table holding ``video_id``,
        ``start``, ``end`` (seconds), ``vector`` and optional ``segment`` (number) and
        ``thumbnail`` (JPEG bytes), or ``add_segments(video_ids, starts, ends, vectors,
        segments=..., thumbnails=...)``, or ``add_segments(batches)`` with an iterable of such
        frames (or record batches, or a ``pyarrow.RecordBatchReader``). Without segment
        numbers each video's segments are numbered 0, 1, ... in order of start time.

        Everything is validated before anything is written: the videos must be stored,
        ``0 <= start < end``, finite values, the index's dimension, and no two segments of one
        video may overlap (including stored segments that this batch does not replace).
        ``replace=True`` first deletes every stored segment of the batch's videos (use it to
        re-segment a video). The video's pooled vector is not changed.

        A stream is validated and written batch by batch (flat memory; give a video's
        segments numbers when they span batches): a bad row in batch ``i`` raises an error
        naming the batch and the video after batches ``1 .. i-1`` were committed. With
        ``replace=True`` a video's stored segments are deleted once, before its first batch.

        Args:
            batch_size: rows per store commit.
            progress: a ``(done, total)`` callback, or ``True`` for a progress bar.
            total: rows a stream will bring, for the progress bar (0 is passed when unknown).

        Returns:
            The number of rows written.
        """
        if starts is None and ends is None and vectors is None and is_stream(data):
            if segments is not None or thumbnails is not None:
                raise TypeError("a stream of batches carries segments and thumbnails as columns")
            replaced: set[str] = set()
            with progress_reporter(progress, total or 0, "adding segments") as report:
                try:
                    return write_stream(
                        data,
                        lambda batch: self._checked_segments(
                            segment_rows(batch, None, None, None, self.dim), replace, replaced
                        ),
                        lambda rows: self._write(SEGMENTS, rows, SEGMENT_KEY, batch_size, None),
                        lambda done: report(done, total or 0),
                    )
                finally:
                    self._invalidate()
        table = segment_rows(
            data, starts, ends, vectors, self.dim, segments=segments, thumbnails=thumbnails
        )
        table = self._checked_segments(table, replace, set())
        if table.num_rows == 0:
            return 0
        with progress_reporter(progress, table.num_rows, "adding segments") as report:
            written = self._write(SEGMENTS, table, SEGMENT_KEY, batch_size, report)
        self._invalidate()
        return written

    def _checked_segments(self, table: pa.Table, replace: bool, replaced: set[str]) -> pa.Table:
        """Validated segment rows of one batch, checked against the store; with ``replace``,
        the stored segments of its videos not in ``replaced`` yet are deleted (and added)."""
        if table.num_rows == 0:
            return table
        videos = sorted(set(table["video_id"].to_pylist()))
        missing = self._missing_videos(videos)
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise InvalidSegmentError(
                f"{len(missing)} video(s) of these segments are not in the index: {shown}"
            )
        self._ensure_segments_table()
        if replace:
            new = tuple(v for v in videos if v not in replaced)
            for start in range(0, len(new), 500):
                self.store.delete(SEGMENTS, Filter.where(video_id=new[start : start + 500]))
            replaced.update(new)
        if not replace or len(new) < len(videos):
            self._check_against_stored(table, videos)
        return table

    def delete_segments(self, video_ids: str | Iterable[str]) -> None:
        """Delete every stored segment of these videos; the videos themselves stay."""
        ids = (video_ids,) if isinstance(video_ids, str) else tuple(str(v) for v in video_ids)
        if not ids or not self.store.has_table(SEGMENTS):
            return
        with self.store.write_lock():
            for start in range(0, len(ids), 500):
                self.store.delete(SEGMENTS, Filter.where(video_id=ids[start : start + 500]))
        self._invalidate()

    def _check_against_stored(self, table: pa.Table, videos: list[str]) -> None:
        stored = self.store.scan(
            SEGMENTS,
            columns=[SEGMENT_KEY, "video_id", "segment", "start", "end"],
            where=Filter.where(video_id=tuple(videos)),
        )
        if stored.num_rows == 0:
            return
        new_keys = set(table[SEGMENT_KEY].to_pylist())
        kept = [i for i, k in enumerate(stored[SEGMENT_KEY].to_pylist()) if k not in new_keys]
        if not kept:
            return
        old = stored.take(kept)
        ids = table["video_id"].to_pylist() + old["video_id"].to_pylist()
        seg = np.concatenate([table["segment"].to_numpy(), old["segment"].to_numpy()])
        start = np.concatenate([table["start"].to_numpy(), old["start"].to_numpy()])
        end = np.concatenate([table["end"].to_numpy(), old["end"].to_numpy()])
        try:
            check_no_overlap(ids, seg, start, end)
        except InvalidSegmentError as exc:
            raise InvalidSegmentError(
                f"{exc} (with the segments already stored; pass replace=True to re-segment)"
            ) from None

    # reading -------------------------------------------------------------------------------
    def has_segments(self) -> bool:
        """Whether any video of the index has segments."""
        if self.searches_on_store:
            return self._has_segments_on_store()
        block = self.gallery().segments
        return block is not None and len(block) > 0

    def segments(self, video_id: str, *, vectors: bool = True) -> list[Segment]:
        """The stored segments of ``video_id``, in time order (empty when it has none)."""
        if not self.store.has_table(SEGMENTS):
            return []
        columns = ["video_id", "segment", "start", "end", "thumbnail"]
        if vectors:
            columns.append("vector")
        rows = self.store.scan(
            SEGMENTS, columns=columns, where=Filter.where(video_id=str(video_id))
        )
        if rows.num_rows == 0:
            return []
        mats = (
            vectors_from_column(rows["vector"], self.dim)
            if vectors
            else np.zeros((rows.num_rows, 0), dtype=np.float32)
        )
        out = [
            Segment(
                video_id=r["video_id"],
                segment=int(r["segment"]),
                start=float(r["start"]),
                end=float(r["end"]),
                vector=mats[i],
                thumbnail=r["thumbnail"],
            )
            for i, r in enumerate(rows.select(columns[:5]).to_pylist())
        ]
        return sorted(out, key=lambda s: (s.start, s.segment))

    def thumbnail(self, video_id: str, segment: int) -> bytes | None:
        """JPEG bytes of one segment's thumbnail, or ``None`` (no such segment or no thumbnail)."""
        if not self.store.has_table(SEGMENTS):
            return None
        from .schema import segment_key

        rows = self.store.scan(
            SEGMENTS,
            columns=["thumbnail"],
            where=Filter.where(segment_key=segment_key(str(video_id), int(segment))),
        )
        return rows["thumbnail"][0].as_py() if rows.num_rows else None

    # searching -----------------------------------------------------------------------------
    @staticmethod
    def _moment_videos(video_ids: str | Iterable[str] | None) -> frozenset[str] | None:
        if video_ids is None:
            return None
        return frozenset([video_ids] if isinstance(video_ids, str) else map(str, video_ids))

    @staticmethod
    def _refuse_unknown_videos(missing: list[str]) -> None:
        if missing:
            shown = ", ".join(sorted(missing)[:10]) + (" ..." if len(missing) > 10 else "")
            raise ValueError(f"search_moments: video(s) not in the index: {shown}")

    def search_moments(
        self,
        query: str | np.ndarray,
        k: int = 10,
        per_video: int = 1,
        categories: int | str | Iterable[int | str] | None = None,
        split: str | Sequence[str] | None = None,
        *,
        video_ids: str | Iterable[str] | None = None,
        mode: str = "auto",
    ) -> list[Moment]:
        """The ``k`` segments most similar to ``query``, at most ``per_video`` from one video.

        Exact (inner product over every segment the filters keep); ties broken by video row,
        then start. Text queries go through the index's encoder and head, like :meth:`search`.

        Args:
            query: a vector of the index's dimension, or a text.
            k: number of moments.
            per_video: at most this many moments of one video.
            categories: category ids or names to restrict to.
            split: split name(s) to restrict to.
            video_ids: only the segments of these videos (e.g. one video: where in it?).
            mode: ``"exact"``, ``"ann"`` or ``"auto"``, accepted for symmetry with
                :meth:`search`: there is no ANN index over segments yet, so every mode is
                answered exactly (the segments of a video are few; the moments are exact).

        Raises:
            NoSegmentsError: the index has no segments.
            ValueError: a video of ``video_ids`` is not in the index.
        """
        check_mode(mode)
        k = check_k(k)
        try:
            per_video = check_k(per_video)
        except ValueError:
            raise ValueError(f"per_video must be a whole number >= 1, got {per_video!r}") from None
        cats, splits = self._resolve_filters(categories, split)
        videos = self._moment_videos(video_ids)
        q = self.query_vector(query)
        if self.searches_on_store:
            if videos is not None:
                self._refuse_unknown_videos(self._missing_videos(videos))
            return self._store_moments(q, int(k), int(per_video), cats, splits, videos)
        m = self.gallery()
        block = m.require_segments()
        rows = m.rows(cats, splits)
        if videos is not None:
            found = {v: m.row(v) for v in videos}
            self._refuse_unknown_videos([v for v, r in found.items() if r is None])
            chosen = np.sort(np.fromiter(found.values(), np.int64, len(found)))
            rows = chosen if rows is None else np.intersect1d(rows, chosen)
        rows, scores = block.top_moments(q, int(k), int(per_video), rows)
        cmap = self.category_map  # type: ignore[attr-defined]
        out = []
        for i, (r, s) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True)):
            v = int(block.video_row[r])
            out.append(
                Moment(
                    rank=i + 1,
                    video_id=m.id_at(v),
                    segment=int(block.segment[r]),
                    start=float(block.start[r]),
                    end=float(block.end[r]),
                    score=float(s),
                    category=int(m.category[v]),
                    category_name=cmap.name(int(m.category[v])),
                )
            )
        return out
