"""The embedded Qdrant engine (qdrant-edge): one shard folder per collection, in-process.

``qdrant+local:///dir/name`` is the folder ``/dir/name``: the catalogue shard ``meta/`` and
one shard per table (``videos/``, ``captions/``, ...), each an ``EdgeShard`` (Qdrant's own
segment format with a write-ahead log, so an acknowledged write survives a crash). Nothing is
pickled, and nothing is created until the first write: opening a folder that is not there
creates nothing.

One process at a time: the engine takes each shard's WAL lock, and the catalogue shard is
opened first, so a second process gets one clear error. Handles in one process share the
shards (reference-counted), and the shards are safe to use from several threads.

qdrant-edge is beta (its API changes between releases): it is pinned, and an optional extra
(``pip install 'vtrsearch[qdrant]'``). It builds HNSW only in :meth:`EdgeEngine.optimize`;
until then a search scans the segments exactly (in Rust).
"""

from __future__ import annotations

import atexit
import json
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import StoreUnavailableError
from ...extras import require_extra
from ..ann_params import BuildProgress
from .engine import Conditions, Engine, Fields, MissingCollection
from .settings import QdrantSettings

#: The qdrant-edge release this engine is written against (see pyproject's ``[qdrant]``).
EDGE_VERSION = "0.9.0"
#: A shard folder holds this file once created.
_CONFIG = "edge_config.json"
#: Name of the placeholder sparse vector of payload-only shards (no point ever has one).
_NO_VECTOR = "_none"

_lock = threading.Lock()
_shards: dict[str, list[Any]] = {}  # folder -> [EdgeShard, handles]


def _edge() -> Any:
    return require_extra("qdrant_edge", "qdrant")


def legacy_message(root: Path) -> str | None:
    """Why ``qdrant+local://<root>`` is an old-layout index and how to move it (else ``None``).

    The old ``qdrant+local:///dir/name`` kept qdrant-client local-mode files in ``dir``
    (``dir/collection/name__*``, ``dir/meta.json``); the folder ``dir/name`` did not exist.
    (Checked by ``Index.open``/``Index.create``, not here: ``migrate`` must be able to write
    the new folder beside the old files.)
    """
    parent, name = root.parent, root.name
    old = parent / "collection" / f"{name}__meta"
    if root.exists() or not old.is_dir():
        return None
    return (
        f"qdrant+local://{root} is an index in the old layout (qdrant-client local mode, files "
        f"in {parent}/collection/{name}__*); vtrsearch now keeps a qdrant+local index in its "
        f"own folder {root}. Copy it there with:\n"
        f"  vtrsearch migrate 'qdrant+legacy://{root}' 'qdrant+local://{root}'\n"
        f"then delete {parent}/collection/{name}__* (and {parent}/meta.json and "
        f"{parent}/.lock once no old index is left in {parent}). Reading the old format "
        "unpickles its files: migrate only a folder that you wrote yourself."
    )


def _close_all() -> None:
    """Flush and close every shard before interpreter teardown."""
    with _lock:
        for shard, _ in _shards.values():
            try:
                shard.flush()
                shard.close()
            except Exception:  # noqa: S110 - best effort at exit
                pass
        _shards.clear()


def _acquire(folder: Path, open_: Any) -> list[Any]:
    """The process's ``[shard, handles]`` entry for ``folder`` (``open_()`` makes the shard),
    with one more handle on it."""
    key = str(folder)
    with _lock:
        entry = _shards.get(key)
        if entry is None:
            if not _shards:
                atexit.unregister(_close_all)
                atexit.register(_close_all)
            try:
                shard = open_()
            except Exception as exc:
                if "WouldBlock" in str(exc):
                    raise StoreUnavailableError(
                        f"{folder.parent} is open in another process: the embedded Qdrant engine "
                        "allows one process per index (use LanceDB or a Qdrant server to share "
                        "an index between processes)"
                    ) from None
                raise
            entry = _shards[key] = [shard, 0]
        entry[1] += 1
        return entry


def _release(folder: Path, held: list[Any], *, drop: bool = False) -> None:
    """One handle less on ``held`` (closed with its last handle, or at once to ``drop`` it)."""
    with _lock:
        entry = _shards.get(str(folder))
        if entry is None or entry is not held:  # already dropped through another handle
            return
        entry[1] -= 1
        if entry[1] <= 0 or drop:
            del _shards[str(folder)]
            if not drop:
                entry[0].flush()
            entry[0].close()


class EdgeEngine(Engine):
    """Collections as qdrant-edge shards in the folder ``root``.

    Args:
        root: the index's folder (made on the first write).
        settings: memory placement, quantisation, HNSW and search settings (server-only
            settings are refused by the store before this is built).
    """

    server = False

    def __init__(self, root: Path, settings: QdrantSettings):
        self.e = _edge()
        self.root = root
        self.settings = settings
        self.display = f"embedded Qdrant (qdrant-edge {EDGE_VERSION}) in {root}"
        self._held: dict[str, Any] = {}
        self._held_lock = threading.Lock()

    # shards ------------------------------------------------------------------------------
    def _folder(self, collection: str) -> Path:
        return self.root / collection

    def _shard(self, collection: str) -> Any:
        folder = self._folder(collection)
        held = self._held.get(collection)
        if held is not None:
            if _shards.get(str(folder)) is held:
                return held[0]
            self._held.pop(collection, None)  # another handle dropped it
        if not (folder / _CONFIG).exists():
            raise MissingCollection(collection)
        with self._held_lock:
            if collection not in self._held:
                self._held[collection] = _acquire(
                    folder, lambda: self.e.EdgeShard.load(str(folder))
                )
            return self._held[collection][0]

    def _config(
        self, dim: int | None, s: QdrantSettings | None = None, indexing: bool = False
    ) -> Any:
        """The shard config of ``dim``-d vectors (``None``: payload only) with settings ``s``
        (default: the engine's); ``indexing``: HNSW-index every segment at ``optimize``."""
        e = self.e
        s = self.settings if s is None else s
        kw: dict[str, Any] = {}
        if indexing:  # Qdrant indexes a segment only above 10 MB of vectors by default
            kw["optimizers"] = e.EdgeOptimizersConfig(indexing_threshold=1)
        if s.on_disk_payload is not None:
            kw["payload_memory"] = e.Memory.Cold if s.on_disk_payload else e.Memory.Cached
        if dim is None:
            return e.EdgeConfig(sparse_vectors={_NO_VECTOR: e.EdgeSparseVectorParams()}, **kw)
        memory = None if s.on_disk is None else (e.Memory.Cold if s.on_disk else e.Memory.Cached)
        vectors = e.EdgeVectorParams(size=dim, distance=e.Distance.Dot, memory=memory)
        if s.hnsw_m is not None or s.ef_construct is not None:
            kw["hnsw_config"] = e.HnswIndexConfig(
                m=16 if s.hnsw_m is None else s.hnsw_m,
                ef_construct=100 if s.ef_construct is None else s.ef_construct,
                full_scan_threshold=(  # KB, Qdrant's default 10000
                    10_000 if s.full_scan_threshold is None else s.full_scan_threshold
                ),
            )
        if s.quantization == "int8":
            qmem = (
                None
                if s.always_ram is None
                else (e.Memory.Pinned if s.always_ram else e.Memory.Cold)
            )
            kw["quantization_config"] = e.ScalarQuantizationConfig(
                type=e.ScalarType.Int8, quantile=0.99, memory=qmem
            )
        return e.EdgeConfig(vectors=vectors, **kw)

    def _filter(self, where: Conditions) -> Any:
        e = self.e
        must: list[Any] = []
        for column, kind, values in where:
            if pa.types.is_floating(kind):
                ranges = [
                    e.FieldCondition(key=column, range=e.RangeFloat(gte=v, lte=v)) for v in values
                ]
                must.append(e.Filter(should=ranges))
            elif pa.types.is_boolean(kind):
                same = [e.FieldCondition(key=column, match=e.MatchValue(v)) for v in values]
                must.append(e.Filter(should=same))
            else:
                must.append(e.FieldCondition(key=column, match=e.MatchAny(list(values))))
        return e.Filter(must=must) if must else None

    def _schema_type(self, dtype: pa.DataType) -> Any:
        t = self.e.PayloadSchemaType
        if pa.types.is_integer(dtype):
            return t.Integer
        if pa.types.is_floating(dtype):
            return t.Float
        if pa.types.is_boolean(dtype):
            return t.Bool
        return t.Keyword

    # collections ---------------------------------------------------------------------------
    def collection_exists(self, collection: str) -> bool:
        return (self._folder(collection) / _CONFIG).exists()

    def _shard_if_present(self, collection: str) -> None:
        """Hold the shard when it exists (so that dropping it closes it first)."""
        try:
            self._shard(collection)
        except MissingCollection:
            pass

    def create_collection(
        self, collection: str, dim: int | None, indexes: dict[str, pa.DataType]
    ) -> None:
        folder = self._folder(collection)
        if not self.collection_exists(collection):
            folder.parent.mkdir(parents=True, exist_ok=True)
            config = self._config(dim)
            with self._held_lock:
                self._held[collection] = _acquire(
                    folder, lambda: self.e.EdgeShard.create(str(folder), config)
                )
        shard = self._shard(collection)
        present = set(shard.info().payload_schema)
        for field, dtype in indexes.items():
            if field not in present:
                op = self.e.UpdateOperation.create_field_index(field, self._schema_type(dtype))
                shard.update(op)

    def drop_collection(self, collection: str) -> None:
        folder = self._folder(collection)
        self._shard_if_present(collection)
        with self._held_lock:
            held = self._held.pop(collection, None)
            if held is not None:
                _release(folder, held, drop=True)
        if folder.exists():
            shutil.rmtree(folder)

    # points --------------------------------------------------------------------------------
    def upsert(
        self,
        collection: str,
        ids: list[str],
        vectors: np.ndarray | None,
        payloads: list[dict[str, Any]],
    ) -> None:
        e = self.e
        if vectors is None:
            points = [e.Point(i, {}, p) for i, p in zip(ids, payloads, strict=True)]
        else:
            points = [e.Point(i, v, p) for i, v, p in zip(ids, vectors, payloads, strict=True)]
        self._shard(collection).update(e.UpdateOperation.upsert_points(points))

    def set_payload(self, collection: str, point: str, payload: dict[str, Any]) -> None:
        self._shard(collection).update(self.e.UpdateOperation.set_payload([point], payload))

    def retrieve(self, collection: str, ids: Sequence[str], fields: Fields) -> list[Any]:
        return self._shard(collection).retrieve(list(ids), fields, False)

    def scroll(
        self,
        collection: str,
        where: Conditions,
        fields: Fields,
        vectors: bool,
        limit: int,
        offset: Any,
    ) -> tuple[list[Any], Any]:
        request = self.e.ScrollRequest(
            offset=offset,
            limit=limit,
            filter=self._filter(where),
            with_payload=fields,
            with_vector=vectors,
        )
        return self._shard(collection).scroll(request)

    def count(self, collection: str, where: Conditions) -> int:
        request = self.e.CountRequest(filter=self._filter(where), exact=True)
        return int(self._shard(collection).count(request))

    def delete(self, collection: str, where: Conditions) -> None:
        op = self.e.UpdateOperation.delete_points_by_filter(self._filter(where))
        self._shard(collection).update(op)

    def delete_ids(self, collection: str, ids: Sequence[str]) -> None:
        try:
            shard = self._shard(collection)
        except MissingCollection:
            return
        shard.update(self.e.UpdateOperation.delete_points(list(ids)))

    def _params(self, s: QdrantSettings | None = None) -> Any:
        e = self.e
        s = self.settings if s is None else s
        quant = None
        if s.rescore is not None or s.oversampling is not None:
            quant = e.QuantizationSearchParams(rescore=s.rescore, oversampling=s.oversampling)
        if s.hnsw_ef is None and s.exact is None and quant is None:
            return None
        return e.SearchParams(hnsw_ef=s.hnsw_ef, exact=bool(s.exact), quantization=quant)

    def search(
        self,
        collection: str,
        vector: np.ndarray,
        k: int,
        where: Conditions,
        fields: Fields,
        vectors: bool,
        params: QdrantSettings | None = None,
    ) -> list[Any]:
        e = self.e
        request = e.QueryRequest(
            query=e.Query.Nearest(np.asarray(vector, dtype=np.float32).reshape(-1).tolist()),
            limit=int(k),
            filter=self._filter(where),
            params=self._params(params),
            with_payload=fields,
            with_vector=vectors,
        )
        return self._shard(collection).query(request)

    def optimize(self, collection: str) -> bool:
        return bool(self._shard(collection).optimize())

    def build_index(
        self, collection: str, target: QdrantSettings, progress: BuildProgress | None
    ) -> dict[str, Any]:
        """Write ``target``'s HNSW and quantisation settings into the shard's config (reloading
        the shard with it) and ``optimize`` it, which builds the HNSW graph and quantised
        vectors of every segment (one blocking call). A killed build left the new config on
        disk: the next build finds it and its ``optimize`` finishes the work."""
        folder = self._folder(collection)
        path = folder / _CONFIG
        if not path.exists():
            raise MissingCollection(collection)
        current = json.loads(path.read_text())
        dim = int(current["vectors"][""]["size"])
        wanted = target
        hnsw = current.get("hnsw_config") or {}
        quant = (current.get("quantization_config") or {}).get("scalar")
        same = (
            hnsw.get("m") == wanted.hnsw_m
            and hnsw.get("ef_construct") == wanted.ef_construct
            and hnsw.get("full_scan_threshold") == wanted.full_scan_threshold
            and (quant is not None) == (wanted.quantization == "int8")
            and (current.get("optimizers") or {}).get("indexing_threshold") == 1
        )
        stages = 2
        if progress is not None:
            progress(0, stages)
        if not same:  # close every handle of this process, then reopen with the new config
            self._shard_if_present(collection)
            with self._held_lock:
                held = self._held.pop(collection, None)
                if held is not None:
                    _release(folder, held, drop=True)
                config = self._config(dim, wanted, indexing=True)
                self._held[collection] = _acquire(
                    folder, lambda: self.e.EdgeShard.load(str(folder), config)
                )
        if progress is not None:
            progress(1, stages)
        shard = self._shard(collection)
        changed = bool(shard.optimize())
        shard.flush()
        info = shard.info()
        if progress is not None:
            progress(stages, stages)
        return {
            "built": changed or not same,
            "indexed_vectors": int(info.indexed_vectors_count),
            "points": int(info.points_count),
        }

    def describe(self) -> dict[str, Any]:
        return {"engine": self.display}

    def close(self) -> None:
        with self._held_lock:
            held, self._held = self._held, {}
        for collection, entry in held.items():
            _release(self._folder(collection), entry)
