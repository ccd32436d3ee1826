"""Vectors as Arrow columns: the one conversion between numpy matrices and stored rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def vector_array(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """A (n, d) float32 matrix as an Arrow fixed-size-list column (no copy when contiguous)."""
    mat = np.ascontiguousarray(vectors, dtype=np.float32)
    if mat.ndim != 2:
        raise ValueError(f"expected a 2-D matrix of vectors, got shape {mat.shape}")
    return pa.FixedSizeListArray.from_arrays(pa.array(mat.reshape(-1)), mat.shape[1])


def vectors_from_column(column: pa.ChunkedArray | pa.Array, dim: int) -> np.ndarray:
    """The float32 (n, dim) matrix held by a fixed-size-list (or list) vector column."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    n = len(column)
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    flat = column.flatten()  # honours the slice offset and length of the column
    values = flat.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return values.reshape(n, dim)
