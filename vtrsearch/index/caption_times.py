"""Caption times: the moment ``[start, end)`` (seconds) a caption describes, in a table apart.

ActivityNet Captions gives every sentence the start and end of the moment it describes; MSR-VTT
and MSVD captions describe the whole clip. The times live in a table of their own,
``caption_times`` (``sen_id``, ``video_id``, ``start``, ``end``), created by the first caption
written with times, rather than as nullable ``start``/``end`` columns of ``captions``:

* an index made before times existed keeps its ``captions`` table exactly as it is: nothing to
  migrate, and neither store (whose tables have a fixed schema) needs a schema change;
* datasets without times write nothing extra (no columns of nulls on every caption row);
* every reader of ``captions`` (caption cache, evaluation, first captions, TUI) is unchanged;
* ``vtrsearch migrate`` copies it like any other table, keyed on ``sen_id``.

A caption written again without times loses its stored times: a caption is replaced whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ..filters import Filter
from .rows import as_columns, listing
from .schema import CAPTION_KEY, CAPTION_TIMES, CAPTION_TIMES_SCHEMA, PAYLOAD_INDEXES

_KEY_CHUNK = 500  # keys per delete filter


def _time_columns(
    data: Any, starts: Sequence[Any] | None, ends: Sequence[Any] | None
) -> tuple[list | None, list | None]:
    """``starts``/``ends`` as given, else the ``start``/``end`` columns of a frame."""
    if starts is not None or ends is not None:
        if starts is None or ends is None:
            raise ValueError("caption times need both starts and ends (or neither)")
        return list(starts), list(ends)
    if data is None or isinstance(data, (list, tuple)) or not hasattr(data, "__len__"):
        return None, None
    try:
        cols = as_columns(data)
    except TypeError:
        return None, None
    if "start" not in cols and "end" not in cols:
        return None, None
    if "start" not in cols or "end" not in cols:
        raise ValueError("caption times need both a 'start' and an 'end' column (or neither)")
    return list(cols["start"]), list(cols["end"])


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def caption_time_rows(
    captions: pa.Table,
    data: Any = None,
    starts: Sequence[Any] | None = None,
    ends: Sequence[Any] | None = None,
) -> tuple[pa.Table | None, list[str]]:
    """Validated ``caption_times`` rows for a validated ``captions`` batch.

    Args:
        captions: The batch's caption rows (``sen_id``, ``video_id``, ``text``).
        data: The frame the captions came from (its ``start``/``end`` columns, if any).
        starts: Start of each caption's moment, or ``None`` for a caption without times.
        ends: End of each caption's moment (same length).

    Returns:
        ``(timed rows or None, sen_ids of the captions without times)``.

    Raises:
        ValueError: a start without an end (or the reverse), a time that is not a finite
            number, ``start < 0`` or ``end <= start``; the message names the ``sen_id``.
    """
    sen_ids = captions["sen_id"].to_pylist()
    start_col, end_col = _time_columns(data, starts, ends)
    if start_col is None or end_col is None:
        return None, sen_ids
    if len(start_col) != len(sen_ids) or len(end_col) != len(sen_ids):
        raise ValueError(
            f"caption times: {len(start_col)} starts and {len(end_col)} ends for "
            f"{len(sen_ids)} captions"
        )
    keep: list[int] = []
    untimed: list[str] = []
    begin = np.zeros(len(sen_ids), dtype=np.float64)
    finish = np.zeros(len(sen_ids), dtype=np.float64)
    for i, (sen, s, e) in enumerate(zip(sen_ids, start_col, end_col, strict=True)):
        if _missing(s) and _missing(e):
            untimed.append(sen)
            continue
        if _missing(s) or _missing(e):
            raise ValueError(f"caption {sen}: a start time needs an end time (got {s!r}, {e!r})")
        if not (_number(s) and _number(e)):
            raise ValueError(
                f"caption {sen}: start and end must be numbers of seconds, got {s!r}, {e!r}"
            )
        begin[i], finish[i] = float(s), float(e)
        keep.append(i)
    rows = np.asarray(keep, dtype=np.int64)
    bad = rows[
        ~np.isfinite(begin[rows])
        | ~np.isfinite(finish[rows])
        | (begin[rows] < 0)
        | (finish[rows] <= begin[rows])
    ]
    if bad.size:
        shown = listing([f"{sen_ids[i]} ({begin[i]:g}-{finish[i]:g})" for i in bad.tolist()])
        raise ValueError(f"caption times must be finite with 0 <= start < end: {shown}")
    if not keep:
        return None, untimed
    table = pa.table(
        {
            "sen_id": [sen_ids[i] for i in keep],
            "video_id": captions["video_id"].take(pa.array(rows)).to_pylist(),
            "start": pa.array(begin[rows], pa.float64()),
            "end": pa.array(finish[rows], pa.float64()),
        },
        schema=CAPTION_TIMES_SCHEMA,
    )
    return table, untimed


class CaptionTimesMixin:
    """Writing and reading caption times, mixed into :class:`vtrsearch.Index`."""

    store: Any  # VectorStore, provided by Index

    def _write(self, name: str, table: pa.Table, key: str, batch_size: int, progress: Any) -> int:
        raise NotImplementedError  # provided by Index

    def _write_caption_times(
        self, times: pa.Table | None, untimed: Sequence[str], batch_size: int
    ) -> None:
        """Store ``times`` and forget the stored times of the ``untimed`` captions."""
        if untimed and self.store.has_table(CAPTION_TIMES):
            ids = list(untimed)
            with self.store.write_lock():
                for start in range(0, len(ids), _KEY_CHUNK):
                    where = Filter.where(sen_id=ids[start : start + _KEY_CHUNK])
                    self.store.delete(CAPTION_TIMES, where)
        if times is None or times.num_rows == 0:
            return
        if not self.store.has_table(CAPTION_TIMES):
            self.store.create_table(
                CAPTION_TIMES,
                CAPTION_TIMES_SCHEMA,
                CAPTION_KEY,
                indexed=PAYLOAD_INDEXES[CAPTION_TIMES],
            )
        self._write(CAPTION_TIMES, times, CAPTION_KEY, batch_size, None)

    def _delete_caption_times(self, video_ids: tuple[str, ...]) -> None:
        if video_ids and self.store.has_table(CAPTION_TIMES):
            self.store.delete(CAPTION_TIMES, Filter.where(video_id=video_ids))

    def has_caption_times(self) -> bool:
        """Whether any caption of the index has a start and end time."""
        return self.store.has_table(CAPTION_TIMES) and self.store.count(CAPTION_TIMES) > 0

    def caption_times(self, video_ids: str | Iterable[str] | None = None) -> pa.Table:
        """``sen_id``, ``video_id``, ``start``, ``end`` of the captions that have times.

        Args:
            video_ids: Only the captions of these videos (default: every caption).

        Returns:
            An Arrow table (empty, with the schema, when no caption has times).
        """
        if not self.store.has_table(CAPTION_TIMES):
            return CAPTION_TIMES_SCHEMA.empty_table()
        if video_ids is None:
            return self.store.scan(CAPTION_TIMES, columns=list(CAPTION_TIMES_SCHEMA.names))
        ids = [video_ids] if isinstance(video_ids, str) else [str(v) for v in video_ids]
        parts = [
            self.store.scan(
                CAPTION_TIMES,
                columns=list(CAPTION_TIMES_SCHEMA.names),
                where=Filter.where(video_id=ids[start : start + _KEY_CHUNK]),
            )
            for start in range(0, len(ids), _KEY_CHUNK)
        ]
        if not parts:
            return CAPTION_TIMES_SCHEMA.empty_table()
        return pa.concat_tables([p.select(CAPTION_TIMES_SCHEMA.names) for p in parts])
