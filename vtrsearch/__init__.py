"""vtrsearch: embeddable text-to-video search.

``from vtrsearch import Index`` is the entry point. Names are imported lazily so that
``import vtrsearch`` (and ``vtrsearch --help``) stays instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .categories import MSRVTT_CATEGORIES, Category, CategoryMap
    from .encoders import load_encoder
    from .errors import (
        AnnNotBuiltError,
        DimensionMismatchError,
        IndexExistsError,
        IndexNotFoundError,
        IngestError,
        InvalidAnnParamsError,
        InvalidQueryError,
        InvalidSegmentError,
        InvalidVectorError,
        LegacyLayoutError,
        MissingCaptionVectorsError,
        NoSegmentsError,
        SpaceMismatchError,
        StoreUnavailableError,
        UnknownCategoryError,
        UnknownSplitError,
        UnsupportedError,
        VtrsearchError,
    )
    from .filters import Filter, In
    from .index.index import Index
    from .index.session import QueryEncoder
    from .results import Hit, Moment, Segment, Video
    from .stores import VectorStore, open_store

_EXPORTS: dict[str, str] = {
    "Index": ".index",
    "Hit": ".results",
    "Moment": ".results",
    "Segment": ".results",
    "InvalidSegmentError": ".errors",
    "NoSegmentsError": ".errors",
    "Video": ".results",
    "QueryEncoder": ".index.session",
    "migrate_index": ".index.migrate",
    "MigrationReport": ".index.migrate",
    "SpaceMismatchError": ".errors",
    "MissingCaptionVectorsError": ".errors",
    "load_encoder": ".encoders",
    "Category": ".categories",
    "CategoryMap": ".categories",
    "MSRVTT_CATEGORIES": ".categories",
    "Filter": ".filters",
    "In": ".filters",
    "VectorStore": ".stores",
    "open_store": ".stores",
    "VtrsearchError": ".errors",
    "IndexNotFoundError": ".errors",
    "IndexExistsError": ".errors",
    "UnknownCategoryError": ".errors",
    "UnknownSplitError": ".errors",
    "DimensionMismatchError": ".errors",
    "InvalidVectorError": ".errors",
    "InvalidQueryError": ".errors",
    "IngestError": ".errors",
    "StoreUnavailableError": ".errors",
    "LegacyLayoutError": ".errors",
    "AnnNotBuiltError": ".errors",
    "UnsupportedError": ".errors",
    "InvalidAnnParamsError": ".errors",
}

__all__ = [
    "AnnNotBuiltError",
    "Category",
    "CategoryMap",
    "DimensionMismatchError",
    "Filter",
    "Hit",
    "In",
    "Index",
    "IndexExistsError",
    "IndexNotFoundError",
    "IngestError",
    "InvalidAnnParamsError",
    "InvalidQueryError",
    "InvalidSegmentError",
    "InvalidVectorError",
    "LegacyLayoutError",
    "MSRVTT_CATEGORIES",
    "MigrationReport",
    "MissingCaptionVectorsError",
    "Moment",
    "NoSegmentsError",
    "QueryEncoder",
    "Segment",
    "SpaceMismatchError",
    "StoreUnavailableError",
    "UnknownCategoryError",
    "UnknownSplitError",
    "UnsupportedError",
    "VectorStore",
    "Video",
    "VtrsearchError",
    "load_encoder",
    "migrate_index",
    "open_store",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vtrsearch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
