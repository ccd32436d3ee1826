"""Building and routing to an :class:`vtrsearch.Index`'s ANN index (see :mod:`.ann`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..extras import MissingExtraError
from .ann import (
    AUTO_ANN_MIN_VIDEOS,
    DEFAULT_KIND,
    META_KEY,
    AnnNotBuiltError,
    ProgressFn,
    ann_info,
    backend_for,
    check_mode,
    not_built_message,
)

if TYPE_CHECKING:
    from ..results import Hit

logger = logging.getLogger(__name__)


class AnnMixin:
    """``build_ann`` and the ``mode`` routing of searches."""

    def build_ann(
        self, kind: str = DEFAULT_KIND, *, progress: ProgressFn | None = None, **params: Any
    ) -> dict[str, Any]:
        """Build (or rebuild) the index's ANN index of ``kind`` for ``mode="ann"``/``"auto"``.

        The parameters (defaults filled in) and the videos-table version it was built from are
        stored in the index metadata (``ann``). A killed build leaves the previous ANN index
        (or none) in use; running it again completes it.

        Args:
            kind: ``"faiss-ivf-pq4fs"`` (default), ``"faiss-ivf-sq8"`` or ``"faiss-ivf-fp16"``
                (see :func:`vtrsearch.index.ann.ann_kinds`).
            progress: called with (vectors added, total).
            **params: the kind's parameters (faiss: ``nlist``, ``nprobe``, ``rescore``, ...).

        Returns:
            The stored ``{"kind", "params", "version"}``.
        """
        backend = backend_for(kind)
        version = self.version  # type: ignore[attr-defined]
        stored = backend.build(self, params, progress)  # type: ignore[arg-type]
        info = {"kind": kind, "params": stored, "version": str(version)}
        self.set_metadata(**{META_KEY: info})  # type: ignore[attr-defined]
        return info

    def ann_info(self) -> dict[str, Any] | None:
        """The built ANN index: ``{"kind", "params", "version", "stale"}``, or ``None``."""
        return ann_info(self, reread=True)  # type: ignore[arg-type]

    def _ann_route(self, mode: str, pool: str) -> dict[str, Any] | None:
        """The ANN info to answer with, or ``None`` for the exact path."""
        check_mode(mode)
        if mode == "exact":
            return None
        info = ann_info(self, reread=True, with_stale=False)  # type: ignore[arg-type]
        if mode == "ann":
            if info is None:
                raise AnnNotBuiltError(not_built_message(self))  # type: ignore[arg-type]
            if pool != "mean":  # the ANN index holds the pooled vectors only
                logger.info("mode='ann' with pool=%r is answered exactly", pool)
                return None
            return info
        # auto
        if info is None or pool != "mean" or len(self) < AUTO_ANN_MIN_VIDEOS:  # type: ignore[arg-type]
            return None
        backend = backend_for(info["kind"])
        if getattr(backend, "needs_gallery", False) and self.searches_on_store:  # type: ignore[attr-defined]
            return None
        return info

    def _ann_search(
        self,
        info: Mapping[str, Any],
        queries: np.ndarray,
        k: int,
        cats: frozenset[int] | None,
        splits: frozenset[str] | None,
        params: Mapping[str, Any] | None,
        *,
        auto: bool,
    ) -> list[list[Hit]] | None:
        """Hits from the ANN backend; ``None`` under ``auto`` when it cannot answer."""
        backend = backend_for(info["kind"])
        try:
            return backend.search(self, queries, k, cats, splits, dict(params or {}))  # type: ignore[arg-type]
        except (FileNotFoundError, MissingExtraError) as exc:
            if auto:
                logger.warning("mode='auto' falls back to exact search: %s", exc)
                return None
            if isinstance(exc, MissingExtraError):
                raise
            raise AnnNotBuiltError(
                f"the ANN index of {self.uri} ({info['kind']}) is recorded but its files are "  # type: ignore[attr-defined]
                f"missing ({exc}); rebuild it with `vtrsearch build-ann {self.uri}`"  # type: ignore[attr-defined]
            ) from None
