"""LanceDB implementation of :class:`VectorStore` (the embedded default).

Filters become ``lancedb.expr`` expressions (``col(...).isin([...])``), never SQL text, after
:func:`~.base.typed_conditions` dropped values of the wrong kind (so behaviour matches Qdrant);
upserts append the rows whose key is new (``add``, as fast as a raw append) and
``merge_insert`` on the key column the rows whose key is stored: one commit per batch, two
when a batch both adds and replaces keys.

Concurrent writers: LanceDB commits two ``merge_insert`` calls made from the same table version
without noticing that both inserted the same new key, so two processes upserting one id would
both insert it. Every write of a local index therefore holds an inter-process lock
(``<index>/.vtrsearch-write.lock``, an ``flock`` released by the kernel if the holder dies) and
reads the latest version inside it. Object-store URIs (``s3://``...) have no such lock: use one
writer at a time there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import StoreUnavailableError
from ..filters import Filter
from . import lance_ann
from .ann_params import BuildProgress
from .base import SCORE, VectorStore, typed_conditions
from .uri import local_dir

META_TABLE = "_meta"
LOCK_FILE = ".vtrsearch-write.lock"
_META_SCHEMA = pa.schema(
    [pa.field("key", pa.string(), nullable=False), pa.field("value", pa.string())]
)


_NOTHING = object()  # a filter no row can match


def _expression(where: Filter | None, schema: pa.Schema):
    """The ``lancedb.expr`` for ``where``: ``None`` (no filter) or ``_NOTHING``."""
    from lancedb.expr import col

    conditions = typed_conditions(where, schema)
    if conditions is None:
        return _NOTHING
    if not conditions:
        return None
    parts = [col(column).isin(list(values)) for column, _, values in conditions]
    return reduce(lambda a, b: a & b, parts)


def _key_hashes(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-bit hashes of key values (Python's ``hash``: fast, and only compared in-process)."""
    values = keys.to_pylist()
    return np.fromiter(map(hash, values), dtype=np.int64, count=len(values))


def _append(table: Any, rows: pa.Table) -> None:
    """``table.add(rows)``, surviving a LanceDB quirk: before its first ``add`` it registers
    converters for optional libraries by module name, so any loaded module called ``datasets``
    (a project's own package, not Hugging Face's) makes that call fail with an ImportError
    before anything is written; the registration is not retried, so the second call works."""
    try:
        table.add(rows)
    except ImportError as exc:
        if "datasets" not in str(exc):
            raise
        table.add(rows)


class _KeySet:
    """Hashes of a table's stored keys, as sorted runs (8 bytes a row).

    :meth:`contains` may say yes for a key that is not stored (a hash collision, about one in
    10^9 per million keys); such a row is merged rather than appended, which is just as
    correct. It never says no for a stored key.
    """

    def __init__(self, version: Any):
        self.version = version
        self.runs: list[np.ndarray] = []
        self.rows = 0

    def add(self, hashes: np.ndarray) -> None:
        if hashes.size:
            self.runs.append(np.sort(hashes))
            self.rows += hashes.size
        if len(self.runs) > 16:  # keep lookups to a few binary searches
            self.runs = [np.sort(np.concatenate(self.runs))]

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        found = np.zeros(hashes.size, dtype=bool)
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, hashes), run.size - 1)
            found |= run[at] == hashes
        return found


class LanceStore(VectorStore):
    """Tables in one LanceDB database (a local directory or an object-store URI)."""

    def __init__(self, uri: str | Path):
        import lancedb

        self.uri = str(uri)
        folder = local_dir(self.uri)
        if folder is not None and folder.exists() and not folder.is_dir():
            raise StoreUnavailableError(f"{self.uri} is a file, not an index folder")
        try:
            # Strong read consistency: every read sees writes made by other handles/processes.
            self._db = lancedb.connect(self.uri, read_consistency_interval=timedelta(0))
        except Exception as exc:  # pragma: no cover - depends on the URI scheme
            raise StoreUnavailableError(f"cannot open LanceDB at {self.uri}: {exc}") from exc
        self._tables: dict[str, Any] = {}
        self._lock_path = None if folder is None else folder / LOCK_FILE
        self._lock: Any = None
        # table -> hashes of its stored keys, tagged with the version they hold for
        self._keys: dict[str, _KeySet] = {}

    # tables -------------------------------------------------------------------------------
    def _table(self, name: str):
        table = self._tables.get(name)
        if table is None:
            try:
                table = self._db.open_table(name)
            except (FileNotFoundError, ValueError) as exc:
                raise KeyError(f"table {name!r} does not exist in {self.uri}") from exc
            self._tables[name] = table
        return table

    def exists(self) -> bool:
        return self.has_table(META_TABLE)

    def has_table(self, name: str) -> bool:
        if name in self._tables:
            return True
        try:
            self._table(name)
        except KeyError:
            return False
        return True

    def create_table(
        self, name: str, schema: pa.Schema, key: str, *, indexed: Sequence[str] = ()
    ) -> None:
        if self.has_table(name):
            existing = self._table(name).schema
            if existing.names != schema.names:
                raise ValueError(
                    f"table {name!r} in {self.uri} has columns {existing.names}, "
                    f"expected {schema.names}"
                )
            return
        self._tables[name] = self._db.create_table(name, schema=schema, exist_ok=True)

    def drop_table(self, name: str) -> None:
        self._tables.pop(name, None)
        self._keys.pop(name, None)
        try:
            self._db.drop_table(name)
        except (FileNotFoundError, ValueError):
            pass

    def list_tables(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            page = self._db.list_tables(page_token=token)
            names += page.tables
            token = page.page_token
            if not token:
                break
        return sorted(n for n in names if n != META_TABLE)

    def table_schema(self, name: str) -> pa.Schema:
        return self._table(name).schema

    def write_lock(self) -> AbstractContextManager[Any]:
        if self._lock_path is None:
            return nullcontext()
        if self._lock is None:
            from filelock import FileLock

            self._lock_path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = FileLock(str(self._lock_path))
        return self._lock

    # rows ---------------------------------------------------------------------------------
    def upsert(self, name: str, rows: pa.Table, key: str) -> int:
        """Insert ``rows``, replacing stored rows with the same ``key``.

        Rows whose key is not stored yet are appended with one ``add`` (as fast as a raw
        LanceDB append); only rows whose key is stored go through ``merge_insert``. Both
        happen under the write lock against the latest version, with the stored keys known
        (by hash, see :meth:`_stored_keys`), so concurrent writers still leave one row per key.
        A batch with a repeated key is merged as a whole (``merge_insert`` semantics).
        """
        if rows.num_rows == 0:
            return 0
        table = self._table(name)
        schema = table.schema
        rows = rows.select(schema.names).cast(schema)
        with self.write_lock():
            table.checkout_latest()  # merge against every row committed before the lock
            hashes = _key_hashes(rows[key])
            if np.unique(hashes).size != hashes.size:  # a repeated key (or a hash collision)
                self._merge(table, rows, key)
                self._keys.pop(name, None)
                return rows.num_rows
            known = self._stored_keys(name, table, key)
            maybe = known.contains(hashes)
            fresh = rows
            if maybe.any():  # stored keys (and rare hash collisions, merged just as well)
                self._merge(table, rows.filter(pa.array(maybe)), key)
                fresh = rows.filter(pa.array(~maybe))
            if fresh.num_rows:
                _append(table, fresh)
            known.add(hashes[~maybe])
            if table.count_rows() == known.rows:
                known.version = table.version
            else:  # a hash collision was merged as a new row: read the keys again next time
                self._keys.pop(name, None)
        return rows.num_rows

    @staticmethod
    def _merge(table: Any, rows: pa.Table, key: str) -> None:
        (
            table.merge_insert(key)
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(rows)
        )

    def _stored_keys(self, name: str, table: Any, key: str) -> _KeySet:
        """Hashes of every stored key of ``name`` (under the write lock, at the latest version).

        Kept between calls with the table version it was read at: while this handle is the
        only writer each upsert extends it instead of reading the key column again; any other
        commit (another process, a delete) changes the version and the column is read afresh.
        """
        known = self._keys.get(name)
        if known is not None and known.version == table.version:
            return known
        known = _KeySet(table.version)
        if table.count_rows() == 0:  # a new table: nothing to read
            self._keys[name] = known
            return known
        for batch in table.search().select([key]).limit(None).to_batches(200_000):
            known.add(_key_hashes(batch.column(batch.schema.get_field_index(key))))
        self._keys[name] = known
        return known

    def scan(
        self, name: str, columns: Sequence[str] | None = None, where: Filter | None = None
    ) -> pa.Table:
        table = self._table(name)
        schema = table.schema
        expr = _expression(where, schema)
        if expr is _NOTHING:
            return schema.empty_table().select(list(columns or schema.names))
        query = table.search()
        if expr is not None:
            query = query.where(expr)
        if columns is not None:
            query = query.select(list(columns))
        result = query.limit(None).to_arrow()
        if columns is not None:
            result = result.select(list(columns))
        return result

    def iter_batches(
        self, name: str, columns: Sequence[str] | None = None, batch_size: int = 1000
    ) -> Iterator[pa.Table]:
        query = self._table(name).search()
        if columns is not None:
            query = query.select(list(columns))
        for batch in query.limit(None).to_batches(batch_size):
            table = pa.Table.from_batches([batch])
            yield table.select(list(columns)) if columns is not None else table

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
        """See :meth:`VectorStore.search`. ``ann=None`` is an exact (flat) search even when
        the table has a vector index; with ``ann`` the index is searched, and a filtered
        search pre-filters. LanceDB has returned fewer rows than asked from filtered ANN
        searches (its issues #2761/#2762): when an ANN search returns fewer than
        ``min(k, matching rows)`` rows, it is answered again exactly (flat, pre-filtered).
        """
        table = self._table(name)
        q = lance_ann.as_query(vector)
        cols = (
            list(columns)
            if columns is not None
            else [c for c in table.schema.names if c != "vector"]
        )
        expr = _expression(where, table.schema)
        if expr is _NOTHING:
            empty = table.schema.empty_table().select(cols)
            return empty.append_column(SCORE, pa.array([], pa.float32()))

        def run(ann: Mapping[str, Any] | None) -> pa.Table:
            query = table.search(q, vector_column_name="vector").distance_type("dot")
            query = lance_ann.configure(query, ann)
            if expr is not None:
                query = query.where(expr, prefilter=True)
            return query.select([*cols, "_distance"]).limit(k).to_arrow()

        result = run(ann)
        if ann is not None and result.num_rows < k:  # under-returned? (see the docstring)
            if result.num_rows < min(k, self.count(name, where)):
                result = run(None)
        # LanceDB's "dot" distance is 1 - <q, v>; turn it back into a similarity.
        scores = pa.compute.subtract(pa.scalar(1.0, pa.float32()), result["_distance"])
        return result.select(cols).append_column(SCORE, scores)

    def build_vector_index(
        self,
        name: str,
        kind: str,
        params: Mapping[str, Any] | None = None,
        progress: BuildProgress | None = None,
    ) -> dict[str, Any]:
        """LanceDB ``IVF_HNSW_SQ`` (``lance-ivf-hnsw-sq``) or ``IVF_PQ`` (``lance-ivf-pq``) on
        ``name``'s ``vector`` column, dot metric; see :mod:`.lance_ann` and
        :meth:`VectorStore.build_vector_index`. ``create_index`` is one call: ``progress``
        sees its start and end (a caller shows a spinner in between)."""
        return lance_ann.build(self._table(name), kind, params, progress)

    def count(self, name: str, where: Filter | None = None) -> int:
        table = self._table(name)
        if not where:
            return table.count_rows()
        return self.scan(name, columns=[table.schema.names[0]], where=where).num_rows

    def delete(self, name: str, where: Filter) -> None:
        if not where:
            raise ValueError("refusing to delete with an empty filter")
        table = self._table(name)
        expr = _expression(where, table.schema)
        if expr is not _NOTHING:
            table.delete(expr)

    def version(self, name: str) -> Any:
        return self._table(name).version

    # metadata -----------------------------------------------------------------------------
    def get_metadata(self) -> dict[str, Any]:
        if not self.has_table(META_TABLE):
            return {}
        rows = self.scan(META_TABLE).to_pylist()
        return {row["key"]: json.loads(row["value"]) for row in rows}

    def set_metadata(self, values: dict[str, Any]) -> None:
        rows = pa.table(
            {
                "key": list(values),
                "value": [json.dumps(v, sort_keys=True) for v in values.values()],
            },
            schema=_META_SCHEMA,
        )
        with self.write_lock():
            if self.has_table(META_TABLE):
                self.upsert(META_TABLE, rows, "key")
            else:  # one commit creates the table with its rows: never an empty _meta
                self._tables[META_TABLE] = self._db.create_table(META_TABLE, data=rows)

    def describe(self) -> dict[str, Any]:
        return {"engine": f"LanceDB (embedded) in {self.uri}", "settings": {}}
