"""A built faiss IVF index mapped onto the current gallery, and its filtered probing.

:class:`FaissState` maps faiss ids to gallery rows by video id (rows whose vector changed
since the build are left out by fingerprint, rows added since are searched exactly) and keeps,
per filter, an id selector and how many allowed ids each inverted list holds;
:func:`search_by_matches` probes the nearest lists that hold allowed ids (see
:mod:`.faiss_ann` for the rule and its figures).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..extras import require_extra
from .gallery import Gallery

logger = logging.getLogger(__name__)
_FP_SEED = 1234


def load_faiss() -> Any:
    """The ``faiss`` module, or an error naming the ``ann`` extra."""
    return require_extra("faiss", "ann")


def gallery_float32(m: Gallery, rows: np.ndarray | None = None) -> np.ndarray:
    """The gallery's vectors (of ``rows``) as float32: the one place that converts them."""
    if rows is not None:  # only these rows' pages are read (the gallery may be memory-mapped)
        return np.ascontiguousarray(m.exact_rows(np.asarray(rows)), dtype=np.float32)
    return np.ascontiguousarray(m.vectors, dtype=np.float32)


def fingerprints(m: Gallery) -> np.ndarray:
    """Two random projections per row: a vector that changed under the same id shows here."""
    return fingerprints_of_rows(m, np.arange(len(m)))


@dataclass
class FaissState:
    """A loaded faiss index and its mapping onto one gallery."""

    index: Any
    ids: np.ndarray  # object array: video id of each faiss id
    fp: np.ndarray  # (n_built, 2) fingerprints
    manifest: dict[str, Any]
    pointer_mtime: int | None = None
    checked_at: float = 0.0
    gallery: Gallery | None = None
    row_of_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    id_of_row: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fresh_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fresh_vecs: np.ndarray | None = None  # float32 vectors of fresh_rows (searched exactly)
    selectors: dict[Any, tuple[Any, np.ndarray, np.ndarray | None]] = field(default_factory=dict)
    list_of_id: np.ndarray | None = None  # inverted list of each faiss id (read lazily)

    def align(self, m: Gallery) -> None:
        """Map faiss ids onto the rows of gallery ``m`` (once per gallery)."""
        if self.gallery is m:
            return
        import pandas as pd

        rows = pd.Index(m.ids).get_indexer(self.ids).astype(np.int64)
        ok = rows >= 0
        if ok.any():
            now = fingerprints_of_rows(m, rows[ok])
            changed = np.abs(now - self.fp[ok]).max(axis=1) > 1e-4
            idx = np.flatnonzero(ok)[changed]
            rows[idx] = -1
        self.row_of_id = rows
        self.id_of_row = np.full(len(m), -1, dtype=np.int64)
        valid = rows >= 0
        self.id_of_row[rows[valid]] = np.flatnonzero(valid)
        self.fresh_rows = np.flatnonzero(self.id_of_row < 0)
        self.fresh_vecs = gallery_float32(m, self.fresh_rows) if len(self.fresh_rows) else None
        self.selectors = {}
        self.gallery = m
        if len(self.fresh_rows) or not valid.all():
            logger.info(
                "ANN index is stale: %d video(s) searched exactly, %d gone",
                len(self.fresh_rows),
                int((~valid).sum()),
            )

    def lists(self) -> np.ndarray:
        """The inverted list that holds each faiss id (read from the index once)."""
        if self.list_of_id is None:
            faiss = load_faiss()
            ivf = faiss.extract_index_ivf(self.index)
            out = np.full(ivf.ntotal, -1, dtype=np.int64)
            for list_no in range(ivf.nlist):
                size = ivf.invlists.list_size(list_no)
                if size:
                    ids = faiss.rev_swig_ptr(ivf.invlists.get_ids(list_no), size)
                    out[np.asarray(ids, dtype=np.int64)] = list_no
            self.list_of_id = out
        return self.list_of_id

    def matches_per_list(self, key: Any, allowed_rows: np.ndarray | None) -> np.ndarray:
        """How many allowed faiss ids each inverted list holds (counted on the first filtered
        query of ``key``: an unfiltered one never needs them)."""
        self.selector(key, allowed_rows)
        sel, bits, matches = self.selectors[key]
        if matches is None:
            nlist = int(load_faiss().extract_index_ivf(self.index).nlist)
            if sel is None:  # every id allowed
                mask = np.ones(len(self.row_of_id), dtype=bool)
            else:
                mask = np.unpackbits(bits, count=len(self.row_of_id), bitorder="little")
                mask = mask.astype(bool)
            lists = self.lists()[mask]
            matches = np.bincount(lists[lists >= 0], minlength=nlist).astype(np.int64)
            self.selectors[key] = (sel, bits, matches)
        return matches

    def selector(self, key: Any, allowed_rows: np.ndarray | None) -> Any:
        """An ``IDSelectorBitmap`` over the faiss ids allowed (``None``: every id is)."""
        if key in self.selectors:
            return self.selectors[key][0]
        faiss = load_faiss()
        mask = self.row_of_id >= 0
        if allowed_rows is not None:
            keep = np.zeros(len(self.id_of_row), dtype=bool)
            keep[allowed_rows] = True
            mask &= np.where(self.row_of_id >= 0, keep[np.maximum(self.row_of_id, 0)], False)
        if allowed_rows is None and mask.all():
            sel, bits = None, np.zeros(0, np.uint8)
        else:
            bits = np.packbits(mask, bitorder="little")
            sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        if len(self.selectors) >= 64:
            self.selectors.clear()
        self.selectors[key] = (sel, bits, None)  # the bitmap must outlive the selector
        return sel


def fingerprints_of_rows(m: Gallery, rows: np.ndarray, batch: int = 65536) -> np.ndarray:
    proj = np.random.default_rng(_FP_SEED).standard_normal((m.vectors.shape[1], 2))
    proj = proj.astype(np.float32)
    out = np.empty((len(rows), 2), dtype=np.float32)
    for start in range(0, len(rows), batch):
        out[start : start + batch] = gallery_float32(m, rows[start : start + batch]) @ proj
    return out


def search_by_matches(
    ivf: Any, queries: np.ndarray, fetch: int, sel: Any, matches: np.ndarray, want: float
) -> tuple[np.ndarray, np.ndarray]:
    """Filtered IVF search that probes, per query, the nearest lists holding allowed ids.

    Lists are taken nearest first (by the coarse quantiser's score), lists without an allowed
    id are skipped, and a query stops once its lists hold ``want`` allowed ids; the lists go
    to faiss's ``search_preassigned`` with the id selector, so only allowed ids are returned.
    """
    faiss = load_faiss()
    nlist = len(matches)
    centroid_scores, lists = ivf.quantizer.search(queries, nlist)
    held = matches[np.maximum(lists, 0)] * (lists >= 0)
    useful = held > 0
    # per query: the useful lists first, nearest first (a stable sort keeps the coarse order)
    order = np.argsort(~useful, axis=1, kind="stable")
    lists = np.take_along_axis(lists, order, axis=1)
    centroid_scores = np.take_along_axis(centroid_scores, order, axis=1)
    useful = np.take_along_axis(useful, order, axis=1)
    held = np.take_along_axis(held, order, axis=1)
    # lists a query takes: up to and including the first one that reaches ``want``
    taken = useful & (np.cumsum(held, axis=1) - held < want)
    width = max(1, int(taken.sum(axis=1).max()))
    lists = np.where(taken, lists, -1)[:, :width]  # faiss skips list -1
    centroid_scores = np.where(taken, centroid_scores, -np.inf)[:, :width]
    lists = np.ascontiguousarray(lists, dtype=np.int64)
    centroid_scores = np.ascontiguousarray(centroid_scores, dtype=np.float32)
    n = len(queries)
    dist = np.empty((n, fetch), dtype=np.float32)
    ids = np.empty((n, fetch), dtype=np.int64)
    params = faiss.SearchParametersIVF(nprobe=width, sel=sel)
    # the Python wrapper of search_preassigned refuses ``params``; the C++ method takes them
    ivf.search_preassigned_c(
        n,
        faiss.swig_ptr(queries),
        fetch,
        faiss.swig_ptr(lists),
        faiss.swig_ptr(centroid_scores),
        faiss.swig_ptr(dist),
        faiss.swig_ptr(ids),
        False,
        params,
    )
    return dist, ids


def top_k_of_scores_by_row(
    scores: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` positions by score, ties broken by gallery row (like the exact search)."""
    order = np.lexsort((rows, -scores))[:k]
    return order, scores[order]


__all__ = [
    "FaissState",
    "fingerprints",
    "fingerprints_of_rows",
    "gallery_float32",
    "load_faiss",
    "search_by_matches",
    "top_k_of_scores_by_row",
]
