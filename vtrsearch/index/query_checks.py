"""Checks every search entry point shares: the number of results and the query vectors.

``search``, ``search_many``, ``search_store`` and the moment searches all go through these, so
a bad ``k`` or a NaN query gets the same clear error whichever path answers it.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..errors import DimensionMismatchError, InvalidQueryError, InvalidVectorError
from .rows import listing, unit_rows


def check_k(k: Any) -> int:
    """``k`` (the number of results) as an int >= 1.

    Raises:
        InvalidQueryError: ``k`` is not an integer (``True`` and ``2.5`` are refused) or is < 1.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise InvalidQueryError(f"k (the number of results) must be a whole number >= 1, got {k!r}")
    if int(k) < 1:
        raise InvalidQueryError(f"k (the number of results) must be >= 1, got {int(k)}")
    return int(k)


def unit_queries(queries: Any, dim: int, what: str = "query") -> np.ndarray:
    """``(n, dim)`` float32 unit query vectors (computed without overflow, see ``unit_rows``).

    Raises:
        DimensionMismatchError: not an ``(n, dim)`` matrix.
        InvalidVectorError: a row holds NaN/inf or is all zeros (the rows are listed); such a
            query would otherwise match nothing, silently.
    """
    mat = np.asarray(queries)
    if mat.dtype.kind not in "fiu":
        raise InvalidVectorError(f"{what} vectors must be numbers, got dtype {mat.dtype}")
    if mat.ndim != 2 or mat.shape[1] != dim:
        raise DimensionMismatchError(f"{what} vectors must have shape (n, {dim}), got {mat.shape}")
    bad = np.flatnonzero(~np.isfinite(mat).all(axis=1))
    if bad.size:
        raise InvalidVectorError(
            f"{what} vector(s) with NaN or infinite values (rows {listing(bad.tolist())}); "
            "they would match nothing"
        )
    unit, zero = unit_rows(mat)
    if zero.any():
        raise InvalidVectorError(
            f"all-zero {what} vector(s) (rows {listing(np.flatnonzero(zero).tolist())}): "
            "they have no direction to search in"
        )
    return unit


def unit_query(query: Any, dim: int) -> np.ndarray:
    """One ``(dim,)`` float32 unit query vector (see :func:`unit_queries`)."""
    q = np.asarray(query)
    if q.ndim != 1 and q.size == dim:
        q = q.reshape(-1)
    if q.ndim != 1 or q.shape[0] != dim:
        raise DimensionMismatchError(
            f"query vector has dimension {q.shape[-1] if q.ndim else 0}, the index expects {dim}"
        )
    return unit_queries(q[None, :], dim)[0]


def check_encoded(vectors: np.ndarray, source: str) -> np.ndarray:
    """Refuse text-query vectors with NaN/inf (e.g. from a head with NaN weights).

    Raises:
        InvalidVectorError: names ``source`` (the encoder or head that made them).
    """
    bad = ~np.isfinite(vectors).reshape(len(vectors), -1).all(axis=1)
    if bad.any():
        raise InvalidVectorError(
            f"{source} produced NaN or infinite query vectors for {int(bad.sum())} of "
            f"{len(vectors)} text(s); are its weights corrupt?"
        )
    return vectors
