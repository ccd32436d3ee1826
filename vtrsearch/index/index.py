"""The :class:`Index`: videos, captions and metadata in a store, searched exactly in memory."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..categories import CategoryMap
from ..errors import (
    DimensionMismatchError,
    IndexExistsError,
    IndexNotFoundError,
    LegacyLayoutError,
)
from ..stores import VectorStore, legacy_layout, open_store
from ..stores.uri import missing_local_index
from .ann_mixin import AnnMixin
from .caption_times import CaptionTimesMixin
from .compact import check_precision
from .gallery import Gallery
from .moments import MomentsMixin
from .reads import ReadsMixin
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
from .writes import WritesMixin

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


def _refuse_legacy(uri: str | Path) -> None:
    """An old-layout ``qdrant+local`` index is neither opened nor shadowed by a new one."""
    message = legacy_layout(uri)
    if message:
        raise LegacyLayoutError(message)


class Index(
    WritesMixin,
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

    def __repr__(self) -> str:
        return f"Index({self.uri!r}, dim={self.dim}, feature_model={self.feature_model!r})"
