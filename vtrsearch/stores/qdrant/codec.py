"""Rows <-> points: ids, JSON-safe payloads and typed Arrow columns (no engine imports).

Shared by every Qdrant engine (server client and embedded edge): their records and scored
points both carry ``.payload`` and ``.vector``.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ..arrow import vector_array

#: Namespace of the UUID5 point ids (fixed forever: changing it would orphan stored points).
POINT_NAMESPACE = uuid.UUID("6f1c2a53-8d0e-5b7a-9c41-2e7f0b9d3a10")


def point_id(key: object) -> str:
    """The deterministic point id of key value ``key``."""
    return str(uuid.uuid5(POINT_NAMESPACE, str(key)))


def vector_matrix(column: pa.ChunkedArray, dim: int) -> np.ndarray:
    """A vector column as a float32 (n, dim) matrix (``flatten`` honours slices)."""
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(-1, dim)


def is_binary(kind: pa.DataType) -> bool:
    """Binary columns travel as base64 text in payloads (JSON has no bytes)."""
    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def payload_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows of ``table`` as JSON-safe payload dicts (binary columns base64-encoded)."""
    rows = table.to_pylist()
    binary = [f.name for f in table.schema if is_binary(f.type)]
    for row in rows:
        for name in binary:
            if row[name] is not None:
                row[name] = base64.b64encode(row[name]).decode("ascii")
    return rows


def points_to_arrow(points: Sequence[Any], schema: pa.Schema, columns: list[str]) -> pa.Table:
    """Points (records or scored points) as an Arrow table of ``columns``, typed by ``schema``."""
    arrays = []
    for col in columns:
        field = schema.field(col)
        if col == "vector":
            dim = field.type.list_size
            mat = np.asarray([p.vector for p in points], dtype=np.float32).reshape(-1, dim)
            arrays.append(vector_array(mat).cast(field.type))
        else:
            values = [(p.payload or {}).get(col) for p in points]
            if is_binary(field.type):
                values = [None if v is None else base64.b64decode(v) for v in values]
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema([schema.field(c) for c in columns]))
