"""LanceDB's own ANN indexes (``IVF_HNSW_SQ``, ``IVF_PQ``) for :class:`~.lance.LanceStore`.

The index is named after its kind and a hash of its build parameters
(``vector_lance_ivf_pq_<hash>``), so the table itself says which index it has: a build with
the same parameters finds it and only indexes rows written since (``optimize``), another build
replaces it. ``create_index`` is one LanceDB call that commits at its end: a killed build
leaves no index behind and the next build starts over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InvalidAnnParamsError
from .ann_params import BuildProgress, build_params, search_defaults, search_params

#: Rows per IVF partition when ``num_partitions`` is not given.
ROWS_PER_PARTITION = 4096


def index_name(kind: str, build: Mapping[str, Any]) -> str:
    """The LanceDB index name of ``kind`` built with ``build`` (the given parameters)."""
    text = json.dumps({"kind": kind, **build}, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"vector_{kind.replace('-', '_')}_{digest}"


def vector_indexes(table: Any) -> list[Any]:
    """The table's indexes on its ``vector`` column."""
    return [i for i in table.list_indices() if list(i.columns) == ["vector"]]


def _config(kind: str, build: dict[str, Any], rows: int, dim: int) -> tuple[Any, dict[str, Any]]:
    """The LanceDB index config and the parameters resolved for ``rows`` x ``dim``."""
    from lancedb.index import HnswSq, IvfPq

    resolved = dict(build)
    if resolved["num_partitions"] is None:
        resolved["num_partitions"] = max(1, round(rows / ROWS_PER_PARTITION))
    if resolved["num_partitions"] > rows:
        raise InvalidAnnParamsError(
            f"{kind}: num_partitions={resolved['num_partitions']} is more than the table's "
            f"{rows} rows"
        )
    if kind == "lance-ivf-hnsw-sq":
        config = HnswSq(
            distance_type="dot",
            num_partitions=resolved["num_partitions"],
            m=resolved["m"],
            ef_construction=resolved["ef_construction"],
        )
        return config, resolved
    if resolved["num_sub_vectors"] is None:
        resolved["num_sub_vectors"] = max(1, dim // 16)
    if dim % resolved["num_sub_vectors"]:
        raise InvalidAnnParamsError(
            f"{kind}: num_sub_vectors must divide the vector dimension {dim}, "
            f"got {resolved['num_sub_vectors']}"
        )
    config = IvfPq(
        distance_type="dot",
        num_partitions=resolved["num_partitions"],
        num_sub_vectors=resolved["num_sub_vectors"],
    )
    return config, resolved


def build(
    table: Any, kind: str, params: Mapping[str, Any] | None, progress: BuildProgress | None
) -> dict[str, Any]:
    """Build (or finish) the ``kind`` index of ``table``; see ``VectorStore.build_vector_index``."""
    given = build_params(kind, params, "lance")
    name = index_name(kind, given)
    table.checkout_latest()
    rows = table.count_rows()
    dim = table.schema.field("vector").type.list_size
    config, resolved = _config(kind, given, rows, dim)
    minimum = 256  # LanceDB trains its quantiser (SQ bounds, PQ codebooks) on >= 256 rows
    if rows < minimum:
        raise InvalidAnnParamsError(
            f"{kind}: LanceDB needs at least {minimum} rows to train an index, the table has "
            f"{rows} (search it exactly instead)"
        )
    existing = {i.name: i for i in vector_indexes(table)}
    built = name not in existing
    stages = 2 if built else 1
    if progress is not None:
        progress(0, stages)
    if built:
        table.create_index("vector", config=config, name=name, replace=True)
        if progress is not None:
            progress(1, stages)
    stats = table.index_stats(name)
    if stats is not None and stats.num_unindexed_rows:  # rows written since the index was built
        table.optimize()
        stats = table.index_stats(name)
    for other in existing:  # a previous kind or other parameters
        if other != name:
            table.drop_index(other)
    if progress is not None:
        progress(stages, stages)
    return {
        "kind": kind,
        "build": resolved,
        "search": search_defaults(kind),
        "built": built,
        "index_name": name,
        "indexed_rows": None if stats is None else int(stats.num_indexed_rows),
    }


def configure(query: Any, ann: Mapping[str, Any] | None) -> Any:
    """``query`` set up for the exact path (``ann=None``) or the ANN index with ``ann``."""
    if ann is None:
        return query.bypass_vector_index()
    params = search_params("lance", ann)
    if params.get("nprobes") is not None:
        query = query.nprobes(params["nprobes"])
    if params.get("ef") is not None:
        query = query.ef(params["ef"])
    if params.get("refine_factor") is not None:
        query = query.refine_factor(params["refine_factor"])
    return query


def as_query(vector: np.ndarray) -> np.ndarray:
    """A query vector as LanceDB takes it (flat float32)."""
    return np.asarray(vector, dtype=np.float32).reshape(-1)
