"""Video categories: the MSR-VTT defaults and a two-way id/name map."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import UnknownCategoryError

#: The 20 MSR-VTT categories, ids 0-19 in this order.
MSRVTT_CATEGORIES: tuple[str, ...] = (
    "music",
    "people",
    "gaming",
    "sports/actions",
    "news/events/politics",
    "education",
    "tv shows",
    "movie/comedy",
    "animation",
    "vehicles/autos",
    "howto",
    "travel",
    "science/technology",
    "animals/pets",
    "kids/family",
    "documentary",
    "food/drink",
    "cooking",
    "beauty/fashion",
    "advertisement",
)

#: Name of the one category of a dataset without categories (MSVD, ActivityNet Captions).
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True)
class Category:
    """One category of an index, with the number of videos it holds."""

    id: int
    name: str
    count: int = 0


class CategoryMap:
    """Bidirectional map between category ids and names.

    Names are matched case-insensitively and with surrounding whitespace ignored.
    """

    def __init__(self, names: Mapping[int, str]):
        self._names: dict[int, str] = {int(k): str(v) for k, v in sorted(names.items())}
        self._ids: dict[str, int] = {}
        for cid, name in self._names.items():
            key = name.strip().lower()
            if key in self._ids:
                raise ValueError(
                    f"duplicate category name {name!r} (ids {self._ids[key]} and {cid})"
                )
            self._ids[key] = cid

    @classmethod
    def msrvtt(cls) -> CategoryMap:
        """The 20 standard MSR-VTT categories."""
        return cls(dict(enumerate(MSRVTT_CATEGORIES)))

    @classmethod
    def uncategorised(cls) -> CategoryMap:
        """The map of a dataset without categories: one category, :data:`UNCATEGORISED`.

        Every video then has category 0; :attr:`has_categories` is ``False``, so evaluations
        omit the per-category breakdown instead of showing one group that is the whole split.
        """
        return cls({0: UNCATEGORISED})

    @property
    def has_categories(self) -> bool:
        """Whether videos are grouped at all: ``False`` for :meth:`uncategorised` (or any
        single-category map), where a per-category breakdown would repeat the overall figures."""
        return len(self._names) > 1

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> CategoryMap:
        """Build from the JSON form stored in index metadata (string keys)."""
        return cls({int(k): v for k, v in data.items()})

    def to_json(self) -> dict[str, str]:
        """The JSON form stored in index metadata."""
        return {str(k): v for k, v in self._names.items()}

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, cid: object) -> bool:
        return cid in self._names

    def items(self) -> Iterable[tuple[int, str]]:
        """Pairs of (id, name) in id order."""
        return self._names.items()

    def name(self, cid: int) -> str:
        """The name of category ``cid`` (``str(cid)`` when the map does not know it)."""
        return self._names.get(int(cid), str(cid))

    def valid_names(self) -> str:
        """A readable list of the valid categories, for error messages."""
        return ", ".join(f"{cid}={name!r}" for cid, name in self._names.items())

    def resolve(self, value: int | str) -> int:
        """Turn a category id or name into its id.

        Args:
            value: an int id, a name, or a string of digits.

        Raises:
            UnknownCategoryError: the value names no category; the message lists the valid ones.
        """
        if isinstance(value, bool):
            raise UnknownCategoryError(f"category must be an id or a name, got {value!r}")
        if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0):
            cid = int(value)
            if cid in self._names:
                return cid
            raise UnknownCategoryError(
                f"unknown category id {cid}; valid categories: {self.valid_names()}"
            )
        if isinstance(value, str):
            key = value.strip().lower()
            if key in self._ids:
                return self._ids[key]
            if key.isdigit() and int(key) in self._names:
                return int(key)
            raise UnknownCategoryError(
                f"unknown category {value!r}; valid categories: {self.valid_names()}"
            )
        raise UnknownCategoryError(f"category must be an id or a name, got {value!r}")

    def resolve_many(self, values: int | str | Iterable[int | str]) -> frozenset[int]:
        """Resolve one value or several into a set of ids."""
        if isinstance(values, (str, int)) or getattr(values, "ndim", None) == 0:
            values = [values]
        return frozenset(self.resolve(v) for v in values)
