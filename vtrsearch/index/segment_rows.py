"""Validation of segment rows (moments of a video) before they reach the store.

A batch is checked as a whole first: ids, finite times with ``0 <= start < end``, segment
numbers, vectors (dimension, NaN/inf, zero), thumbnails (JPEG bytes), no duplicate
``(video_id, segment)`` and no two overlapping segments of one video. Only a fully valid batch
becomes an Arrow table, so a bad input writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import InvalidSegmentError
from .rows import as_columns, listing, normalise_vectors
from .schema import SEGMENT_KEY, segment_key, segments_schema, vector_array

#: Largest thumbnail accepted (bytes): thumbnails are small previews, not frames.
MAX_THUMBNAIL_BYTES = 256 * 1024
_JPEG_MAGIC = b"\xff\xd8\xff"


def _times(name: str, values: Sequence[Any], ids: Sequence[str]) -> np.ndarray:
    out = np.empty(len(ids), dtype=np.float64)
    for i, (vid, value) in enumerate(zip(ids, values, strict=True)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise InvalidSegmentError(
                f"video {vid}: segment {name} must be a number of seconds, got {value!r}"
            )
        out[i] = float(value)
    bad = ~np.isfinite(out)
    if bad.any():
        raise InvalidSegmentError(
            f"segment {name} times must be finite: videos "
            + listing([ids[i] for i in np.flatnonzero(bad)])
        )
    return out


def _numbers(values: Sequence[Any] | None, ids: Sequence[str], starts: np.ndarray) -> np.ndarray:
    """Segment numbers as given, or 0, 1, ... per video in order of start time."""
    if values is None:
        out = np.empty(len(ids), dtype=np.int64)
        order = np.lexsort((starts, np.asarray(ids, dtype=object).astype(str)))
        previous, count = None, 0
        for i in order:
            count = count + 1 if ids[i] == previous else 0
            previous = ids[i]
            out[i] = count
        return out
    out = np.empty(len(ids), dtype=np.int64)
    for i, (vid, value) in enumerate(zip(ids, values, strict=True)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise InvalidSegmentError(
                f"video {vid}: segment number must be an integer, got {value!r}"
            )
        if value < 0 or value > np.iinfo(np.int32).max:
            raise InvalidSegmentError(f"video {vid}: segment number must be >= 0, got {value}")
        out[i] = int(value)
    return out


def _thumbnails(values: Sequence[Any] | None, ids: Sequence[str], seg: np.ndarray) -> list:
    if values is None:
        return [None] * len(ids)
    out: list[bytes | None] = []
    for vid, number, value in zip(ids, seg.tolist(), values, strict=True):
        if value is None:
            out.append(None)
            continue
        if isinstance(value, (bytearray, memoryview)):
            value = bytes(value)
        if not isinstance(value, bytes):
            raise InvalidSegmentError(
                f"video {vid} segment {number}: thumbnail must be JPEG bytes, "
                f"got {type(value).__name__}"
            )
        if not value.startswith(_JPEG_MAGIC):
            raise InvalidSegmentError(f"video {vid} segment {number}: thumbnail is not a JPEG")
        if len(value) > MAX_THUMBNAIL_BYTES:
            raise InvalidSegmentError(
                f"video {vid} segment {number}: thumbnail has {len(value)} bytes, "
                f"at most {MAX_THUMBNAIL_BYTES} are accepted (store a small preview)"
            )
        out.append(value)
    return out


def check_no_overlap(
    ids: Sequence[str], segments: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> None:
    """Refuse two segments of one video whose time ranges overlap (touching is fine)."""
    order = np.lexsort((starts, np.asarray(ids, dtype=object).astype(str)))
    for a, b in zip(order[:-1].tolist(), order[1:].tolist(), strict=True):
        if ids[a] == ids[b] and starts[b] < ends[a]:
            raise InvalidSegmentError(
                f"video {ids[a]}: segments {int(segments[a])} ({starts[a]:g}-{ends[a]:g} s) and "
                f"{int(segments[b])} ({starts[b]:g}-{ends[b]:g} s) overlap"
            )


def segment_rows(
    data: Any,
    starts: Sequence[float] | None,
    ends: Sequence[float] | None,
    vectors: Any,
    dim: int,
    *,
    segments: Sequence[int] | None = None,
    thumbnails: Sequence[bytes | None] | None = None,
) -> pa.Table:
    """Validated rows for the segments table (see :meth:`vtrsearch.Index.add_segments`)."""
    if starts is not None or ends is not None or vectors is not None:
        if starts is None or ends is None or vectors is None:
            raise ValueError(
                "add_segments(video_ids, starts, ends, vectors) needs all four sequences"
            )
        cols: dict[str, Any] = {
            "video_id": list(data),
            "start": list(starts),
            "end": list(ends),
            "vector": vectors,
        }
        if segments is not None:
            cols["segment"] = list(segments)
        if thumbnails is not None:
            cols["thumbnail"] = list(thumbnails)
    else:
        cols = as_columns(data)
    for required in ("video_id", "start", "end", "vector"):
        if required not in cols:
            raise ValueError(f"segments need a {required!r} column; got columns {sorted(cols)}")
    raw_ids = list(cols["video_id"])
    bad_ids = [repr(v) for v in raw_ids if not isinstance(v, str) or not v.strip()]
    if bad_ids:
        raise InvalidSegmentError(
            f"segment video ids must be non-empty strings: {listing(bad_ids)}"
        )
    ids = [str(v) for v in raw_ids]
    n = len(ids)
    for name in ("start", "end"):
        if len(cols[name]) != n:
            raise ValueError(f"got {n} video ids but {len(cols[name])} {name} times")
    start = _times("start", list(cols["start"]), ids)
    end = _times("end", list(cols["end"]), ids)
    bad = np.flatnonzero((start < 0) | (end <= start))
    if bad.size:
        i = int(bad[0])
        raise InvalidSegmentError(
            f"video {ids[i]}: segment times must satisfy 0 <= start < end, got start {start[i]:g} "
            f"and end {end[i]:g} ({bad.size} such segment(s))"
        )
    seg = _numbers(cols.get("segment"), ids, start)
    keys = [segment_key(v, s) for v, s in zip(ids, seg.tolist(), strict=True)]
    seen: set[str] = set()
    dupes = [k for k in keys if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    if dupes:
        raise InvalidSegmentError(f"duplicate (segment:video_id) in one batch: {listing(dupes)}")
    check_no_overlap(ids, seg, start, end)
    mat = normalise_vectors(ids, cols["vector"], dim)
    thumbs = _thumbnails(cols.get("thumbnail"), ids, seg)
    return pa.table(
        {
            SEGMENT_KEY: keys,
            "video_id": ids,
            "segment": pa.array(seg, pa.int32()),
            "start": pa.array(start, pa.float64()),
            "end": pa.array(end, pa.float64()),
            "thumbnail": pa.array(thumbs, pa.binary()),
            "vector": vector_array(mat),
        },
        schema=segments_schema(dim),
    )
