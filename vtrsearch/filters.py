"""Typed filters: what a search or scan may be restricted to.

A :class:`Filter` is a conjunction of :class:`In` conditions ("column value is one of these").
Each store translates it itself (LanceDB ``lancedb.expr`` expressions, Qdrant
``models.Filter``); user values are never pasted into a query string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class In:
    """Condition: ``column`` equals one of ``values``."""

    column: str
    values: tuple

    def __post_init__(self) -> None:
        if not _COLUMN.match(self.column):
            raise ValueError(f"invalid column name {self.column!r}")
        if not isinstance(self.values, tuple):
            object.__setattr__(self, "values", tuple(self.values))


@dataclass(frozen=True)
class Filter:
    """All ``conditions`` must hold (logical AND). An empty filter matches everything."""

    conditions: tuple[In, ...] = ()

    @classmethod
    def where(cls, **columns: object) -> Filter:
        """Build a filter from keyword arguments; ``None`` values are skipped.

        A scalar means equality, an iterable (not a string) means membership:
        ``Filter.where(category=[1, 2], split="test")``.
        """
        conds = []
        for column, value in columns.items():
            if value is None:
                continue
            if isinstance(value, (str, bytes, int, float)):
                values: tuple = (value,)
            elif isinstance(value, Iterable):
                values = tuple(value)
            else:
                values = (value,)
            conds.append(In(column, values))
        return cls(tuple(conds))

    def __bool__(self) -> bool:
        return bool(self.conditions)
