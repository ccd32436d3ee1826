"""Compact scoring matrices (float16, int8) with an exact float32 re-score of the candidates.

A query is first scored on the compact matrix (half or a quarter of float32's bytes, so half or
a quarter of the memory traffic of a scan), then the best candidates are scored again exactly
in float32 and re-ranked with :func:`~.gallery.top_k_of_scores` (stable descending, ties by
row). The float32 vectors come from a memory-mapped copy of the store's vectors (see
:mod:`.gallery_cache`; the issue asked for rows "fetched from the store by row": a
memory-mapped float32 copy rebuilt from the store on every version change holds the same
values and reads a candidate row with one page fault instead of a store query), so only the
candidates' pages are touched and the resident memory stays near the compact matrix.

**The margin is adaptive, and the answer is exact.** Every compact score is within a known
bound ``b`` of the float32 score (:meth:`CompactVectors.bound`). The first pass re-scores the
top ``max(4 k, k + 32)`` candidates; when the lowest compact score among them plus ``b`` is not
below the ``k``-th exact score, a row outside could still belong to the top-k, and the
candidates widen (x4) until none can (at worst to every row). So the returned rows and scores
are those of the float32 scan, up to the last-bit differences any two float32 summation orders
have.

* ``float16``: every element is rounded to half precision (relative error <= 2**-11), the query
  too, and scores may be rounded to half by the kernel: ``b = 4 * 2**-11 + d * 2**-24`` for unit
  vectors (Cauchy-Schwarz), i.e. about 0.002.
* ``int8``: symmetric, one scale per vector, ``scale = max|x| / 127`` (per vector rather than
  per dimension so that one outlier dimension of one video cannot coarsen every other video,
  and so a row is encoded alone when streaming the store). The element error is at most
  ``scale / 2``, so ``b = max(scale) / 2 * ||q||_1`` (plus float32 rounding): about 0.02 for
  1024-d CLIP-like rows, so int8 often widens once or twice (cheap: the compact scan is not
  repeated, only more candidate rows are read).

``precision="auto"`` keeps float32 while the float32 vectors (videos and segments) take at most
:data:`AUTO_FLOAT32_BYTES` (512 MiB, ~130k x 1024) and uses float16 above: below that size a
float32 scan is a few milliseconds and the memory does not matter.

Kernels: with torch installed (the ``clip`` extra), float16 uses torch's half matrix-vector
product and int8 its int8 weight-only kernel (``_weight_int8pack_mm``: bfloat16 query, which
adds three bfloat16 roundings, 3 * 2**-9, to the int8 bound); without torch, numpy casts
chunks of rows to float32 for BLAS (correct, but slower than a float32 scan: numpy has no fast
half or int8 kernel, a cast costs 1-7 ns per element).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

PRECISIONS = ("auto", "float32", "float16", "int8")
#: ``"auto"`` keeps float32 up to this many bytes of float32 vectors, float16 above.
AUTO_FLOAT32_BYTES = 512 << 20
#: First pass re-scores ``max(MARGIN * k, k + MIN_EXTRA)`` candidates.
MARGIN = 4
MIN_EXTRA = 32
#: At most this many candidate rows are read with ``pread`` (more go through the memory map).
PREAD_ROWS = 4096
_CHUNK = 8192  # rows cast to float32 at once (32 MiB at d=1024; fewer, larger BLAS calls)
_TOPK_MIN = 65536  # below this many scores numpy's argpartition is as fast as torch's topk


def check_precision(precision: Any) -> str:
    """``precision`` when it is one of :data:`PRECISIONS`; a clear ``ValueError`` otherwise."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def resolve_precision(precision: str, n_vectors: int, dim: int) -> str:
    """The concrete precision for ``n_vectors`` float32 vectors of ``dim`` (see the module)."""
    precision = check_precision(precision)
    if precision != "auto":
        return precision
    return "float32" if n_vectors * dim * 4 <= AUTO_FLOAT32_BYTES else "float16"


def kth_largest(scores: np.ndarray, m: int) -> float:
    """The ``m``-th largest of ``scores`` (``1 <= m <= len(scores)``).

    With torch already imported (it is once a compact kernel ran) and a large array, torch's
    ``topk`` (about 4 ms for 1M float32 here) instead of numpy's ``argpartition`` (7-13 ms);
    torch is never imported for this.
    """
    n = len(scores)
    torch = sys.modules.get("torch")
    if (
        torch is not None
        and n >= _TOPK_MIN
        and scores.dtype in (np.float32, np.float16)
        and scores.flags.c_contiguous
        and scores.flags.writeable
    ):
        return float(torch.topk(torch.from_numpy(scores), m, sorted=False).values.min())
    return float(scores[np.argpartition(scores, n - m)[n - m :]].min())


def first_pass(k: int) -> int:
    """How many candidates the first pass re-scores for a top-``k``."""
    return max(MARGIN * k, k + MIN_EXTRA)


def encode(block: np.ndarray, precision: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(codes, per-row scales) of a float32 ``block`` of rows; ``(None, None)`` for float32."""
    if precision == "float32":
        return None, None
    if precision == "float16":
        return block.astype(np.float16), None
    if precision == "int8":
        peak = np.abs(block).max(axis=1) if block.size else np.zeros(len(block), np.float32)
        scale = (peak / 127.0).astype(np.float32)
        safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
        codes = np.clip(np.rint(block / safe[:, None]), -127, 127).astype(np.int8)
        return codes, scale
    raise ValueError(f"no compact encoding for precision {precision!r}")


def _int8_kernel() -> Any:
    """torch's ``_weight_int8pack_mm`` (int8 rows with one scale each; AVX-512 kernels), or
    ``None`` without torch or on a torch that lacks it (numpy then casts chunks instead)."""
    torch = _torch()
    return getattr(torch, "_weight_int8pack_mm", None) if torch is not None else None


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # the clip extra is not installed: numpy kernels
        return None
    return torch


class CompactVectors:
    """Float32 vectors (``exact``) with their compact scoring copy (``codes``, ``scales``).

    ``exact`` may be a read-only memory map. For ``float32`` there is no copy and every score
    is exact.
    """

    def __init__(
        self,
        exact: np.ndarray,
        precision: str = "float32",
        codes: np.ndarray | None = None,
        scales: np.ndarray | None = None,
        exact_file: tuple[str, int] | None = None,
    ):
        precision = check_precision(precision)
        if precision == "auto":
            raise ValueError("CompactVectors needs a concrete precision, not 'auto'")
        if precision != "float32" and codes is None:
            codes, scales = encode(np.asarray(exact, dtype=np.float32), precision)
        self.exact = exact
        self.precision = precision
        self.codes = codes
        self.scales = scales
        self._tensor: Any = None
        self._fd: int | None = None
        self._offset = 0
        if exact_file is not None and codes is not None:
            self._fd = os.open(exact_file[0], os.O_RDONLY)
            self._offset = int(exact_file[1])
        self._max_scale = float(scales.max()) if scales is not None and len(scales) else 0.0

    def __len__(self) -> int:
        return len(self.exact)

    @property
    def is_exact(self) -> bool:
        """Whether scores need no re-scoring (float32)."""
        return self.codes is None

    @property
    def nbytes(self) -> int:
        """Bytes of the scoring matrix (what a scan reads)."""
        if self.codes is None:
            return int(self.exact.nbytes)
        return int(self.codes.nbytes) + (0 if self.scales is None else int(self.scales.nbytes))

    def bound(self, query: np.ndarray) -> float:
        """An upper bound on ``|compact score - float32 score|`` for unit rows and ``query``."""
        if self.codes is None:
            return 0.0
        d = self.exact.shape[1]
        if self.precision == "float16":
            return 4 * 2.0**-11 + d * 2.0**-24
        bound = self._max_scale / 2 * float(np.abs(query).sum()) * (1 + 1e-5) + d * 2.0**-23
        if _int8_kernel() is not None:  # bfloat16 query, scales and scores: 3 roundings of 2**-9
            bound += 3 * 2.0**-9 * 1.05
        return bound

    def __del__(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def exact_rows(self, rows: np.ndarray) -> np.ndarray:
        """The float32 vectors of ``rows`` (a copy).

        With ``exact_file`` (the path and data offset of the ``.npy`` that ``exact`` maps), up
        to :data:`PREAD_ROWS` rows are read with ``pread`` instead of through the memory map:
        the same bytes, but no page of the float32 file joins this process's resident memory
        (through the map, read-ahead and fault-around made it grow by ~3 MB per query).
        """
        rows = np.asarray(rows, dtype=np.int64)
        if self._fd is None or len(rows) > PREAD_ROWS or len(rows) == 0:
            return np.asarray(self.exact[rows], dtype=np.float32)
        dim = self.exact.shape[1]
        size = dim * 4
        out = np.empty((len(rows), dim), dtype=np.float32)
        view = memoryview(out).cast("B")
        for i, row in enumerate(rows.tolist()):
            got = os.preadv(self._fd, [view[i * size : (i + 1) * size]], self._offset + row * size)
            if got != size:
                raise OSError(f"short read of row {row} from the gallery cache ({got} bytes)")
        return out

    def exact_scores(self, query: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Float32 scores of ``rows`` (every row when ``None``)."""
        if rows is None:
            return np.asarray(self.exact @ query, dtype=np.float32)
        return self.exact_rows(rows) @ query

    def scores(self, query: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Scores of ``rows`` (all when ``None``) on the scoring matrix (exact for float32)."""
        if self.codes is None:
            return self.exact_scores(query, rows)
        return self.scores_many(query[None, :], rows)[0]

    def scores_many(self, queries: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """A (q, n_rows) block of scores on the scoring matrix (exact for float32)."""
        if self.codes is None:
            mat = self.exact if rows is None else self.exact_rows(rows)
            return np.asarray(queries @ mat.T, dtype=np.float32)
        codes = self.codes if rows is None else self.codes[rows]
        if self.precision == "float16":
            return self._half_scores(queries, codes, whole=rows is None)
        assert self.scales is not None
        scales = self.scales if rows is None else self.scales[rows]
        if _int8_kernel() is not None:
            return self._int8_scores(queries, codes, scales, whole=rows is None)
        out = _chunked(queries, codes)
        out *= scales
        return out

    def _int8_scores(
        self, queries: np.ndarray, codes: np.ndarray, scales: np.ndarray, whole: bool
    ) -> np.ndarray:
        """torch's int8 weight-only kernel: (bfloat16 queries) x (int8 rows) x (row scales)."""
        torch = _torch()
        if whole:
            if self._tensor is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    mat = torch.from_numpy(self.codes)
                self._tensor = (mat, torch.from_numpy(np.asarray(scales)).to(torch.bfloat16))
            mat, scale = self._tensor
        else:
            mat = torch.from_numpy(np.ascontiguousarray(codes))
            scale = torch.from_numpy(np.asarray(scales, dtype=np.float32)).to(torch.bfloat16)
        q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(torch.bfloat16)
        return _int8_kernel()(q, mat, scale).float().numpy()

    def _half_scores(self, queries: np.ndarray, codes: np.ndarray, whole: bool) -> np.ndarray:
        torch = _torch()
        if torch is None:
            return _chunked(queries, codes)
        if whole:
            if self._tensor is None:
                with warnings.catch_warnings():  # a read-only memory map: torch only reads it
                    warnings.simplefilter("ignore", UserWarning)
                    self._tensor = torch.from_numpy(self.codes)
            mat = self._tensor
        else:
            mat = torch.from_numpy(np.ascontiguousarray(codes))
        q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float16))
        if len(queries) == 1:
            return torch.mv(mat, q[0]).float().numpy()[None, :]
        return torch.mm(q, mat.T).float().numpy()


def _chunked(queries: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``queries @ codes.T`` with ``codes`` cast to float32 a chunk of rows at a time."""
    out = np.empty((len(queries), len(codes)), dtype=np.float32)
    q = np.ascontiguousarray(queries, dtype=np.float32)
    for start in range(0, len(codes), _CHUNK):
        block = np.asarray(codes[start : start + _CHUNK], dtype=np.float32)
        out[:, start : start + len(block)] = q @ block.T
    return out


Select = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def rescored(
    approx: np.ndarray,
    bound: float,
    exact: Callable[[np.ndarray], np.ndarray],
    select: Select,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact selection among items scored ``approx`` (each within ``bound`` of exact).

    Args:
        approx: compact scores of items ``0..n-1``.
        bound: the largest ``|approx - exact|``.
        exact: exact scores of a sorted array of item positions.
        select: ``(exact scores, their sorted positions) -> (positions, scores)`` best first,
            at most ``k`` (e.g. top-k with ties by position).
        k: how many items the selection wants.

    Returns:
        What ``select`` returns on the candidates once no item outside them can change it:
        the same as ``select`` on every item's exact score.
    """
    n = len(approx)
    m = min(n, first_pass(k))
    while True:
        if m >= n:
            every = np.arange(n)
            return select(exact(every), every)
        # the candidates: every item scoring at least the m-th best (ties included), sorted
        threshold = kth_largest(approx, m)
        cand = np.flatnonzero(approx >= threshold)
        pos, scores = select(exact(cand), cand)
        if len(pos) < k:  # the selection skipped candidates (e.g. per-video caps): widen
            m = min(n, m * 4)
            continue
        # every item outside scores below threshold + bound exactly
        if threshold + bound < float(scores[-1]):
            return pos, scores
        # Widen once to every item that could still reach the k-th exact score. The wider set
        # holds the old top k (each scores at least the k-th exact score, so at least that
        # minus the bound on the compact matrix), so its k-th exact score is at least the old
        # one, and every item left outside scores below the old one exactly: this selection
        # is final.
        wider = np.flatnonzero(approx >= _float32_at_most(float(scores[-1]) - bound))
        return select(exact(wider), wider)


def _float32_at_most(x: float) -> np.float32:
    """The largest float32 not above ``x`` (a comparison threshold that never rounds up)."""
    y = np.float32(x)
    return y if float(y) <= x else np.nextafter(y, np.float32(-np.inf))
