"""Validation of user rows before they reach the store.

Everything is checked first (dimension, NaN/inf, zero vectors, unknown categories, duplicate
keys); only a fully valid batch becomes an Arrow table, so a bad input writes nothing.
"""

from __future__ import annotations

import math
import numbers
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..categories import CategoryMap
from ..errors import DimensionMismatchError, InvalidVectorError
from .schema import CAPTIONS_SCHEMA, vector_array, videos_schema


def id_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a video or caption id, or ``None`` when it can.

    The rule: an id is text, or a whole number (``7`` is stored as ``"7"``); it is not empty,
    has no leading or trailing whitespace and no control characters. ``None``, ``True``,
    bytes, floats and other objects are refused rather than turned into text.
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        return f"{value!r} is not an id"
    if isinstance(value, (int, np.integer)):
        return None
    if not isinstance(value, str):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        return f"{shown} is a {type(value).__name__}, not text or a whole number"
    if not value.strip():
        return f"{value!r} is empty or blank"
    if value != value.strip():
        return f"{value!r} has leading or trailing whitespace"
    if any(unicodedata.category(c) == "Cc" for c in value):
        return f"{value!r} holds control characters"
    return None


def check_ids(values: Sequence[Any], what: str) -> list[str]:
    """``values`` as id strings (see :func:`id_problem`).

    Raises:
        ValueError: some values are not valid ids (the first few are listed with their row).
    """
    ids, bad = [], []
    for i, value in enumerate(values):
        # Fast path (most ids): printable text has no control characters, and the only
        # printable whitespace is the ASCII space, so checking both ends covers stripping.
        if type(value) is str and value and value.isprintable():
            if value[0] != " " and value[-1] != " ":
                ids.append(value)
                continue
        problem = id_problem(value)
        if problem is None:
            ids.append(str(value))
        else:
            bad.append(f"row {i}: {problem}")
    if bad:
        more = f" ... ({len(bad)} in all)" if len(bad) > 5 else ""
        raise ValueError(f"invalid {what}: {'; '.join(bad[:5])}{more}")
    return ids


def listing(ids: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(map(str, ids[:limit]))
    return shown + (f" ... ({len(ids)} in all)" if len(ids) > limit else "")


def as_columns(data: Any) -> dict[str, list | np.ndarray]:
    """Columns of a pandas DataFrame, Arrow table / record batch or mapping as a dict of
    sequences (an Arrow ``vector`` column becomes a matrix without a Python list per row)."""
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        return {
            name: _arrow_vectors(data[name]) if name == "vector" else data[name].to_pylist()
            for name in data.column_names
        }
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # pandas DataFrame
        return {str(name): list(data[name]) for name in data.columns}
    if isinstance(data, dict):
        return dict(data)
    raise TypeError(
        "expected a pandas DataFrame, an Arrow table or record batch, or a dict, "
        f"got {type(data).__name__}"
    )


def _arrow_vectors(column: pa.ChunkedArray) -> list | np.ndarray:
    """An Arrow vector column as an ``(n, d)`` matrix (a view when it can be), or as Python
    lists when its rows are not all numeric vectors of one length (they are then checked row
    by row, with the video named in the error)."""
    kind = column.type
    if column.null_count or not (pa.types.is_fixed_size_list(kind) or pa.types.is_list(kind)):
        return column.to_pylist()
    value_type = kind.value_type
    if not (pa.types.is_floating(value_type) or pa.types.is_integer(value_type)):
        return column.to_pylist()
    chunk = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    n = len(chunk)
    if pa.types.is_fixed_size_list(kind):
        width = kind.list_size
    else:
        lengths = pc.list_value_length(chunk).to_numpy(zero_copy_only=False)
        if n and (lengths != lengths[0]).any():
            return column.to_pylist()
        width = int(lengths[0]) if n else 0
    flat = chunk.flatten()  # honours the slice offset and length of the column
    if len(flat) != n * width:  # pragma: no cover - a list array with gaps
        return column.to_pylist()
    return flat.to_numpy(zero_copy_only=False).reshape(n, width)


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
    if not isinstance(vectors, np.ndarray):
        vectors = _stacked(vectors)
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
    if mat.dtype == np.float32:
        unit, zero, bad = _unit_float32(mat)
    else:
        bad = ~np.isfinite(mat).all(axis=1)
    if bad.any():
        listed = listing([ids[i] for i in np.flatnonzero(bad)])
        raise InvalidVectorError(f"NaN or infinite values in the vectors of: {listed}")
    if mat.dtype != np.float32:
        unit, zero = unit_rows(mat)
    if zero.any():
        listed = listing([ids[i] for i in np.flatnonzero(zero)])
        raise InvalidVectorError(f"all-zero vectors (cannot be normalised) for: {listed}")
    return unit


def _stacked(vectors: Any) -> Any:
    """A sequence of equal-length numeric vectors as one matrix (one C-level copy, not a
    Python loop), or ``vectors`` unchanged when they are not that (checked row by row)."""
    try:
        mat = np.asarray(vectors)
    except (TypeError, ValueError):  # ragged rows
        return vectors
    return mat if mat.ndim == 2 and mat.dtype.kind in "fiu" else vectors


def _unit_float32(mat: np.ndarray, chunk: int = 16384) -> tuple[np.ndarray, ...]:
    """:func:`unit_rows` for a float32 matrix, fast: squared norms accumulate in float64, where
    no float32 value can overflow or underflow, so one pass finds the NaN/inf rows (a
    non-finite norm), the zero rows, and scales the others; the rare rows whose scale factor
    does not fit float32 (subnormal vectors) go through :func:`unit_rows`.

    Returns:
        ``(unit, zero, bad)``: unit rows, the zero-row mask and the NaN/inf-row mask.
    """
    n = mat.shape[0]
    out = np.empty(mat.shape, dtype=np.float32)
    zero = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for start in range(0, n, chunk):
        part = mat[start : start + chunk]
        sq = np.einsum("ij,ij->i", part, part, dtype=np.float64)
        finite = np.isfinite(sq)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            inv = (1.0 / np.sqrt(sq)).astype(np.float32)
            ok = finite & np.isfinite(inv) & (sq > 0)
            np.multiply(part, np.where(ok, inv, 0)[:, None], out=out[start : start + chunk])
        bad[start : start + chunk] = ~finite
        slow = np.flatnonzero(finite & ~ok)
        if slow.size:
            unit, is_zero = unit_rows(part[slow])
            out[start + slow] = unit
            zero[start + slow] = is_zero
    return out, zero, bad


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
    if len(set(ids)) == len(ids):
        return
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
    ids = check_ids(list(cols["video_id"]), "video ids")
    _check_unique(ids, "video ids")
    n = len(ids)
    mat = normalise_vectors(ids, cols["vector"], dim)
    raw_cats = cols.get("category")
    if raw_cats is None:
        raise ValueError("videos need a category (id or name) for every row")
    cat_ids = _category_ids(ids, raw_cats, cmap)
    names = {c: cmap.name(c) for c in set(cat_ids)}

    def column(name: str, default: Any) -> list:
        values = cols.get(name)
        if values is None:
            return [default] * n
        if len(values) != n:
            raise ValueError(f"got {n} video ids but {len(values)} {name!r} values")
        out = [default if _is_missing(v) else v for v in values]
        if name in ("start", "end"):
            plain = type(None), float
            if all(type(v) in plain for v in out):  # fast path: Python floats (or missing)
                times = np.array([v for v in out if v is not None], dtype=np.float64)
                if np.isfinite(times).all():
                    return out
            check = _checked_time
        else:
            if all(type(v) is str or v is None for v in out):
                return out
            check = _checked_text
        for vid, value in zip(ids, out, strict=True):  # slow path: find and name the culprit
            if value is not None:
                check(value, name, vid)
        return out

    table = pa.table(
        {
            "video_id": ids,
            "category": pa.array(cat_ids, pa.int32()),
            "category_name": [names[c] for c in cat_ids],
            "split": column("split", ""),
            "start": pa.array(column("start", None), pa.float64()),
            "end": pa.array(column("end", None), pa.float64()),
            "url": column("url", None),
            "vector": vector_array(mat),
        },
        schema=videos_schema(dim),
    )
    return table


def _category_ids(ids: Sequence[str], values: Any, cmap: CategoryMap) -> list[int]:
    """Each row's category id, resolving every distinct value once (a million rows have a
    handful of categories)."""
    if len(values) != len(ids):
        raise ValueError(f"got {len(ids)} video ids but {len(values)} 'category' values")
    resolved: dict[tuple[type, Any], int] = {}
    out = []
    for vid, value in zip(ids, values, strict=True):
        try:
            key = (type(value), value)
            out.append(resolved[key])
            continue
        except (KeyError, TypeError):  # not seen yet, or unhashable
            pass
        try:
            cat = cmap.resolve(_category_value(value))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"video {vid}: {exc}") from exc
        try:
            resolved[(type(value), value)] = cat
        except TypeError:
            pass
        out.append(cat)
    return out


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # None or NaN


def _category_value(value: Any) -> Any:
    """A category as given: a name, or an id; a float id only when whole (pandas gives 3.0).

    ``True`` and ``1.7`` are refused by :meth:`CategoryMap.resolve`, never rounded to 1.
    """
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return value


def _checked_text(value: Any, name: str, vid: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"video {vid}: {name} must be text, got {value!r}")


def _checked_time(value: Any, name: str, vid: str) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"video {vid}: {name} must be a number of seconds, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"video {vid}: {name} time must be finite, got {value!r}")


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
    sen_ids = check_ids(list(cols["sen_id"]), "sen_ids")
    _check_unique(sen_ids, "sen_ids")
    video_ids = check_ids(list(cols["video_id"]), "caption video ids")
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
            "video_id": video_ids,
            "text": list(cols["text"]),
        },
        schema=CAPTIONS_SCHEMA,
    )
