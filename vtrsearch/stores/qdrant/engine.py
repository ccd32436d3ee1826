"""What a Qdrant engine must do for :class:`~.store.QdrantStore`: collections of points.

Two engines implement it: :class:`~.client_engine.ClientEngine` (qdrant-client: a server or
cluster, the in-memory mode, the legacy local mode) and :class:`~.edge.EdgeEngine` (the
Qdrant engine embedded in-process by qdrant-edge, one shard folder per collection). The store
above them holds the table layout (catalogue, schemas, versions), so both behave the same.

Filters arrive as typed conditions (``[(column, arrow type, values), ...]`` from
:func:`~vtrsearch.stores.base.typed_conditions`, already non-empty and matching something);
each engine builds its own filter objects from them, values only, never text.
Records and scored points are the engine's own objects; all carry ``.payload`` and ``.vector``
(scored points also ``.score``), which is all the store reads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import UnsupportedError
from ..ann_params import BuildProgress
from .settings import QdrantSettings

#: ``[(column, arrow type, values), ...]``: every condition must hold (empty: no filter).
Conditions = list[tuple[str, pa.DataType, tuple]]
#: ``True`` (whole payload), ``False`` (none) or the payload fields to return.
Fields = bool | list[str]


class MissingCollection(KeyError):
    """The collection does not exist."""


class Engine(ABC):
    """Collections of points with payload, optionally one dense DOT vector each."""

    #: Where the data is, for messages (never holds credentials).
    display: str
    #: Whether this is a Qdrant server (cluster settings and payload indexes apply).
    server: bool = False

    @abstractmethod
    def collection_exists(self, collection: str) -> bool:
        """Whether ``collection`` exists (never creates anything)."""

    @abstractmethod
    def create_collection(
        self, collection: str, dim: int | None, indexes: dict[str, pa.DataType]
    ) -> None:
        """Create ``collection`` unless it exists (``dim=None``: points without vectors), and
        make sure the payload fields ``indexes`` are indexed (idempotent)."""

    @abstractmethod
    def drop_collection(self, collection: str) -> None:
        """Delete ``collection`` and its points (no-op when absent)."""

    @abstractmethod
    def upsert(
        self,
        collection: str,
        ids: list[str],
        vectors: np.ndarray | None,
        payloads: list[dict[str, Any]],
    ) -> None:
        """Write points (replacing same ids); visible to reads when this returns."""

    @abstractmethod
    def set_payload(self, collection: str, point: str, payload: dict[str, Any]) -> None:
        """Merge ``payload`` into one point's payload."""

    @abstractmethod
    def retrieve(self, collection: str, ids: Sequence[str], fields: Fields) -> list[Any]:
        """The points with these ids that exist (``MissingCollection`` when absent)."""

    @abstractmethod
    def scroll(
        self,
        collection: str,
        where: Conditions,
        fields: Fields,
        vectors: bool,
        limit: int,
        offset: Any,
    ) -> tuple[list[Any], Any]:
        """One page of points in id order and the offset of the next (``None`` at the end).

        An engine may return more than ``limit`` points when bigger pages are cheaper.
        """

    @abstractmethod
    def count(self, collection: str, where: Conditions) -> int:
        """Exact number of points matching ``where``."""

    @abstractmethod
    def delete(self, collection: str, where: Conditions) -> None:
        """Delete the points matching ``where`` (never empty)."""

    @abstractmethod
    def delete_ids(self, collection: str, ids: Sequence[str]) -> None:
        """Delete points by id (missing ids are ignored)."""

    @abstractmethod
    def search(
        self,
        collection: str,
        vector: np.ndarray,
        k: int,
        where: Conditions,
        fields: Fields,
        vectors: bool,
        params: QdrantSettings | None = None,
    ) -> list[Any]:
        """Top-``k`` points by inner product, best first (scored points).

        ``params``: the search settings (``hnsw_ef``, ``exact``, ``rescore``, ``oversampling``)
        of this query instead of the engine's.
        """

    def search_groups(
        self,
        collection: str,
        vector: np.ndarray,
        k: int,
        group_by: str,
        group_size: int,
        where: Conditions,
        fields: Fields,
        params: QdrantSettings | None = None,
    ) -> list[list[Any]] | None:
        """The best ``k`` groups of points sharing ``group_by``, best ``group_size`` each.

        ``None`` when the engine has no grouped search (the store then groups itself).
        """
        return None

    def build_index(
        self, collection: str, target: QdrantSettings, progress: BuildProgress | None
    ) -> dict[str, Any]:
        """Give ``collection`` the HNSW / quantisation settings of ``target`` (the complete
        settings, not a difference) and build its
        index (resumable; a no-op when it has them and is fully indexed).

        Returns ``{"built": bool, ...}`` (engine details: indexed vectors, points).
        """
        raise UnsupportedError(f"{self.display} cannot build an ANN index")

    def optimize(self, collection: str) -> bool:
        """Build indexes / merge segments now when the engine does not do it by itself."""
        return False

    def describe(self) -> dict[str, Any]:
        """What the engine is, for ``vtrsearch info``."""
        return {"engine": self.display}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine's resources."""
