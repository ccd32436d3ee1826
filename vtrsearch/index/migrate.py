"""Copy an index from one store to another (LanceDB <-> Qdrant, or same kind to same kind).

Every data table (``videos``, ``captions``, ``segments``, ``caption_times``, every
``caption_vectors_*`` cache) is copied in batches with the same schema, then the metadata
document.

Resuming: upserts are keyed (LanceDB ``merge_insert``, Qdrant UUID5 point ids), so running the
same migration again after a crash or a kill re-writes what was there and completes the rest,
never duplicating a row. Rows that the destination has but the source no longer has (the source
changed between runs) are deleted, so the destination ends up a mirror.

Completeness marker: the metadata is written *last*, after the copy was verified. An index
exists only where its metadata does (``Index.create`` follows the same rule), so a
half-migrated destination is never opened as an index: ``Index.open`` reports no index there
until a run completes. (A ``migrating: true`` flag written first would need ``Index.open`` to
check it, and would leave a key in the copied metadata that the source does not have.)

Verification: per-table row counts must be equal, and for ``verify_sample`` keys per table
every column must be equal and vectors within ``1e-6`` (max abs difference); otherwise
:class:`MigrationError` is raised and no metadata is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import IndexExistsError, IndexNotFoundError, VtrsearchError
from ..filters import Filter
from ..stores import VectorStore, open_store
from ..stores.uri import missing_local_index
from .schema import (
    CAPTION_KEY,
    CAPTION_TIMES,
    CAPTION_VECTORS_PREFIX,
    CAPTIONS,
    PAYLOAD_INDEXES,
    SEGMENT_KEY,
    SEGMENTS,
    VIDEO_KEY,
    VIDEOS,
)

#: Largest tolerated absolute difference between a source and a copied vector component.
VECTOR_TOLERANCE = 1e-6
_KEY_CHUNK = 500  # keys per filter when deleting or sampling
#: Metadata that identifies an index: a destination holding other values is another index.
_IDENTITY = ("created", "dim", "format_version", "feature_model", "categories")


class MigrationError(VtrsearchError, RuntimeError):
    """The copy does not match the source (counts or sampled rows differ)."""


@dataclass
class TableReport:
    """What happened to one table."""

    name: str
    rows: int
    removed: int = 0
    sampled: int = 0
    max_abs_diff: float = 0.0


@dataclass
class MigrationReport:
    """What :func:`migrate_index` copied and checked."""

    src: str
    dst: str
    tables: list[TableReport] = field(default_factory=list)
    metadata_keys: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        """Rows copied over all tables."""
        return sum(t.rows for t in self.tables)

    def summary(self) -> str:
        """One human-readable paragraph."""
        lines = [
            f"migrated {self.src} -> {self.dst}: {self.rows} rows in {len(self.tables)} tables, "
            f"{self.metadata_keys} metadata keys, {self.seconds:.1f}s"
        ]
        for t in self.tables:
            extra = f", removed {t.removed} stale" if t.removed else ""
            lines.append(
                f"  {t.name}: {t.rows} rows{extra}; verified {t.sampled} sampled rows "
                f"(max |diff| {t.max_abs_diff:.1e})"
            )
        return "\n".join(lines)


def table_key(name: str, schema: pa.Schema) -> str:
    """The key column of table ``name``: the known ones, else the first column."""
    if name == VIDEOS:
        return VIDEO_KEY
    if name in (CAPTIONS, CAPTION_TIMES) or name.startswith(CAPTION_VECTORS_PREFIX):
        return CAPTION_KEY
    if name == SEGMENTS:
        return SEGMENT_KEY
    return schema.names[0]


def _open(store: VectorStore | str | Path, options: Mapping[str, Any] | None) -> VectorStore:
    if isinstance(store, VectorStore):
        return store
    return open_store(store, **dict(options or {}))


def _ordered(tables: list[str]) -> list[str]:
    first = [t for t in (VIDEOS, CAPTIONS) if t in tables]
    return first + [t for t in tables if t not in first]


def migrate_index(
    src_uri: VectorStore | str | Path,
    dst_uri: VectorStore | str | Path,
    *,
    batch_size: int = 1000,
    progress: bool = True,
    verify_sample: int = 100,
    on_batch: Callable[[int, int], None] | None = None,
    src_options: Mapping[str, Any] | None = None,
    dst_options: Mapping[str, Any] | None = None,
) -> MigrationReport:
    """Copy the index at ``src_uri`` to ``dst_uri`` (any store to any store).

    Args:
        src_uri: the source index (URI or an open store).
        dst_uri: the destination: empty, a partial copy left by an interrupted run, or a
            complete copy of the same index (then it is brought up to date).
        batch_size: rows per read and per upsert.
        progress: show a progress bar per table.
        verify_sample: rows per table whose columns and vectors are compared (0: counts only).
        on_batch: called as ``on_batch(done, total)`` (rows over all tables) after each batch.
        src_options: keyword options for the source store (e.g. ``api_key``, ``timeout``).
        dst_options: keyword options for the destination store.

    Raises:
        IndexNotFoundError: no index at ``src_uri``.
        IndexExistsError: ``dst_uri`` holds another index.
        MigrationError: the copy does not verify (the destination gets no metadata).
    """
    from tqdm.auto import tqdm

    if not isinstance(src_uri, VectorStore) and str(src_uri) == str(dst_uri):
        raise ValueError("source and destination are the same URI")
    started = time.monotonic()
    if not isinstance(src_uri, VectorStore) and missing_local_index(src_uri) is not None:
        raise IndexNotFoundError(f"no vtrsearch index at {src_uri} (the path does not exist)")
    src = _open(src_uri, src_options)
    if not src.exists():
        raise IndexNotFoundError(f"no vtrsearch index at {src.uri}")
    dst = _open(dst_uri, dst_options)
    meta = src.get_metadata()
    if dst.exists():
        current = dst.get_metadata()
        if any(current.get(k) != meta.get(k) for k in _IDENTITY):
            raise IndexExistsError(
                f"{dst.uri} already holds another index (created {current.get('created')}, "
                f"dim {current.get('dim')}); choose an empty destination"
            )
    tables = _ordered(src.list_tables())
    totals = {t: src.count(t) for t in tables}
    total = sum(totals.values())
    report = MigrationReport(src=src.uri, dst=dst.uri)
    done = 0
    for name in tables:
        schema = src.table_schema(name)
        key = table_key(name, schema)
        dst.create_table(name, schema, key, indexed=PAYLOAD_INDEXES.get(name, ()))
        with tqdm(
            total=totals[name], desc=f"migrating {name}", unit="row", disable=not progress
        ) as bar:
            for batch in src.iter_batches(name, batch_size=batch_size):
                dst.upsert(name, batch, key)
                bar.update(batch.num_rows)
                done += batch.num_rows
                if on_batch is not None:
                    on_batch(done, total)
        removed = _remove_stale(src, dst, name, key)
        report.tables.append(TableReport(name, totals[name], removed))
    for entry in report.tables:
        _verify(src, dst, entry, table_key(entry.name, src.table_schema(entry.name)), verify_sample)
    dst.set_metadata(meta)  # last: its presence marks a complete index
    report.metadata_keys = len(meta)
    report.seconds = time.monotonic() - started
    return report


def _keys(store: VectorStore, name: str, key: str) -> set[str]:
    return set(store.scan(name, columns=[key])[key].to_pylist())


def _remove_stale(src: VectorStore, dst: VectorStore, name: str, key: str) -> int:
    """Delete the rows of ``dst`` whose key the source no longer has."""
    stale = sorted(_keys(dst, name, key) - _keys(src, name, key))
    for start in range(0, len(stale), _KEY_CHUNK):
        dst.delete(name, Filter.where(**{key: stale[start : start + _KEY_CHUNK]}))
    return len(stale)


def _by_key(store: VectorStore, name: str, key: str, keys: list[str]) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for start in range(0, len(keys), _KEY_CHUNK):
        where = Filter.where(**{key: keys[start : start + _KEY_CHUNK]})
        for row in store.scan(name, where=where).to_pylist():
            rows[row[key]] = row
    return rows


def _verify(src: VectorStore, dst: VectorStore, entry: TableReport, key: str, sample: int) -> None:
    name = entry.name
    got = dst.count(name)
    if got != entry.rows:
        raise MigrationError(f"table {name!r}: {entry.rows} rows in the source, {got} copied")
    if sample <= 0 or entry.rows == 0:
        return
    keys = sorted(_keys(src, name, key))
    picks = np.unique(np.linspace(0, len(keys) - 1, num=min(sample, len(keys))).astype(int))
    chosen = [keys[i] for i in picks]
    want, have = _by_key(src, name, key, chosen), _by_key(dst, name, key, chosen)
    worst = 0.0
    for k in chosen:
        a, b = want.get(k), have.get(k)
        if b is None or a is None:
            raise MigrationError(f"table {name!r}: row {k!r} is missing from the copy")
        for column, value in a.items():
            if column == "vector":
                diff = np.abs(np.asarray(value, np.float64) - np.asarray(b[column], np.float64))
                worst = max(worst, float(diff.max(initial=0.0)))
            elif b.get(column) != value:
                raise MigrationError(
                    f"table {name!r}, row {k!r}: column {column!r} is {b.get(column)!r} in the "
                    f"copy, {value!r} in the source"
                )
    if worst > VECTOR_TOLERANCE:
        raise MigrationError(f"table {name!r}: vectors differ by up to {worst:.3g}")
    entry.sampled, entry.max_abs_diff = len(chosen), worst
