"""The :class:`Index`: videos, captions and metadata in a store, searched exactly in memory."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..categories import CategoryMap
from ..errors import (
    DimensionMismatchError,
    IndexExistsError,
    IndexNotFoundError,
    LegacyLayoutError,
)
from ..filters import Filter
from ..stores import VectorStore, legacy_layout, open_store
from ..stores.uri import missing_local_index
from .ann_mixin import AnnMixin
from .bulk import DEFAULT_BATCH_ROWS, Progress, is_stream, progress_reporter, write_stream
from .caption_times import CaptionTimesMixin, caption_time_rows
from .compact import check_precision
from .gallery import Gallery
from .moments import MomentsMixin
from .reads import ReadsMixin
from .rows import caption_rows, check_ids, video_rows
from .schema import (
    CAPTION_KEY,
    CAPTIONS,
    CAPTIONS_SCHEMA,
    PAYLOAD_INDEXES,
    SEGMENT_KEY,
    SEGMENTS,
    VIDEO_KEY,
    VIDEOS,
    segments_schema,
    videos_schema,
)
from .search import SearchMixin
from .store_gallery import StoreGalleryMixin
from .text_queries import QueryMixin

FORMAT_VERSION = 1
#: Metadata keys every complete index has (written in one store write by :meth:`Index.create`).
REQUIRED_METADATA = ("format_version", "dim", "categories")
logger = logging.getLogger(__name__)


def _is_complete(meta: Mapping[str, Any]) -> bool:
    return all(key in meta for key in REQUIRED_METADATA)


def _new_metadata(
    dim: int,
    feature_model: str | None,
    encoder: str | None,
    categories: Mapping[int, str] | Sequence[str] | None,
) -> dict[str, Any]:
    if categories is None:
        cmap = CategoryMap.msrvtt()
    elif isinstance(categories, Mapping):
        cmap = CategoryMap(categories)
    else:
        cmap = CategoryMap(dict(enumerate(categories)))
    return {
        "format_version": FORMAT_VERSION,
        "dim": dim,
        "feature_model": feature_model,
        "encoder": encoder,
        "categories": cmap.to_json(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


ProgressFn = Callable[[int, int], None]


def _refuse_legacy(uri: str | Path) -> None:
    """An old-layout ``qdrant+local`` index is neither opened nor shadowed by a new one."""
    message = legacy_layout(uri)
    if message:
        raise LegacyLayoutError(message)


class Index(
    SearchMixin,
    ReadsMixin,
    QueryMixin,
    StoreGalleryMixin,
    MomentsMixin,
    CaptionTimesMixin,
    AnnMixin,
):
    """A text-to-video search index stored in LanceDB (default) or Qdrant.

    Create one with :meth:`create`, reopen it with :meth:`open`; everything needed to use it
    (dimension, feature model, categories, query encoder) is stored with it.

    Searches run exactly on an in-memory gallery of the video (and segment) vectors, or on
    the store's own engine (a Qdrant cluster's HNSW, ...) when the gallery would not fit:
    ``gallery="auto"`` (default) keeps it in memory while its vectors take at most
    ``gallery_budget`` bytes (default: a quarter of the machine's RAM), ``"memory"`` always,
    ``"store"`` never (see :mod:`vtrsearch.index.store_gallery`).
    """

    refresh_interval: float = 1.0
    """Seconds between checks for writes made by other processes."""

    def __init__(
        self,
        store: VectorStore,
        metadata: Mapping[str, Any],
        *,
        gallery: str = "auto",
        gallery_budget: int | None = None,
        precision: str = "auto",
    ):
        self._precision = check_precision(precision)
        self.store = store
        self._meta = dict(metadata)
        self.category_map = CategoryMap.from_json(self._meta["categories"])
        self._matrix: Gallery | None = None
        self._init_query()
        self._matrix_version: Any = None
        self._checked_at = 0.0
        self._first_caps: dict[str, str] | None = None
        self._first_caps_version: Any = None
        self._first_caps_checked = 0.0
        self._init_gallery_mode(gallery, gallery_budget)

    # lifecycle ----------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        uri: str | Path,
        *,
        dim: int,
        feature_model: str | None = None,
        encoder: str | None = None,
        categories: Mapping[int, str] | Sequence[str] | None = None,
        exist_ok: bool = False,
        gallery: str = "auto",
        gallery_budget: int | None = None,
        precision: str = "auto",
        **store_options: Any,
    ) -> Index:
        """Create an empty index at ``uri``.

        Args:
            uri: a directory for embedded LanceDB, or a ``qdrant...://`` URI.
            dim: dimension of the video vectors.
            feature_model: name of the model that made the video vectors (its space).
            encoder: spec of the query text encoder, recorded so :meth:`open` rebuilds it.
            categories: id -> name map (or names in id order); default: the 20 MSR-VTT ones.
            exist_ok: return the existing index when it has the same ``dim`` instead of failing.
            gallery: ``"auto"``, ``"memory"`` or ``"store"``: where searches run (see the class).
            gallery_budget: bytes of vectors the gallery may take in memory (``"auto"``).
            precision: ``"auto"``, ``"float32"``, ``"float16"`` or ``"int8"``: what the
                in-memory gallery scores in; candidates are re-scored in float32, so results
                are exact (see :mod:`vtrsearch.index.compact`; ``"auto"``: float32 up to 512 MiB
                of vectors, float16 above).
            **store_options: options of the store, e.g. for Qdrant ``api_key``, ``timeout``
                and the settings of :class:`~vtrsearch.stores.qdrant.QdrantSettings`
                (``shards=6``, ``replicas=2``, ``quantization="int8"``, ...).
        """
        if int(dim) <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        check_precision(precision)
        if encoder is not None:
            from ..encoders.space import canonical_spec, check_space

            encoder = canonical_spec(encoder)
            check_space(encoder, feature_model)
        _refuse_legacy(uri)
        store = open_store(uri, **store_options)
        with store.write_lock():  # two creators never interleave; a half-made index is finished
            existing = store.get_metadata() if store.exists() else {}
            if _is_complete(existing):
                if not exist_ok:
                    raise IndexExistsError(f"an index already exists at {uri}")
                index = cls(
                    store,
                    existing,
                    gallery=gallery,
                    gallery_budget=gallery_budget,
                    precision=precision,
                )
                if index.dim != int(dim):
                    raise DimensionMismatchError(
                        f"index at {uri} has dim {index.dim}, asked for dim {dim}"
                    )
                return index
            if existing:
                logger.warning(
                    "index at %s was left half-made (a killed create?); finishing it", uri
                )
            meta = _new_metadata(int(dim), feature_model, encoder, categories)
            for name, schema, key in (
                (VIDEOS, videos_schema(int(dim)), VIDEO_KEY),
                (CAPTIONS, CAPTIONS_SCHEMA, CAPTION_KEY),
                (SEGMENTS, segments_schema(int(dim)), SEGMENT_KEY),
            ):
                store.create_table(name, schema, key, indexed=PAYLOAD_INDEXES[name])
            store.set_metadata(meta)  # one write, last: its presence marks a complete index
        return cls(store, meta, gallery=gallery, gallery_budget=gallery_budget, precision=precision)

    @classmethod
    def open(
        cls,
        uri: str | Path,
        *,
        gallery: str = "auto",
        gallery_budget: int | None = None,
        precision: str = "auto",
        **store_options: Any,
    ) -> Index:
        """Open an existing index (opening creates nothing).

        ``gallery``/``gallery_budget``, ``precision`` and ``store_options`` as in :meth:`create`.
        The gallery is memory-mapped from a cache next to the index (built on first use,
        rebuilt when the videos or segments change; see :mod:`vtrsearch.index.gallery_cache`).

        Raises:
            IndexNotFoundError: nothing is there (a local path that does not exist is an
                error, not a new empty folder), or only a half-made index (a create that was
                killed; ``Index.create(uri, ..., exist_ok=True)`` finishes it).
        """
        check_precision(precision)
        if missing_local_index(uri) is not None:
            raise IndexNotFoundError(f"no vtrsearch index at {uri} (the path does not exist)")
        _refuse_legacy(uri)
        store = open_store(uri, **store_options)
        meta = store.get_metadata() if store.exists() else {}
        if not meta:
            store.close()
            raise IndexNotFoundError(
                f"no vtrsearch index at {uri}; create one with Index.create or `vtrsearch ingest`"
            )
        if not _is_complete(meta):
            missing = ", ".join(k for k in REQUIRED_METADATA if k not in meta)
            raise IndexNotFoundError(
                f"the index at {uri} is incomplete (metadata lacks {missing}: a create that was "
                "interrupted?); run Index.create(..., exist_ok=True) or `vtrsearch ingest` again "
                "to finish it"
            )
        if not all(store.has_table(t) for t in (VIDEOS, CAPTIONS)):
            raise IndexNotFoundError(
                f"the index at {uri} is damaged: its videos or captions table is missing"
            )
        return cls(store, meta, gallery=gallery, gallery_budget=gallery_budget, precision=precision)

    @property
    def uri(self) -> str:
        """Where the index lives."""
        return self.store.uri

    @property
    def version(self) -> Any:
        """A value that changes whenever the videos are written (the store's table version)."""
        return self.store.version(VIDEOS)

    @property
    def store_name(self) -> str:
        """The kind of store behind the index (its class name, e.g. ``LanceStore``)."""
        return type(self.store).__name__

    @property
    def dim(self) -> int:
        """Dimension of the video vectors."""
        return int(self._meta["dim"])

    @property
    def feature_model(self) -> str | None:
        """Name of the model (space) that produced the video vectors, when known."""
        return self._meta.get("feature_model")

    @property
    def encoder_spec(self) -> str | None:
        """Spec of the query text encoder recorded in the index, when any."""
        return self._meta.get("encoder")

    @property
    def metadata(self) -> dict[str, Any]:
        """A copy of the index metadata."""
        return dict(self._meta)

    def storage(self) -> dict[str, Any]:
        """The store's engine and settings (e.g. a Qdrant cluster's shards and replicas)."""
        return self.store.describe()

    def set_metadata(self, **values: Any) -> None:
        """Merge ``values`` into the stored metadata."""
        self.store.set_metadata(values)
        self._meta.update(values)

    # writing ------------------------------------------------------------------------------
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

    def __repr__(self) -> str:
        return f"Index({self.uri!r}, dim={self.dim}, feature_model={self.feature_model!r})"
