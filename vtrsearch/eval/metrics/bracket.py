"""Floating-point brackets of the v2t reference scores, and input checks of the engine.

The v2t reference score of a video (the max over its own captions) is only known after the
counting pass. Each own score is estimated by a row-wise dot product in the same dtype; both it
and the BLAS value are within ``gamma_d * |t| * |v|`` of the exact dot product (any summation
order), so a per-video ``[lo, hi]`` around the estimates is guaranteed to hold the reference,
and the pass can count against it (see :mod:`.counting`).
"""

from __future__ import annotations

import numpy as np


def check_finite_rows(a: np.ndarray, name: str, rows: int = 8192) -> None:
    for s in range(0, a.shape[0], rows):
        block = a[s : s + rows]
        if not np.isfinite(block).all():
            bad = s + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise ValueError(f"{name} contains NaN or inf (first in row {bad})")


def row_norms(a: np.ndarray, name: str, rows: int = 8192) -> np.ndarray:
    """Row L2 norms (float64; inf if the dtype overflows), raising on NaN/inf entries."""
    out = np.empty(a.shape[0], dtype=np.float64)
    for s in range(0, a.shape[0], rows):
        blk = a[s : s + rows]
        out[s : s + len(blk)] = np.einsum("ij,ij->i", blk, blk)
    if not np.isfinite(out).all():
        check_finite_rows(a, name)  # raises on NaN/inf; otherwise the squares overflowed
    return np.sqrt(out)


def matmul_band(
    text: np.ndarray,
    video: np.ndarray,
    cv: np.ndarray,
    tnorm: np.ndarray,
    vnorm: np.ndarray,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-video [lo, hi] guaranteed to contain the max own-caption score of the matrix product.

    Each own score is estimated by a row-wise dot product in the same dtype; both it and the
    BLAS value are within ``gamma_d * |t| * |v|`` of the exact dot product (any summation order),
    so the max over a video's captions moves by at most the largest such bound.
    """
    bound = product_error_bound(text.dtype, text.shape[1])
    if bound is None:
        return None
    est = np.empty(cv.shape[0], dtype=np.float64)
    for s in range(0, cv.shape[0], chunk_size):
        t, v = text[s : s + chunk_size], video[cv[s : s + chunk_size]]
        est[s : s + len(t)] = np.einsum("ij,ij->i", t, v)
    tol = bound[0] * tnorm * vnorm[cv] + bound[1]
    return band_from_estimates(est, tol, cv, video.shape[0], text.dtype)


def product_error_bound(dtype: np.dtype, d: int) -> tuple[float, float] | None:
    """``(rel, atol)``: two computations of one ``d``-term dot product ``t . v`` in ``dtype``
    (any summation order) differ by at most ``rel * |t| * |v| + atol``; ``None`` when ``d``
    is too large for the bound."""
    u = float(np.finfo(dtype).eps) / 2
    if d * u >= 0.5:
        return None
    gamma = d * u / (1 - d * u)
    atol = 4.0 * d * float(np.finfo(dtype).smallest_subnormal)
    # 1.01: the norms themselves carry a relative error of at most gamma_d / 2.
    return 2.0 * gamma * 1.01, atol


def band_from_estimates(
    est: np.ndarray, tol: np.ndarray, cv: np.ndarray, n_videos: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Per-video ``[lo, hi]`` in ``dtype`` containing the max own-caption score, from each
    caption's estimated own score ``est`` and its error bound ``tol`` (float64)."""
    ref_est = np.full(n_videos, -np.inf)
    np.maximum.at(ref_est, cv, est)
    ref_tol = np.zeros(n_videos)
    np.maximum.at(ref_tol, cv, tol)
    lo64, hi64 = ref_est - ref_tol, ref_est + ref_tol
    lo, hi = lo64.astype(dtype), hi64.astype(dtype)
    lo = np.where(lo > lo64, np.nextafter(lo, dtype.type(-np.inf)), lo).astype(dtype)
    hi = np.where(hi < hi64, np.nextafter(hi, dtype.type(np.inf)), hi).astype(dtype)
    return lo, hi
