"""Bulk writes of :class:`vtrsearch.Index`: one table, or a stream of batches.

``add_videos``/``add_segments`` take either one table (validated whole before anything is
written) or an iterable of batches (DataFrames, Arrow tables or record batches, dicts of
columns, or a ``pyarrow.RecordBatchReader``), validated and written one batch at a time so a
million rows go in with flat memory. A bad row in batch ``i`` stops the call with an error
naming the batch, its rows in the stream and the video; batches ``1 .. i-1`` are already
committed (upserts, so running the same stream again converges), nothing of batch ``i`` or
later is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

ProgressFn = Callable[[int, int], None]
Progress = ProgressFn | bool | None

#: Rows per store commit when the caller does not say: few commits (each is a LanceDB
#: fragment and a version: 20 for a million rows), ~200 MB of 1024-d float32 vectors at a
#: time. Slicing a batch is zero-copy, so this bounds what the store buffers, not our memory.
DEFAULT_BATCH_ROWS = 50_000


def is_stream(data: Any) -> bool:
    """Whether ``data`` is a stream of batches rather than one table (or a column of ids)."""
    if isinstance(data, pa.RecordBatchReader):
        return True
    if data is None or isinstance(data, (pa.Table, pa.RecordBatch, dict, str, bytes)):
        return False
    if hasattr(data, "columns") and hasattr(data, "to_dict"):  # a pandas DataFrame
        return False
    return hasattr(data, "__iter__")


def _batches(data: Any) -> Iterator[Any]:
    if isinstance(data, pa.RecordBatchReader):
        yield from data  # record batches, read one at a time
        return
    for i, batch in enumerate(data, start=1):
        if not (
            isinstance(batch, (pa.Table, pa.RecordBatch, dict))
            or (hasattr(batch, "columns") and hasattr(batch, "to_dict"))
        ):
            raise TypeError(
                f"batch {i} of the stream is a {type(batch).__name__}; a stream holds "
                "DataFrames, Arrow tables or record batches, or dicts of columns (for ids "
                "and vectors call add_videos(ids, vectors, categories=...))"
            )
        yield batch


def _rows(batch: Any) -> int:
    if isinstance(batch, dict):
        first = next(iter(batch.values()), ())
        return len(first)
    return len(batch)


def _wrapped(exc: BaseException, number: int, start: int, rows: int) -> BaseException:
    """``exc`` with the batch and its stream rows in front of its message (same type)."""
    where = f"batch {number} of the stream (rows {start}-{start + rows - 1}): "
    if rows == 0:
        where = f"batch {number} of the stream: "
    try:
        return type(exc)(where + str(exc))
    except Exception:  # an exception type that wants other arguments
        return ValueError(where + str(exc))


def write_stream(
    data: Any,
    validate: Callable[[Any], pa.Table],
    write: Callable[[pa.Table], int],
    report: Callable[[int], None],
) -> int:
    """Validate and write each batch of ``data`` in turn; returns the rows written.

    ``validate`` turns one input batch into checked rows, ``write`` commits them (in as many
    commits as its batch size asks) and ``report`` hears the running total. Errors from a
    batch name it (see the module docstring).
    """
    done = 0
    start = 0
    for number, batch in enumerate(_batches(data), start=1):
        try:
            rows = _rows(batch)
        except TypeError:
            rows = 0
        try:
            table = validate(batch)
        except (ValueError, TypeError, KeyError) as exc:
            raise _wrapped(exc, number, start, rows) from exc
        start += table.num_rows
        if table.num_rows:
            done += write(table)
            report(done)
    return done


@contextmanager
def progress_reporter(progress: Progress, total: int | None, desc: str) -> Iterator[ProgressFn]:
    """A ``(done, total)`` callback: the caller's, a tqdm bar (``progress=True``) or none.

    ``total`` is 0 when unknown (a stream without a ``total=`` hint).
    """
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=total or None, desc=desc, unit="row", leave=False)

        def update(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        try:
            yield update
        finally:
            bar.close()
    elif callable(progress):
        yield progress
    else:
        yield lambda done, total: None
