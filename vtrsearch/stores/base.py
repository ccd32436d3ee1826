"""The vector-store interface every backend implements.

A store holds named tables of Arrow rows, each with a string key column, and one metadata
document. ``Index`` talks only to this interface, so LanceDB and Qdrant are interchangeable;
no backend type or query string crosses it.

Filter semantics are the same in every store (:func:`typed_conditions`): a value matches a
column only when it has the column's kind (a string never matches an integer column, ``1``
never matches a string column), so user text is always a plain value, never an expression.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from numbers import Integral, Real
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import UnsupportedError
from ..filters import Filter, In
from .ann_params import BuildProgress

#: Name of the similarity column added to search results (higher is more similar).
SCORE = "_score"


def _accepts(kind: pa.DataType, value: object) -> bool:
    if pa.types.is_boolean(kind):
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):
        return False
    if pa.types.is_integer(kind):
        return isinstance(value, Integral) or (
            isinstance(value, Real) and float(value).is_integer()
        )
    if pa.types.is_floating(kind):
        return isinstance(value, Real)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return isinstance(value, str)
    return False


def _plain(kind: pa.DataType, value: object) -> object:
    if pa.types.is_boolean(kind):
        return bool(value)  # type: ignore[arg-type]
    if pa.types.is_integer(kind):
        return int(value)  # type: ignore[call-overload]
    if pa.types.is_floating(kind):
        return float(value)  # type: ignore[arg-type]
    return value


def typed_conditions(
    where: Filter | None, schema: pa.Schema
) -> list[tuple[str, pa.DataType, tuple]] | None:
    """The conditions of ``where`` with values coerced to their column's kind.

    Values of another kind are dropped (they can match no row): ``"1"`` for an integer column,
    ``1`` for a string column, ``True`` for a numeric column. Numeric values become Python
    ``int``/``float``.

    Returns:
        ``[(column, type, values), ...]`` (empty for no filter), or ``None`` when some
        condition is left with no value, i.e. the filter matches no row.

    Raises:
        KeyError: a condition names a column the table does not have.
    """
    out: list[tuple[str, pa.DataType, tuple]] = []
    for cond in where.conditions if where else ():
        if cond.column not in schema.names:
            raise KeyError(f"no column {cond.column!r} (columns: {', '.join(schema.names)})")
        kind = schema.field(cond.column).type
        values = tuple(dict.fromkeys(_plain(kind, v) for v in cond.values if _accepts(kind, v)))
        if not values:
            return None
        out.append((cond.column, kind, values))
    return out


class VectorStore(ABC):
    """Abstract table + vector store used by :class:`vtrsearch.Index`."""

    uri: str

    @abstractmethod
    def exists(self) -> bool:
        """Whether an index has been created at this URI (its metadata exists)."""

    @abstractmethod
    def has_table(self, name: str) -> bool:
        """Whether table ``name`` exists."""

    @abstractmethod
    def create_table(
        self, name: str, schema: pa.Schema, key: str, *, indexed: Sequence[str] = ()
    ) -> None:
        """Create table ``name`` (no-op when it exists with the same schema).

        ``indexed`` names payload columns the store should index for filtering besides ``key``
        (a server store creates payload indexes; embedded stores may ignore it).
        """

    @abstractmethod
    def drop_table(self, name: str) -> None:
        """Delete table ``name`` and its rows (no-op when absent)."""

    @abstractmethod
    def list_tables(self) -> list[str]:
        """Names of the data tables, sorted (the store's internal metadata table excluded)."""

    @abstractmethod
    def table_schema(self, name: str) -> pa.Schema:
        """The Arrow schema table ``name`` was created with (``KeyError`` when absent)."""

    @abstractmethod
    def upsert(self, name: str, rows: pa.Table, key: str) -> int:
        """Insert ``rows``, replacing rows whose ``key`` already exists. Returns rows written.

        Atomicity depends on the backend: in LanceDB one call is one commit (every row of the
        batch is visible afterwards or none is), or two when it both appends new keys and
        merges stored ones (each all-or-nothing); Qdrant applies each request of at most its
        ``batch_size`` points as one operation, so a failed call may leave a prefix of the
        rows written. Either way re-running the same upsert converges (no duplicates).
        """

    @abstractmethod
    def scan(
        self, name: str, columns: Sequence[str] | None = None, where: Filter | None = None
    ) -> pa.Table:
        """Rows of ``name`` matching ``where`` (all when ``None``), selected ``columns``.

        Row order is unspecified (insertion order in LanceDB, point-id order in Qdrant).
        """

    def iter_batches(
        self, name: str, columns: Sequence[str] | None = None, batch_size: int = 1000
    ) -> Iterator[pa.Table]:
        """Every row of ``name`` as tables of at most ``batch_size`` rows (for bulk copies).

        The default reads the whole table with :meth:`scan`; stores override it to stream.
        """
        table = self.scan(name, columns=columns)
        for start in range(0, table.num_rows, max(1, batch_size)):
            yield table.slice(start, batch_size)

    @abstractmethod
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
        """Top-``k`` rows by inner-product similarity using the store's own engine.

        The result has the selected ``columns`` plus :data:`SCORE`, best first. :class:`Index`
        uses its exact in-memory matrix instead and calls this for ``via_store`` searches,
        comparisons and the store-side ANN path.

        Args:
            ann: ``None``: the store's default search (LanceDB: exact, even when a vector
                index exists; Qdrant: its settings). A mapping (possibly empty): search the
                index built by :meth:`build_vector_index` with these search parameters (see
                :mod:`.ann_params`; unknown names are an ``InvalidAnnParamsError``). A
                filtered ANN search is a pre-filter: it returns ``min(k, matching rows)``
                rows.
        """

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
        """The best ``k`` groups of rows sharing the value of ``group_by``, at most
        ``group_size`` rows each, by the store's own engine (e.g. moments per video).

        Rows come group by group (the group of the best row first), best first within a
        group, with the selected ``columns`` plus :data:`SCORE`. The default asks
        :meth:`search` for more and more rows until the ``k`` best groups are known with all
        their members (up to ``group_size``, checked with :meth:`count`); Qdrant servers
        group on the server (``query_points_groups``). ``ann`` as in :meth:`search`.
        """
        wanted = sorted({*columns, group_by}) if columns is not None else None
        total = self.count(name, where)
        limit = max(1, k) * max(1, group_size) * 2
        sizes: dict[object, int] = {}
        while True:
            n = min(limit, max(total, 1))
            rows = self.search(name, vector, n, where, columns=wanted, ann=ann)
            groups: dict[object, list[int]] = {}
            for i, value in enumerate(rows[group_by].to_pylist()):
                members = groups.setdefault(value, [])
                if len(members) < group_size:
                    members.append(i)
            top = list(groups.items())[: max(0, k)]
            if n >= total:
                break
            if len(top) >= k:  # the k best groups are known; are their members?
                for value, members in top:
                    if len(members) < group_size and value not in sizes:
                        same = Filter(
                            (*where.conditions, In(group_by, (value,)))
                            if where
                            else (In(group_by, (value,)),)
                        )
                        sizes[value] = self.count(name, same)
                if all(len(m) >= min(group_size, sizes.get(v, group_size)) for v, m in top):
                    break
            limit *= 4
        picks = [i for _, members in top for i in members]
        out = rows.take(pa.array(picks, pa.int64()))
        keep = list(columns) if columns is not None else out.column_names[:-1]
        return out.select([*keep, SCORE])

    def build_vector_index(
        self,
        name: str,
        kind: str,
        params: Mapping[str, Any] | None = None,
        progress: BuildProgress | None = None,
    ) -> dict[str, Any]:
        """Build (or finish) the store's ANN index of kind ``kind`` on table ``name``.

        Resumable and idempotent: re-running a killed or failed build finishes it, and a build
        of a table already indexed with the same kind and parameters does nothing (new rows
        written since are added where the store can). ``progress(done, total)`` is called per
        stage (one stage where the store builds in one call).

        Returns:
            ``{"kind", "build": {every build parameter}, "search": {default search
            parameters}, "built": bool (False: nothing to do), ...}`` (store details), to be
            kept with the index.

        Raises:
            UnsupportedError: the store has no ANN index (the default).
            InvalidAnnParamsError: an unknown kind or a bad parameter.
        """
        raise UnsupportedError(f"{type(self).__name__} ({self.uri}) cannot build an ANN index")

    @abstractmethod
    def count(self, name: str, where: Filter | None = None) -> int:
        """Number of rows of ``name`` matching ``where``."""

    @abstractmethod
    def delete(self, name: str, where: Filter) -> None:
        """Delete the rows of ``name`` matching ``where`` (an empty filter is refused)."""

    @abstractmethod
    def version(self, name: str) -> Any:
        """A value that changes whenever table ``name`` is written (by any process)."""

    @abstractmethod
    def get_metadata(self) -> dict[str, Any]:
        """The index metadata document (empty dict when none)."""

    @abstractmethod
    def set_metadata(self, values: dict[str, Any]) -> None:
        """Merge ``values`` into the metadata document (JSON-serialisable values)."""

    def write_lock(self) -> AbstractContextManager[Any]:
        """A lock that serialises writers of this store across processes (re-entrant).

        Stores whose upserts cannot duplicate keys under concurrency (Qdrant: a point id is a
        hash of its key) need none; the default is a no-op.
        """
        return nullcontext()

    def optimize(self, name: str) -> bool:
        """Build ``name``'s search index now where the store does not do it by itself
        (the embedded Qdrant engine); ``False`` when nothing was done."""
        return False

    def describe(self) -> dict[str, Any]:
        """What the store is and its settings (shown by ``vtrsearch info``)."""
        return {"engine": type(self).__name__, "settings": {}}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (optional)."""
