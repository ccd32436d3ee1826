"""The qdrant-client engine: a Qdrant server or cluster, the in-memory mode, legacy local mode.

Every call goes through :meth:`QdrantConnection.call` (bounded retries on a server). On a server
collections are created with the index's distributed settings (shards, replicas, write
consistency, memory placement, int8 quantisation, HNSW), keyword/integer/float payload
indexes are made for the filtered columns, reads carry the read consistency and search
parameters, and writes ``wait=True`` with the write ordering, so an acknowledged write is
visible to the next read. In memory (and legacy local mode) searches are brute force and
those settings do not apply, so they are not sent.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ..ann_params import BuildProgress
from .connection import QdrantConnection
from .engine import Conditions, Engine, Fields, MissingCollection
from .settings import QdrantSettings

#: Local-mode scroll pages (points without / with vectors): each page costs O(all points)
#: there, so pages are large, but bounded so vectors as Python lists stay a few hundred MB.
_LOCAL_PAGES = (50_000, 5_000)


def is_not_found(exc: Exception) -> bool:
    """A missing collection: HTTP 404 on a server, ``ValueError`` in local mode."""
    return getattr(exc, "status_code", None) == 404 or (
        isinstance(exc, ValueError) and "not found" in str(exc)
    )


def client_filter(where: Conditions) -> Any:
    """A ``models.Filter`` for typed conditions (``None`` for none).

    Values are typed payload matches (``MatchAny`` on keyword/integer fields, exact ranges for
    floats), never text: a quote or ``OR`` in a value is just part of the value.
    """
    from qdrant_client import models as m

    must: list[Any] = []
    for column, kind, values in where:
        if pa.types.is_floating(kind):
            ranges = [m.FieldCondition(key=column, range=m.Range(gte=v, lte=v)) for v in values]
            must.append(m.Filter(should=ranges))
        elif pa.types.is_boolean(kind):
            same = [m.FieldCondition(key=column, match=m.MatchValue(value=v)) for v in values]
            must.append(m.Filter(should=same))
        else:
            must.append(m.FieldCondition(key=column, match=m.MatchAny(any=list(values))))
    return m.Filter(must=must) if must else None


def payload_schema(models: Any, dtype: pa.DataType) -> Any:
    """The payload index type of an Arrow column type."""
    if pa.types.is_integer(dtype):
        return models.PayloadSchemaType.INTEGER
    if pa.types.is_floating(dtype):
        return models.PayloadSchemaType.FLOAT
    if pa.types.is_boolean(dtype):
        return models.PayloadSchemaType.BOOL
    return models.PayloadSchemaType.KEYWORD


class ClientEngine(Engine):
    """Collections on a qdrant-client connection.

    Args:
        conn: the connection (a server, ``:memory:`` or a legacy local folder).
        settings: the index's settings (the store replaces them once it has read the stored
            ones).
    """

    def __init__(self, conn: QdrantConnection, settings: QdrantSettings):
        from qdrant_client import models

        self._m = models
        self.conn = conn
        self.settings = settings
        self.server = conn.location.server
        self.display = conn.location.display

    def _q(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call client ``method`` through the connection's retry policy."""
        return self.conn.call(what, getattr(self.conn.client, method), *args, **kwargs)

    def _found(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`_q`, raising :class:`MissingCollection` for a missing collection."""
        try:
            return self._q(what, method, *args, **kwargs)
        except Exception as exc:
            if is_not_found(exc):
                raise MissingCollection(str(kwargs.get("collection_name", args[:1]))) from None
            raise

    @property
    def _read(self) -> dict[str, Any]:
        return self.settings.read_kwargs(self._m) if self.server else {}

    @property
    def _write(self) -> dict[str, Any]:
        return self.settings.write_kwargs(self._m) if self.server else {}

    def _search_kw(self, settings: QdrantSettings | None = None) -> dict[str, Any]:
        if not self.server:  # brute force anyway; local mode warns about search params
            return {}
        params = (self.settings if settings is None else settings).search_params(self._m)
        return {} if params is None else {"search_params": params}

    # collections ---------------------------------------------------------------------------
    def collection_exists(self, collection: str) -> bool:
        return bool(self._q("exists", "collection_exists", collection))

    def create_collection(
        self, collection: str, dim: int | None, indexes: dict[str, pa.DataType]
    ) -> None:
        m = self._m
        if not self.collection_exists(collection):
            vectors = {} if dim is None else self.settings.vector_params(m, dim)
            extra = self.settings.collection_kwargs(m, self.server) if self.server else {}
            if dim is None:  # a payload-only collection has nothing to quantise or index
                extra.pop("quantization_config", None)
                extra.pop("hnsw_config", None)
            self._q(
                "create collection",
                "create_collection",
                collection_name=collection,
                vectors_config=vectors,
                **extra,
            )
        for field, dtype in (indexes if self.server else {}).items():
            self._q(
                "create payload index",
                "create_payload_index",
                collection_name=collection,
                field_name=field,
                field_schema=payload_schema(m, dtype),
                wait=True,
                **self._write,
            )

    def drop_collection(self, collection: str) -> None:
        try:
            self._q("drop", "delete_collection", collection)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    # points --------------------------------------------------------------------------------
    def upsert(
        self,
        collection: str,
        ids: list[str],
        vectors: np.ndarray | None,
        payloads: list[dict[str, Any]],
    ) -> None:
        rows: list[Any] = [{}] * len(ids) if vectors is None else vectors.tolist()
        points = [
            self._m.PointStruct(id=i, vector=v, payload=p)
            for i, v, p in zip(ids, rows, payloads, strict=True)
        ]
        self._found(
            "upsert",
            "upsert",
            collection_name=collection,
            points=points,
            wait=True,
            **self._write,
        )

    def set_payload(self, collection: str, point: str, payload: dict[str, Any]) -> None:
        self._found(
            "set payload",
            "set_payload",
            collection_name=collection,
            payload=payload,
            points=[point],
            wait=True,
            **self._write,
        )

    def retrieve(self, collection: str, ids: Sequence[str], fields: Fields) -> list[Any]:
        return self._found(
            "retrieve",
            "retrieve",
            collection_name=collection,
            ids=list(ids),
            with_payload=fields,
            **self._read,
        )

    def scroll(
        self,
        collection: str,
        where: Conditions,
        fields: Fields,
        vectors: bool,
        limit: int,
        offset: Any,
    ) -> tuple[list[Any], Any]:
        if not self.server:
            limit = max(limit, _LOCAL_PAGES[vectors])
        return self._found(
            "scroll",
            "scroll",
            collection_name=collection,
            scroll_filter=client_filter(where),
            limit=limit,
            offset=offset,
            with_payload=fields,
            with_vectors=vectors,
            **self._read,
        )

    def count(self, collection: str, where: Conditions) -> int:
        found = self._found(
            "count",
            "count",
            collection_name=collection,
            count_filter=client_filter(where),
            exact=True,  # count takes no read consistency in qdrant-client 1.20
        )
        return int(found.count)

    def delete(self, collection: str, where: Conditions) -> None:
        self._found(
            "delete",
            "delete",
            collection_name=collection,
            points_selector=self._m.FilterSelector(filter=client_filter(where)),
            wait=True,
            **self._write,
        )

    def delete_ids(self, collection: str, ids: Sequence[str]) -> None:
        try:
            self._q(
                "delete",
                "delete",
                collection_name=collection,
                points_selector=self._m.PointIdsList(points=list(ids)),
                wait=True,
                **self._write,
            )
        except Exception as exc:
            if not is_not_found(exc):
                raise

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
        return self._found(
            "search",
            "query_points",
            collection_name=collection,
            query=np.asarray(vector, dtype=np.float32).reshape(-1).tolist(),
            query_filter=client_filter(where),
            limit=int(k),
            with_payload=fields,
            with_vectors=vectors,
            **self._search_kw(params),
            **self._read,
        ).points

    def search_groups(
        self,
        collection: str,
        vector: np.ndarray,
        k: int,
        group_by: str,
        group_size: int,
        where: Conditions,
        fields: Fields,
        params: QdrantSettings | None = None,
    ) -> list[list[Any]] | None:
        result = self._found(
            "grouped search",
            "query_points_groups",
            collection_name=collection,
            group_by=group_by,
            query=np.asarray(vector, dtype=np.float32).reshape(-1).tolist(),
            query_filter=client_filter(where),
            limit=int(k),
            group_size=int(group_size),
            with_payload=fields,
            **self._search_kw(params),
            **self._read,
        )
        return [list(group.hits) for group in result.groups]

    def build_index(
        self, collection: str, target: QdrantSettings, progress: BuildProgress | None
    ) -> dict[str, Any]:
        """On a server: ``update_collection`` with ``target``'s HNSW and int8 settings (and
        indexing of every segment), then wait while the server indexes, reporting
        ``progress(indexed vectors, points)``. The server does the work in the background, so
        a killed caller only stops waiting: the next build finds the settings in place and
        waits for the rest. (Untested here: no Qdrant server was available.)

        In memory (and legacy local mode) qdrant-client searches exhaustively and has no
        index: nothing is built (``built`` is ``False``, ``exhaustive`` ``True``).
        """
        m = self._m
        if not self.server:
            self._found("collection info", "get_collection", collection_name=collection)
            return {"built": False, "exhaustive": True}
        wanted = target
        info = self._found("collection info", "get_collection", collection_name=collection)
        hnsw = info.config.hnsw_config
        quant = info.config.quantization_config
        same = (
            hnsw.m == wanted.hnsw_m
            and hnsw.ef_construct == wanted.ef_construct
            and hnsw.full_scan_threshold == wanted.full_scan_threshold
            and (quant is not None) == (wanted.quantization == "int8")
        )
        if not same:
            extra = wanted.collection_kwargs(m, server=False)
            self._q(
                "update collection",
                "update_collection",
                collection_name=collection,
                hnsw_config=extra.get("hnsw_config"),
                quantization_config=extra.get("quantization_config") or m.Disabled.DISABLED,
                optimizers_config=m.OptimizersConfigDiff(indexing_threshold=1),
            )
        greens = 0  # green right after the update may be before the optimizer started
        while True:
            info = self._q("collection info", "get_collection", collection_name=collection)
            points = int(info.points_count or 0)
            indexed = int(info.indexed_vectors_count or 0)
            if progress is not None:
                progress(min(indexed, points), points)
            greens = greens + 1 if info.status == m.CollectionStatus.GREEN else 0
            if greens and indexed >= points or greens >= 3:
                break
            time.sleep(1.0)
        return {"built": not same, "indexed_vectors": indexed, "points": points}

    def describe(self) -> dict[str, Any]:
        kind = "Qdrant server" if self.server else "qdrant-client"
        return {"engine": f"{kind} ({self.display})"}

    def close(self) -> None:
        self.conn.close()
