"""Qdrant implementation of :class:`VectorStore` (server, cluster, or local mode).

URIs (``<name>`` is the index name, ``[A-Za-z0-9_-]+``):

* ``qdrant://host[:port]/<name>`` (plain HTTP; ``qdrant+http://`` is the same),
* ``qdrant+https://host[:port][/prefix]/<name>`` (TLS; API key from ``api_key=`` or the
  ``QDRANT_API_KEY`` environment variable; it never appears in ``repr``, URIs or errors),
* ``qdrant+local:///abs/dir/<name>`` (qdrant-client local mode, stored in ``/abs/dir``) and
  ``qdrant+local://:memory:/<name>`` (one in-memory storage per process).

The port defaults to 6333 (as in Qdrant Cloud URLs); a proxy on 443 needs ``:443``.

Layout. Table ``t`` of index ``name`` is the collection ``name__t``. A point's id is the UUID5
of its key value (fixed namespace), so re-writing a key replaces its point; the key and every
other non-vector column are the payload, ``vector`` is the single unnamed dense vector (DOT
distance on normalised vectors, so scores equal LanceDB's inner product). Tables without a
``vector`` column (captions) are collections with no vectors (``vectors_config={}``) rather
than a dummy 1-d vector: nothing fake is stored or indexed.

``name__meta`` (also vector-less) is the index's catalogue, one point per entry:

* ``kind=meta``: one point per metadata key, value as JSON text, exactly like LanceDB's
  ``_meta`` table. ``set_metadata`` merges by upserting one point per key (no read-modify-write,
  so writers of different keys cannot clobber each other) and migration copies it 1:1. Qdrant
  has no portable per-collection metadata field, hence a collection.
* ``kind=table``: one point per table with its key column, Arrow schema (IPC, base64) and a
  version token. ``scan`` rebuilds typed Arrow columns from the schema; the point is written
  after the collection and its payload indexes, so it marks a completely created table.

``version(t)`` is that token: every upsert/delete that wrote something sets a fresh random
token *after* its data requests finished (``wait=True``), so any reader that sees the token
also sees the data. It costs one point lookup. A writer killed between its data and the token
leaves readers stale until the next write.

Writes go in requests of ``batch_size`` points with ``wait=True``. Transient failures
(connection, timeout, 429, 5xx) are retried with exponential backoff until ``timeout`` seconds
have passed, then one :class:`~vtrsearch.errors.StoreUnavailableError` names the URL.

Search is HNSW (approximate) on a server unless ``exact=True``; local mode is always exact
(brute force) and ignores payload indexes, which are created on servers only.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ...extras import require_extra
from ...filters import Filter
from ..base import SCORE, VectorStore
from .connection import (
    QdrantConnection,
    is_not_found,
    parse_uri,
    payload_rows,
    points_to_arrow,
    to_qdrant_filter,
    vector_matrix,
)

#: Namespace of the UUID5 point ids (fixed forever: changing it would orphan stored points).
POINT_NAMESPACE = uuid.UUID("6f1c2a53-8d0e-5b7a-9c41-2e7f0b9d3a10")
META = "meta"
#: Local-mode scroll pages (points without / with vectors): each page costs O(all points)
#: there, so pages are large, but bounded so vectors as Python lists stay a few hundred MB.
_LOCAL_PAGES = (50_000, 5_000)


def point_id(key: object) -> str:
    """The deterministic point id of key value ``key``."""
    return str(uuid.uuid5(POINT_NAMESPACE, str(key)))


class QdrantStore(VectorStore):
    """Tables of one index as Qdrant collections ``<name>__<table>``.

    Args:
        uri: see the module docstring.
        api_key: API key (default: ``QDRANT_API_KEY``); never logged.
        timeout: seconds a call may spend retrying transient failures (also the per-request
            HTTP timeout).
        batch_size: points per write request.
        exact: server searches without HNSW (exhaustive, exact). Local mode is always exact.
        hnsw_ef: HNSW beam size for server searches (default: the collection's).
        consistency: read consistency on replicated clusters (``"majority"``, ``"quorum"``,
            ``"all"`` or a number); default: the server's.
        shard_number: shards of the collections this store creates (clusters).
        replication_factor: replicas of the collections this store creates (clusters).
        write_consistency_factor: replicas that must acknowledge a write (clusters).
        write_ordering: ``"weak"`` (default), ``"medium"`` or ``"strong"`` (writes go through
            the shard leader, so concurrent writers' updates are applied in one order).
    """

    def __init__(
        self,
        uri: str,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        batch_size: int = 500,
        exact: bool = False,
        hnsw_ef: int | None = None,
        consistency: int | str | None = None,
        shard_number: int | None = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        write_ordering: str | None = None,
    ):
        models = require_extra("qdrant_client.models", "qdrant")

        self.uri = str(uri)
        self.location = parse_uri(self.uri)
        self.batch_size = max(1, int(batch_size))
        self.exact = bool(exact)
        self._m = models
        self._conn = QdrantConnection(
            self.location, api_key=api_key, timeout=timeout, consistency=consistency
        )
        self._local = self._conn.local
        self._read = self._conn.read_kw
        self._infos: dict[str, dict[str, Any]] = {}
        create = {
            "shard_number": shard_number,
            "replication_factor": replication_factor,
            "write_consistency_factor": write_consistency_factor,
        }
        self._create_kw = {k: v for k, v in create.items() if v is not None and not self._local}
        self._write: dict[str, Any] = {}
        if write_ordering is not None and not self._local:
            self._write["ordering"] = models.WriteOrdering(write_ordering)
        self._search_kw: dict[str, Any] = {}
        if not self._local:  # local mode is exact anyway and warns about search params
            self._search_kw["search_params"] = models.SearchParams(
                exact=self.exact, hnsw_ef=hnsw_ef
            )

    def __repr__(self) -> str:
        return f"QdrantStore({self.uri!r})"

    # plumbing -----------------------------------------------------------------------------
    def _q(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call client ``method`` through the connection's retry policy."""
        return self._conn.call(what, getattr(self._conn.client, method), *args, **kwargs)

    def _maybe(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`_q`, but ``None`` when the collection does not exist."""
        try:
            return self._q(what, method, *args, **kwargs)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise

    def _collection(self, table: str) -> str:
        return f"{self.location.name}__{table}"

    def _kind(self, kind: str):
        m = self._m
        return m.Filter(must=[m.FieldCondition(key="kind", match=m.MatchValue(value=kind))])

    def _scroll(
        self, collection: str, qfilter, cols: Sequence[str] | None, page: int
    ) -> Iterator[list]:
        """Pages of at most ``page`` points with the payload ``cols`` (``None``: all of it)."""
        payload = True if cols is None else [c for c in cols if c != "vector"] or False
        vectors = cols is not None and "vector" in cols
        offset, batch = None, []
        while True:
            points, offset = self._q(
                "scroll",
                "scroll",
                collection_name=collection,
                scroll_filter=qfilter,
                limit=max(page, _LOCAL_PAGES[vectors]) if self._local else page,
                offset=offset,
                with_payload=payload,
                with_vectors=vectors,
                **self._read,
            )
            batch += points
            while len(batch) >= page or (offset is None and batch):
                yield batch[:page]
                batch = batch[page:]
            if offset is None:
                return

    def _catalogue(self, kind: str) -> list[dict[str, Any]]:
        try:
            pages = list(self._scroll(self._collection(META), self._kind(kind), None, 1000))
        except Exception as exc:
            if is_not_found(exc):
                return []
            raise
        return [p.payload for page in pages for p in page]

    def _ensure_collection(
        self, collection: str, dim: int | None, indexes: dict[str, pa.DataType]
    ) -> None:
        """Create ``collection`` unless it exists; (re)create its payload indexes (servers)."""
        m = self._m
        if not self._q("exists", "collection_exists", collection):
            vectors = {} if dim is None else m.VectorParams(size=dim, distance=m.Distance.DOT)
            self._q(
                "create collection",
                "create_collection",
                collection_name=collection,
                vectors_config=vectors,
                **self._create_kw,
            )
        for field, dtype in ({} if self._local else indexes).items():
            kind = m.PayloadSchemaType.KEYWORD
            if pa.types.is_integer(dtype):
                kind = m.PayloadSchemaType.INTEGER
            elif pa.types.is_floating(dtype):
                kind = m.PayloadSchemaType.FLOAT
            self._q(
                "create payload index",
                "create_payload_index",
                collection_name=collection,
                field_name=field,
                field_schema=kind,
                wait=True,
            )

    def _ensure_meta(self) -> None:
        self._ensure_collection(self._collection(META), None, {"kind": pa.string()})

    def _upsert(self, collection: str, points: list) -> None:
        self._q(
            "upsert", "upsert", collection_name=collection, points=points, wait=True, **self._write
        )

    def _table_point(self, name: str, fields: bool | list[str]) -> dict[str, Any] | None:
        """Payload of table ``name``'s catalogue point, or ``None``."""
        ids = [point_id(f"table:{name}")]
        found = self._maybe(
            "retrieve", "retrieve", self._collection(META), ids, with_payload=fields, **self._read
        )
        return found[0].payload if found else None

    def _info(self, name: str) -> dict[str, Any]:
        info = self._infos.get(name)
        if info is None:
            payload = self._table_point(name, True)
            if payload is None:
                raise KeyError(f"table {name!r} does not exist in {self.uri}")
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(payload["schema"])))
            vector = schema.field("vector").type if "vector" in schema.names else None
            dim = getattr(vector, "list_size", None)
            info = self._infos[name] = {"schema": schema, "key": payload["key"], "dim": dim}
        return info

    def _bump(self, name: str) -> None:
        self._q(
            "set version",
            "set_payload",
            collection_name=self._collection(META),
            payload={"version": uuid.uuid4().hex},
            points=[point_id(f"table:{name}")],
            wait=True,
            **self._write,
        )

    # tables -------------------------------------------------------------------------------
    def exists(self) -> bool:
        meta, kind = self._collection(META), self._kind("meta")
        found = self._maybe("count", "count", meta, count_filter=kind, exact=True, **self._read)
        return found is not None and found.count > 0

    def has_table(self, name: str) -> bool:
        try:
            self._info(name)
        except KeyError:
            return False
        return True

    def create_table(
        self, name: str, schema: pa.Schema, key: str, *, indexed: Sequence[str] = ()
    ) -> None:
        if self.has_table(name):
            existing = self._info(name)["schema"]
            if existing.names != schema.names:
                raise ValueError(
                    f"table {name!r} in {self.uri} has columns {existing.names}, "
                    f"expected {schema.names}"
                )
            return
        if key not in schema.names:
            raise ValueError(f"key column {key!r} is not in the schema of {name!r}")
        dim = None
        if "vector" in schema.names:
            vtype = schema.field("vector").type
            if not pa.types.is_fixed_size_list(vtype):
                raise ValueError(f"table {name!r}: 'vector' must be a fixed-size list")
            dim = vtype.list_size
        self._ensure_meta()
        columns = [key, *indexed]
        indexes = {c: schema.field(c).type for c in columns if c in schema.names}
        self._ensure_collection(self._collection(name), dim, indexes)
        payload = {
            "kind": "table",
            "table": name,
            "key": key,
            "schema": base64.b64encode(schema.serialize().to_pybytes()).decode("ascii"),
            "version": uuid.uuid4().hex,
        }
        point = self._m.PointStruct(id=point_id(f"table:{name}"), vector={}, payload=payload)
        self._upsert(self._collection(META), [point])  # last: marks the table as complete
        self._infos.pop(name, None)

    def drop_table(self, name: str) -> None:
        self._infos.pop(name, None)
        ids = self._m.PointIdsList(points=[point_id(f"table:{name}")])
        meta = self._collection(META)
        self._maybe("drop", "delete", meta, points_selector=ids, wait=True)
        self._maybe("drop", "delete_collection", self._collection(name))

    def list_tables(self) -> list[str]:
        return sorted(p["table"] for p in self._catalogue("table"))

    def table_schema(self, name: str) -> pa.Schema:
        return self._info(name)["schema"]

    # rows ---------------------------------------------------------------------------------
    def upsert(self, name: str, rows: pa.Table, key: str) -> int:
        info = self._info(name)
        schema = info["schema"]
        rows = rows.select(schema.names).cast(schema)
        payload_cols = [c for c in schema.names if c != "vector"]
        written = 0
        try:
            for start in range(0, rows.num_rows, self.batch_size):
                part = rows.slice(start, self.batch_size)
                ids = [point_id(k) for k in part[key].to_pylist()]
                payloads = payload_rows(part.select(payload_cols))
                if info["dim"] is None:
                    vectors: list[Any] = [{}] * len(ids)
                else:
                    vectors = vector_matrix(part["vector"], info["dim"]).tolist()
                points = [
                    self._m.PointStruct(id=i, vector=v, payload=p)
                    for i, v, p in zip(ids, vectors, payloads, strict=True)
                ]
                self._upsert(self._collection(name), points)
                written += part.num_rows
        finally:
            if written:  # also after a failure: a prefix of the rows is there
                self._bump(name)
        return written

    def scan(
        self, name: str, columns: Sequence[str] | None = None, where: Filter | None = None
    ) -> pa.Table:
        schema = self._info(name)["schema"]
        cols = list(columns) if columns is not None else schema.names
        nothing, qfilter = to_qdrant_filter(where, schema)
        empty = schema.empty_table().select(cols)
        if nothing:
            return empty
        page = 256 if "vector" in cols else 2000
        pages = self._scroll(self._collection(name), qfilter, cols, page)
        return pa.concat_tables([empty, *(points_to_arrow(p, schema, cols) for p in pages)])

    def iter_batches(
        self, name: str, columns: Sequence[str] | None = None, batch_size: int = 1000
    ) -> Iterator[pa.Table]:
        schema = self._info(name)["schema"]
        cols = list(columns) if columns is not None else schema.names
        for page in self._scroll(self._collection(name), None, cols, max(1, batch_size)):
            yield points_to_arrow(page, schema, cols)

    def search(
        self,
        name: str,
        vector: np.ndarray,
        k: int,
        where: Filter | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        schema = self._info(name)["schema"]
        cols = list(columns) if columns is not None else [c for c in schema.names if c != "vector"]
        nothing, qfilter = to_qdrant_filter(where, schema)
        points: list = []
        if not nothing and k > 0:
            points = self._q(
                "search",
                "query_points",
                collection_name=self._collection(name),
                query=np.asarray(vector, dtype=np.float32).reshape(-1).tolist(),
                query_filter=qfilter,
                limit=int(k),
                with_payload=[c for c in cols if c != "vector"] or False,
                with_vectors="vector" in cols,
                **self._search_kw,
                **self._read,
            ).points
        table = points_to_arrow(points, schema, cols)
        return table.append_column(SCORE, pa.array([p.score for p in points], pa.float32()))

    def count(self, name: str, where: Filter | None = None) -> int:
        nothing, qfilter = to_qdrant_filter(where, self._info(name)["schema"])
        if nothing:
            return 0
        found = self._q(
            "count",
            "count",
            collection_name=self._collection(name),
            count_filter=qfilter,
            exact=True,
            **self._read,
        )
        return int(found.count)

    def delete(self, name: str, where: Filter) -> None:
        if not where:
            raise ValueError("refusing to delete with an empty filter")
        nothing, qfilter = to_qdrant_filter(where, self._info(name)["schema"])
        if nothing:
            return
        self._q(
            "delete",
            "delete",
            collection_name=self._collection(name),
            points_selector=self._m.FilterSelector(filter=qfilter),
            wait=True,
            **self._write,
        )
        self._bump(name)

    def version(self, name: str) -> Any:
        payload = self._table_point(name, ["version"])
        if payload is None:
            raise KeyError(f"table {name!r} does not exist in {self.uri}")
        return payload.get("version")

    # metadata -----------------------------------------------------------------------------
    def get_metadata(self) -> dict[str, Any]:
        return {p["key"]: json.loads(p["value"]) for p in self._catalogue("meta")}

    def set_metadata(self, values: dict[str, Any]) -> None:
        if not values:
            return
        self._ensure_meta()
        points = [
            self._m.PointStruct(
                id=point_id(f"meta:{k}"),
                vector={},
                payload={"kind": "meta", "key": k, "value": json.dumps(v, sort_keys=True)},
            )
            for k, v in values.items()
        ]
        self._upsert(self._collection(META), points)

    def close(self) -> None:
        """Release this handle (a local-mode client is closed with its last handle)."""
        self._conn.close()
