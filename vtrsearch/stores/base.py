"""The vector-store interface every backend implements.

A store holds named tables of Arrow rows, each with a string key column, and one metadata
document. ``Index`` talks only to this interface, so LanceDB and Qdrant are interchangeable;
no backend type or query string crosses it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ..filters import Filter

#: Name of the similarity column added to search results (higher is more similar).
SCORE = "_score"


class VectorStore(ABC):
    """Abstract table + vector store used by :class:`vtrsearch.Index`."""

    uri: str

    @abstractmethod
    def exists(self) -> bool:
        """Whether an index has been created at this URI (its metadata exists)."""

    @abstractmethod
    def has_table(self, name: str) -> bool:
        """Whether table ``name`` exists."""

    @abstractmethod
    def create_table(self, name: str, schema: pa.Schema, key: str) -> None:
        """Create table ``name`` (no-op when it exists with the same schema)."""

    @abstractmethod
    def drop_table(self, name: str) -> None:
        """Delete table ``name`` and its rows (no-op when absent)."""

    @abstractmethod
    def upsert(self, name: str, rows: pa.Table, key: str) -> int:
        """Insert ``rows``, replacing rows whose ``key`` already exists. Returns rows written.

        One call is atomic: either every row of the batch is visible afterwards or none is.
        """

    @abstractmethod
    def scan(
        self, name: str, columns: Sequence[str] | None = None, where: Filter | None = None
    ) -> pa.Table:
        """Rows of ``name`` matching ``where`` (all when ``None``), selected ``columns``."""

    @abstractmethod
    def search(
        self,
        name: str,
        vector: np.ndarray,
        k: int,
        where: Filter | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Top-``k`` rows by inner-product similarity using the store's own engine.

        The result has the selected ``columns`` plus :data:`SCORE`, best first. Backends may
        use approximate indexes; :class:`Index` uses its exact in-memory matrix instead and
        calls this for ``via_store`` searches and comparisons.
        """

    @abstractmethod
    def count(self, name: str, where: Filter | None = None) -> int:
        """Number of rows of ``name`` matching ``where``."""

    @abstractmethod
    def delete(self, name: str, where: Filter) -> None:
        """Delete the rows of ``name`` matching ``where`` (an empty filter is refused)."""

    @abstractmethod
    def version(self, name: str) -> Any:
        """A value that changes whenever table ``name`` is written (by any process)."""

    @abstractmethod
    def get_metadata(self) -> dict[str, Any]:
        """The index metadata document (empty dict when none)."""

    @abstractmethod
    def set_metadata(self, values: dict[str, Any]) -> None:
        """Merge ``values`` into the metadata document (JSON-serialisable values)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (optional)."""
