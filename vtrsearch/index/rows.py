"""Validation of user rows before they reach the store.

Everything is checked first (dimension, NaN/inf, zero vectors, unknown categories, duplicate
keys); only a fully valid batch becomes an Arrow table, so a bad input writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ..categories import CategoryMap
from ..errors import DimensionMismatchError, InvalidVectorError
from .schema import CAPTIONS_SCHEMA, vector_array, videos_schema


def listing(ids: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(map(str, ids[:limit]))
    return shown + (f" ... ({len(ids)} in all)" if len(ids) > limit else "")


def as_columns(data: Any) -> dict[str, list | np.ndarray]:
    """Columns of a pandas DataFrame, Arrow table or mapping as a dict of sequences."""
    if isinstance(data, pa.Table):
        return {name: data[name].to_pylist() for name in data.column_names}
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # pandas DataFrame
        return {str(name): list(data[name]) for name in data.columns}
    if isinstance(data, dict):
        return dict(data)
    raise TypeError(f"expected a pandas DataFrame, an Arrow table or a dict, got {type(data)}")


def unit_rows(mat: Any, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised float32 copies of the rows of a finite matrix, and which rows are zero.

    Each row is divided by its largest absolute value first and normalised in float64, so no
    square overflows (``1e30`` rows stay unit vectors, not zeros) and tiny values do not
    underflow to a zero norm. Rows are processed ``chunk`` at a time to bound memory.

    Returns:
        ``(unit, zero)``: the ``(n, d)`` float32 unit rows (zero rows left at zero) and a
        boolean mask of the rows whose norm is zero (they cannot be normalised).
    """
    src = np.asarray(mat)
    n = src.shape[0]
    out = np.zeros(src.shape, dtype=np.float32)
    zero = np.zeros(n, dtype=bool)
    for start in range(0, n, chunk):
        part = np.asarray(src[start : start + chunk], dtype=np.float64)
        scale = np.abs(part).max(axis=1) if part.shape[1] else np.zeros(part.shape[0])
        is_zero = ~(scale > 0)
        part = part / np.where(is_zero, 1.0, scale)[:, None]
        norms = np.linalg.norm(part, axis=1)
        out[start : start + chunk] = part / np.where(is_zero, 1.0, norms)[:, None]
        zero[start : start + chunk] = is_zero
    return out, zero


def normalise_vectors(ids: Sequence[str], vectors: Any, dim: int) -> np.ndarray:
    """Validate and L2-normalise a stack of vectors, one per id (see :func:`unit_rows`).

    Raises:
        DimensionMismatchError: a vector's length differs from ``dim`` (names the video).
        InvalidVectorError: NaN/inf or all-zero vectors (lists the ids).
    """
    if isinstance(vectors, np.ndarray) and vectors.ndim == 2:
        mat = _numeric(vectors, ids[0] if len(ids) else "?")
        if mat.shape[1] != dim:
            raise DimensionMismatchError(
                f"video {ids[0]}: vector has dimension {mat.shape[1]}, expected {dim}"
            )
    else:
        rows = []
        for vid, vec in zip(ids, vectors, strict=True):
            arr = _numeric(vec, vid).reshape(-1)
            if arr.shape[0] != dim:
                raise DimensionMismatchError(
                    f"video {vid}: vector has dimension {arr.shape[0]}, expected {dim}"
                )
            rows.append(arr)
        mat = np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)
    if mat.shape[0] != len(ids):
        raise ValueError(f"got {len(ids)} ids but {mat.shape[0]} vectors")
    bad = ~np.isfinite(mat).all(axis=1)
    if bad.any():
        listed = listing([ids[i] for i in np.flatnonzero(bad)])
        raise InvalidVectorError(f"NaN or infinite values in the vectors of: {listed}")
    unit, zero = unit_rows(mat)
    if zero.any():
        listed = listing([ids[i] for i in np.flatnonzero(zero)])
        raise InvalidVectorError(f"all-zero vectors (cannot be normalised) for: {listed}")
    return unit


def _numeric(vector: Any, vid: object) -> np.ndarray:
    """``vector`` as a float array (float64 is kept: it may exceed float32's range)."""
    arr = np.asarray(vector)
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind in "iubO":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidVectorError(f"video {vid}: the vector is not numeric ({exc})") from None
    raise InvalidVectorError(f"video {vid}: the vector is not numeric (dtype {arr.dtype})")


def _check_unique(ids: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    dupes = [i for i in ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate {what} in one batch: {listing(sorted(set(dupes)))}")


def video_rows(
    data: Any,
    vectors: np.ndarray | None,
    dim: int,
    cmap: CategoryMap,
    categories: Sequence[int | str] | None = None,
    splits: Sequence[str] | None = None,
) -> pa.Table:
    """Validated rows for the videos table (see :meth:`vtrsearch.Index.add_videos`)."""
    if vectors is not None:
        cols: dict[str, Any] = {"video_id": list(data), "vector": vectors}
        if categories is not None:
            cols["category"] = list(categories)
        if splits is not None:
            cols["split"] = list(splits)
    else:
        cols = as_columns(data)
    for required in ("video_id", "vector"):
        if required not in cols:
            raise ValueError(f"videos need a {required!r} column; got columns {sorted(cols)}")
    ids = [str(v) for v in cols["video_id"]]
    _check_unique(ids, "video ids")
    n = len(ids)
    mat = normalise_vectors(ids, cols["vector"], dim)
    raw_cats = cols.get("category")
    if raw_cats is None:
        raise ValueError("videos need a category (id or name) for every row")
    cat_ids = []
    for vid, value in zip(ids, raw_cats, strict=True):
        try:
            cat_ids.append(cmap.resolve(value if isinstance(value, str) else int(value)))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"video {vid}: {exc}") from exc

    def column(name: str, default: Any) -> list:
        values = cols.get(name)
        if values is None:
            return [default] * n
        return [default if _is_missing(v) else v for v in values]

    table = pa.table(
        {
            "video_id": ids,
            "category": pa.array(cat_ids, pa.int32()),
            "category_name": [cmap.name(c) for c in cat_ids],
            "split": [str(s) for s in column("split", "")],
            "start": pa.array(column("start", None), pa.float64()),
            "end": pa.array(column("end", None), pa.float64()),
            "url": [None if u is None else str(u) for u in column("url", None)],
            "vector": vector_array(mat),
        },
        schema=videos_schema(dim),
    )
    return table


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def caption_rows(
    data: Any, video_ids: Sequence[str] | None = None, texts: Sequence[str] | None = None
) -> pa.Table:
    """Validated rows for the captions table (see :meth:`vtrsearch.Index.add_captions`)."""
    if video_ids is not None:
        if texts is None:
            raise ValueError("add_captions(sen_ids, video_ids, texts) needs all three sequences")
        cols: dict[str, Any] = {
            "sen_id": list(data),
            "video_id": list(video_ids),
            "text": list(texts),
        }
    else:
        cols = as_columns(data)
        if "text" not in cols and "caption" in cols:
            cols["text"] = cols.pop("caption")
    for required in ("sen_id", "video_id", "text"):
        if required not in cols:
            raise ValueError(f"captions need a {required!r} column; got columns {sorted(cols)}")
    sen_ids = [str(s) for s in cols["sen_id"]]
    _check_unique(sen_ids, "sen_ids")
    bad = [
        s
        for s, t in zip(sen_ids, cols["text"], strict=True)
        if not isinstance(t, str) or not t.strip()
    ]
    if bad:
        raise ValueError(f"empty or non-text captions for sen_id: {listing(bad)}")
    return pa.table(
        {
            "sen_id": sen_ids,
            "video_id": [str(v) for v in cols["video_id"]],
            "text": list(cols["text"]),
        },
        schema=CAPTIONS_SCHEMA,
    )
