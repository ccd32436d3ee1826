"""Qdrant implementation of :class:`VectorStore`: a server or cluster, or embedded in-process.

URIs (``<name>`` is the index name, ``[A-Za-z0-9_-]+``; settings may follow as ``?k=v&...``,
see :mod:`.settings`):

* ``qdrant://host[:port]/<name>`` (plain HTTP; ``qdrant+http://`` is the same),
* ``qdrant+https://host[:port][/prefix]/<name>`` (TLS; API key from ``api_key=`` or the
  ``QDRANT_API_KEY`` environment variable; it never appears in ``repr``, URIs or errors),
* ``qdrant+local:///abs/dir/<name>``: the embedded Qdrant engine (qdrant-edge, see
  :mod:`.edge`) in the folder ``/abs/dir/<name>``;
* ``qdrant+local://:memory:/<name>``: qdrant-client's in-memory mode (one storage per
  process; brute-force search, for tests and experiments);
* ``qdrant+legacy:///abs/dir/<name>``: an index of the old ``qdrant+local`` layout
  (qdrant-client local mode in ``/abs/dir``), to migrate it.

The port defaults to 6333 (as in Qdrant Cloud URLs); a proxy on 443 needs ``:443``.

Layout (the same on every engine). Table ``t`` is the collection ``<name>__t`` (on the
embedded engine, the shard folder ``t``). A point's id is the UUID5 of its key value (fixed
namespace), so re-writing a key replaces its point; the key and every other non-vector column
are the payload, ``vector`` is the single unnamed dense vector (DOT distance on normalised
vectors, so scores equal LanceDB's inner product). Tables without a ``vector`` column
(captions) are collections whose points have no vector: nothing fake is stored or indexed.

The catalogue collection ``meta`` (see :mod:`.catalogue`) holds the metadata, one entry per
table (key column, Arrow schema, version token) and the index's settings.

Writes go in requests of ``batch_size`` points. On a server, transient failures (connection,
timeout, 429, 5xx) are retried with exponential backoff until ``timeout`` seconds have passed,
then one :class:`~vtrsearch.errors.StoreUnavailableError` names the URL.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import InvalidAnnParamsError
from ...extras import require_extra
from ...filters import Filter
from ..ann_params import BuildProgress, build_params, search_defaults, search_params
from ..base import SCORE, VectorStore, typed_conditions
from .catalogue import Catalogue, scroll_pages
from .codec import payload_rows, point_id, points_to_arrow, vector_matrix
from .connection import QdrantConnection, parse_uri
from .engine import Conditions, Engine
from .settings import SERVER_ONLY, QdrantSettings, is_setting, settings_from


class QdrantStore(VectorStore):
    """Tables of one index as Qdrant collections (see the module docstring).

    Args:
        uri: see the module docstring.
        api_key: API key of a server (default: ``QDRANT_API_KEY``); never logged.
        timeout: seconds a server call may spend retrying transient failures (also the
            per-request HTTP timeout).
        batch_size: points per write request.
        **settings: :class:`~.settings.QdrantSettings` by name or URI alias (``shards=6``,
            ``replication_factor=2``, ``exact=True``, ...); they override the URI's, which
            override the settings stored with the index.
    """

    def __init__(
        self,
        uri: str,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        batch_size: int = 500,
        **settings: Any,
    ):
        unknown = sorted(k for k in settings if not is_setting(k))
        if unknown:
            raise TypeError(f"unknown Qdrant store option(s): {', '.join(unknown)}")
        self.uri = str(uri)
        self.location = parse_uri(self.uri)
        self.batch_size = max(1, int(batch_size))
        given = self.location.settings.merged(settings_from(settings))
        if not self.location.server:
            server_only = sorted(set(given.to_json()) & SERVER_ONLY)
            if server_only:
                raise ValueError(
                    f"{', '.join(server_only)}: only a Qdrant server (cluster) has "
                    f"{'this setting' if len(server_only) == 1 else 'these settings'}; "
                    f"{self.uri} is {self.location.display}"
                )
        given.check(f" ({self.uri})")
        self._engine = self._make_engine(api_key, timeout, given)
        self._catalogue = Catalogue(self._engine, self._collection, given, self.uri)
        self._infos: dict[str, dict[str, Any]] = {}

    def _make_engine(self, api_key: str | None, timeout: float, given: QdrantSettings) -> Engine:
        location = self.location
        if location.mode == "edge":
            require_extra("qdrant_edge", "qdrant")
            from .edge import EdgeEngine

            return EdgeEngine(Path(str(location.path)), given)
        require_extra("qdrant_client", "qdrant")
        from .client_engine import ClientEngine

        conn = QdrantConnection(location, api_key=api_key, timeout=timeout)
        return ClientEngine(conn, given)

    def __repr__(self) -> str:
        return f"QdrantStore({self.uri!r})"

    # settings -----------------------------------------------------------------------------
    @property
    def settings(self) -> QdrantSettings:
        """The settings in effect: those stored with the index, overridden by this handle's."""
        return self._catalogue.settings

    def describe(self) -> dict[str, Any]:
        """The engine and its settings (for ``vtrsearch info``)."""
        settings = self.settings
        out = dict(self._engine.describe())
        out["settings"] = settings.to_json()
        return out

    # plumbing -----------------------------------------------------------------------------
    def _collection(self, table: str) -> str:
        return table if self.location.mode == "edge" else f"{self.location.name}__{table}"

    def _where(self, where: Filter | None, schema: pa.Schema) -> Conditions | None:
        """Typed conditions of ``where`` (``None``: it matches nothing)."""
        return typed_conditions(where, schema)

    def _info(self, name: str) -> dict[str, Any]:
        info = self._infos.get(name)
        if info is None:
            payload = self._catalogue.table(name)
            if payload is None:
                raise KeyError(f"table {name!r} does not exist in {self.uri}")
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(payload["schema"])))
            vector = schema.field("vector").type if "vector" in schema.names else None
            dim = getattr(vector, "list_size", None)
            info = self._infos[name] = {"schema": schema, "key": payload["key"], "dim": dim}
        return info

    # tables -------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self._catalogue.exists()

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
        self._catalogue.ensure()
        self.settings  # noqa: B018 - resolve (and check) the settings before creating
        indexes = {c: schema.field(c).type for c in [key, *indexed] if c in schema.names}
        self._engine.create_collection(self._collection(name), dim, indexes)
        self._catalogue.add_table(name, key, schema)  # last: marks the table as complete
        self._infos.pop(name, None)

    def drop_table(self, name: str) -> None:
        self._infos.pop(name, None)
        self._catalogue.remove_table(name)
        self._engine.drop_collection(self._collection(name))

    def list_tables(self) -> list[str]:
        return sorted(p["table"] for p in self._catalogue.entries("table"))

    def table_schema(self, name: str) -> pa.Schema:
        return self._info(name)["schema"]

    # rows ---------------------------------------------------------------------------------
    def upsert(self, name: str, rows: pa.Table, key: str) -> int:
        info = self._info(name)
        schema = info["schema"]
        rows = rows.select(schema.names).cast(schema)
        payload_cols = [c for c in schema.names if c != "vector"]
        self.settings  # noqa: B018 - the write ordering in effect
        written = 0
        try:
            for start in range(0, rows.num_rows, self.batch_size):
                part = rows.slice(start, self.batch_size)
                ids = [point_id(k) for k in part[key].to_pylist()]
                vectors = (
                    None if info["dim"] is None else vector_matrix(part["vector"], info["dim"])
                )
                payloads = payload_rows(part.select(payload_cols))
                self._engine.upsert(self._collection(name), ids, vectors, payloads)
                written += part.num_rows
        finally:
            if written:  # also after a failure: a prefix of the rows is there
                self._catalogue.bump(name)
        return written

    def scan(
        self, name: str, columns: Sequence[str] | None = None, where: Filter | None = None
    ) -> pa.Table:
        schema = self._info(name)["schema"]
        cols = list(columns) if columns is not None else schema.names
        conditions = self._where(where, schema)
        empty = schema.empty_table().select(cols)
        if conditions is None:
            return empty
        page = 256 if "vector" in cols else 2000
        pages = scroll_pages(self._engine, self._collection(name), conditions, cols, page)
        return pa.concat_tables([empty, *(points_to_arrow(p, schema, cols) for p in pages)])

    def iter_batches(
        self, name: str, columns: Sequence[str] | None = None, batch_size: int = 1000
    ) -> Iterator[pa.Table]:
        schema = self._info(name)["schema"]
        cols = list(columns) if columns is not None else schema.names
        collection = self._collection(name)
        for page in scroll_pages(self._engine, collection, [], cols, max(1, batch_size)):
            yield points_to_arrow(page, schema, cols)

    def _search_columns(self, name: str, columns: Sequence[str] | None) -> tuple[pa.Schema, list]:
        schema = self._info(name)["schema"]
        cols = list(columns) if columns is not None else [c for c in schema.names if c != "vector"]
        return schema, cols

    def _scored(self, points: list, schema: pa.Schema, cols: list[str]) -> pa.Table:
        table = points_to_arrow(points, schema, cols)
        return table.append_column(SCORE, pa.array([p.score for p in points], pa.float32()))

    def _ann(self, ann: Mapping[str, Any] | None) -> QdrantSettings | None:
        """This handle's settings with the search parameters ``ann`` (``None``: none given)."""
        if ann is None:
            return None
        given = search_params("qdrant", ann)
        return self.settings.merged(QdrantSettings(**given))

    def search(
        self,
        name: str,
        vector: np.ndarray,
        k: int,
        where: Filter | None = None,
        columns: Sequence[str] | None = None,
        *,
        ann: Mapping[str, Any] | None = None,
    ) -> pa.Table:
        """See :meth:`VectorStore.search`; ``ann`` overrides this handle's search settings
        (``hnsw_ef``, ``rescore``, ``oversampling``, ``exact``) for this query. Qdrant filters
        during the HNSW search (payload-aware graph, exact scan for small filters); should an
        ANN search still return fewer than ``min(k, matching points)``, it is run again
        exactly."""
        schema, cols = self._search_columns(name, columns)
        conditions = self._where(where, schema)
        params = self._ann(ann)
        points: list = []
        if conditions is not None and k > 0:
            self.settings  # noqa: B018 - the search parameters in effect
            fields = [c for c in cols if c != "vector"] or False
            collection = self._collection(name)

            def run(p: QdrantSettings | None) -> list:
                return self._engine.search(
                    collection, vector, int(k), conditions, fields, "vector" in cols, p
                )

            points = run(params)
            if params is not None and not params.exact and len(points) < k:
                if len(points) < min(k, self._engine.count(collection, conditions)):
                    points = run(params.merged(QdrantSettings(exact=True)))
        return self._scored(points, schema, cols)

    def search_groups(
        self,
        name: str,
        vector: np.ndarray,
        k: int,
        group_by: str,
        group_size: int = 1,
        where: Filter | None = None,
        columns: Sequence[str] | None = None,
        *,
        ann: Mapping[str, Any] | None = None,
    ) -> pa.Table:
        schema, cols = self._search_columns(name, columns)
        conditions = self._where(where, schema)
        params = self._ann(ann)
        if conditions is None or k <= 0:
            return self._scored([], schema, cols)
        self.settings  # noqa: B018 - the search parameters in effect
        fields = sorted({*[c for c in cols if c != "vector"], group_by})
        groups = self._engine.search_groups(
            self._collection(name),
            vector,
            int(k),
            group_by,
            int(group_size),
            conditions,
            fields,
            params,
        )
        if groups is None:  # the engine cannot group: the generic way
            return super().search_groups(
                name, vector, k, group_by, group_size, where, columns, ann=ann
            )
        return self._scored([p for group in groups for p in group], schema, cols)

    def count(self, name: str, where: Filter | None = None) -> int:
        conditions = self._where(where, self._info(name)["schema"])
        if conditions is None:
            return 0
        return self._engine.count(self._collection(name), conditions)

    def delete(self, name: str, where: Filter) -> None:
        if not where:
            raise ValueError("refusing to delete with an empty filter")
        conditions = self._where(where, self._info(name)["schema"])
        if conditions is None:
            return
        self._engine.delete(self._collection(name), conditions)
        self._catalogue.bump(name)

    def version(self, name: str) -> Any:
        payload = self._catalogue.table(name, ["version"])
        if payload is None:
            raise KeyError(f"table {name!r} does not exist in {self.uri}")
        return payload.get("version")

    def build_vector_index(
        self,
        name: str,
        kind: str,
        params: Mapping[str, Any] | None = None,
        progress: BuildProgress | None = None,
    ) -> dict[str, Any]:
        """Qdrant HNSW with scalar int8 quantisation (``qdrant-hnsw``) on table ``name``.

        The embedded engine writes the settings into the shard's config and builds the
        graph now (one blocking call); a server applies them with ``update_collection`` and
        indexes in the background while this waits (untested here: no server); qdrant-client
        in memory searches exhaustively and builds nothing. The collection's settings
        (``hnsw_m``, ``ef_construct``, ``quantization``, ``always_ram``) given at creation are
        the starting point; ``params`` replace them for this table. See
        :meth:`VectorStore.build_vector_index`.
        """
        build = build_params(kind, params, "qdrant")
        if self._info(name)["dim"] is None:
            raise InvalidAnnParamsError(f"table {name!r} has no vector column to index")
        int8 = build["quantization"] == "int8"
        if not int8:
            build["always_ram"] = None  # nothing quantised to keep in RAM
        target = replace(  # this handle's settings with the index's
            self.settings,
            hnsw_m=build["m"],
            ef_construct=build["ef_construct"],
            full_scan_threshold=build["full_scan_threshold"],
            quantization="int8" if int8 else None,
            always_ram=build["always_ram"] if int8 else None,
        )
        details = self._engine.build_index(self._collection(name), target, progress)
        return {
            "kind": kind,
            "build": build,
            "search": search_defaults(kind),
            **details,
        }

    def optimize(self, name: str) -> bool:
        """Build the table's HNSW index now where the engine does not do it by itself
        (embedded: blocking, minutes for millions of vectors); ``False`` when nothing changed."""
        self._info(name)
        return self._engine.optimize(self._collection(name))

    # metadata -----------------------------------------------------------------------------
    def get_metadata(self) -> dict[str, Any]:
        return self._catalogue.metadata()

    def set_metadata(self, values: dict[str, Any]) -> None:
        self._catalogue.set_metadata(values)

    def close(self) -> None:
        """Release this handle (shared local storage is closed with its last handle)."""
        self._engine.close()
