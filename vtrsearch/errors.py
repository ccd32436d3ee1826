"""Exceptions raised by vtrsearch.

Every error names what was wrong (file, line, video id, expected vs got) so a user can fix
the input without reading a traceback.
"""

from __future__ import annotations


class VtrsearchError(Exception):
    """Base class of every error vtrsearch raises on purpose."""


class IndexNotFoundError(VtrsearchError, FileNotFoundError):
    """No vtrsearch index exists at the given URI."""


class IndexExistsError(VtrsearchError, FileExistsError):
    """An index already exists where a new one was to be created."""


class UnknownCategoryError(VtrsearchError, ValueError):
    """A category name or id is not one of the index's categories."""


class UnknownSplitError(VtrsearchError, ValueError):
    """A split filter names a split that no video in the index has."""


class DimensionMismatchError(VtrsearchError, ValueError):
    """A vector does not have the dimension the index or encoder expects."""


class InvalidVectorError(VtrsearchError, ValueError):
    """A vector contains NaN or infinite values, or is all zeros."""


class IngestError(VtrsearchError, ValueError):
    """Input files for ingest are missing, malformed or inconsistent."""


class StoreUnavailableError(VtrsearchError, ConnectionError):
    """The vector store cannot be reached (server down, timeout, bad URI)."""


class SpaceMismatchError(VtrsearchError, ValueError):
    """A query encoder (or head) targets another vector space than the index's features."""


class MissingCaptionVectorsError(VtrsearchError, LookupError):
    """Cached caption vectors are missing for an encoder (run ``vtrsearch encode``)."""


class InvalidSegmentError(VtrsearchError, ValueError):
    """Segments with bad times (``start >= end``, negative, not finite), overlaps or ids."""


class NoSegmentsError(VtrsearchError, LookupError):
    """A moment search or MaxSim pooling on an index (or filter) without segments."""


class LegacyLayoutError(VtrsearchError, RuntimeError):
    """A ``qdrant+local`` URI names an index of the old layout; the message says how to move it."""


class InvalidQueryError(VtrsearchError, ValueError):
    """A search that cannot be answered as asked: ``k < 1``, a text that is not valid UTF-8."""


class AnnNotBuiltError(VtrsearchError, LookupError):
    """``mode="ann"`` on an index without a usable ANN index (``vtrsearch build-ann`` builds it)."""


class UnsupportedError(VtrsearchError, NotImplementedError):
    """The store (or its mode) cannot do what was asked, e.g. build an ANN index it has not."""


class InvalidAnnParamsError(VtrsearchError, ValueError):
    """An ANN index kind or parameter is unknown or out of range (the message lists the valid)."""
