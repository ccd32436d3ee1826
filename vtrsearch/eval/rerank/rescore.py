"""Re-ranking of similarity scores: Dual Softmax (DSL) and Query-Bank Normalisation (QB-Norm).

Axis convention everywhere: rows are queries, columns are gallery items, i.e. a text-to-video
matrix is ``(n_captions, n_videos)``.

* **Dual Softmax** (CAMoE / DSL, Cheng et al. 2021) is transductive: it needs every test query at
  once, so it works on a full matrix. ``dual_softmax(sim) = sim * softmax(sim * T, axis=0)``: each
  score is weighted by a prior computed over the *query* axis (how strongly this query claims the
  item compared with the other queries).
* **QB-Norm** (Bogolin et al., CVPR 2022) replaces the test set by a bank of *training* queries,
  so it also works one query at a time (search serving). Dynamic inverted softmax:
  ``exp(beta * s_j) / sum_b exp(beta * bank_b_j)``, applied to a query only when its top-1
  gallery item is in the bank's activation set (items that are some bank query's top-k).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..metrics import RetrievalMetrics


def _float_matrix(x: np.ndarray, name: str, ndims: tuple[int, ...] = (2,)) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim not in ndims:
        raise ValueError(f"{name} must be {' or '.join(f'{n}-D' for n in ndims)}, got {a.shape}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf")
    return a


def _positive(x: float, name: str) -> float:
    x = float(x)
    if not (np.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a positive finite number, got {x}")
    return x


def dual_softmax(sim: np.ndarray, temperature: float = 100.0) -> np.ndarray:
    """Dual Softmax re-scoring: ``sim * softmax(sim * temperature, axis=0)``.

    Rows are queries and columns gallery items; the softmax prior runs over the query axis
    (axis 0), computed stably (column max subtracted, sums in float64). For the other direction
    transpose: video-to-text scores of a ``(n_captions, n_videos)`` matrix are
    ``dual_softmax(sim.T).T``.

    Args:
        sim: ``(n_queries, n_items)`` similarities (float32 stays float32 to save memory).
        temperature: Inverse softmax temperature (100 in CAMoE).

    Returns:
        Re-scored matrix, same shape; one extra matrix of memory.
    """
    sim = _float_matrix(sim, "sim")
    temperature = _positive(temperature, "temperature")
    out = np.multiply(sim, sim.dtype.type(temperature))
    out -= out.max(axis=0, keepdims=True)
    np.exp(out, out=out)
    colsum = out.sum(axis=0, dtype=np.float64)
    out *= (1.0 / colsum).astype(sim.dtype)
    out *= sim
    return out


def evaluate_dual_softmax(
    sim: np.ndarray,
    caption_video: np.ndarray,
    *,
    temperature: float = 100.0,
    ties: str = "average",
    directions: Sequence[str] = ("t2v", "v2t"),
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = 4096,
) -> dict[str, RetrievalMetrics]:
    """Metrics after Dual Softmax, with the prior over the query axis of each direction.

    t2v uses ``dual_softmax(sim)`` (prior over captions), v2t uses ``dual_softmax(sim.T).T``
    (prior over videos). ``sim`` is ``(n_captions, n_videos)``.
    """
    from ..metrics import evaluate_similarity

    t2v = dual_softmax(sim, temperature) if "t2v" in directions else None
    v2t = dual_softmax(np.asarray(sim).T, temperature).T if "v2t" in directions else None
    main = t2v if t2v is not None else v2t
    return evaluate_similarity(
        main,
        caption_video,
        ties=ties,
        directions=directions,
        ks=ks,
        chunk_size=chunk_size,
        v2t_sim=v2t,
    )


class QueryBankNorm:
    """QB-Norm with a query bank, dynamic inverted softmax (Bogolin et al. 2022).

    The bank must be built from **training** queries only (the caller's responsibility): using
    test queries would leak the test set, which is exactly what QB-Norm is meant to avoid.

    For gallery item ``j`` the normaliser is ``Z_j = sum_b exp(beta * sim(bank_b, item_j))``
    (kept as ``log Z_j`` via streaming log-sum-exp). A query with similarities ``s`` is re-scored
    to ``exp(beta * s_j - log Z_j)`` when its top-1 item is in the activation set (items that are
    among the top-``k`` of at least one bank query); otherwise its scores are returned unchanged
    (``dynamic=False`` normalises every query: plain inverted softmax). Ranking within a row is
    what matters; rows normalised and not are on different scales.

    Args:
        bank_vectors: ``(n_bank, d)`` training-query embeddings.
        gallery_vectors: ``(n_gallery, d)`` gallery embeddings (columns of later ``sims``).
        beta: Inverse temperature of the inverted softmax (20 in the paper).
        k: Size of each bank query's top-k for the activation set (1 in the paper).
        dynamic: Dynamic inverted softmax (the paper's) if True, plain inverted softmax if False.
        chunk_size: Bank rows per chunk when computing the bank similarities.
    """

    def __init__(
        self,
        bank_vectors: np.ndarray,
        gallery_vectors: np.ndarray,
        beta: float = 20.0,
        k: int = 1,
        *,
        dynamic: bool = True,
        chunk_size: int = 4096,
    ) -> None:
        bank = _float_matrix(bank_vectors, "bank_vectors")
        gallery = _float_matrix(gallery_vectors, "gallery_vectors")
        if bank.shape[1] != gallery.shape[1]:
            raise ValueError(f"bank and gallery dimensions differ: {bank.shape} vs {gallery.shape}")
        chunks = (bank[s : s + chunk_size] @ gallery.T for s in range(0, len(bank), chunk_size))
        self._fit(chunks, len(bank), len(gallery), beta, k, dynamic)

    @classmethod
    def from_bank_similarities(
        cls, bank_sims: np.ndarray, beta: float = 20.0, k: int = 1, *, dynamic: bool = True
    ) -> QueryBankNorm:
        """Build from precomputed ``(n_bank, n_gallery)`` bank-query x gallery similarities."""
        sims = _float_matrix(bank_sims, "bank_sims")
        self = cls.__new__(cls)
        self._fit(iter([sims]), sims.shape[0], sims.shape[1], beta, k, dynamic)
        return self

    def _fit(self, chunks, n_bank: int, n_gallery: int, beta: float, k: int, dynamic: bool) -> None:
        if n_bank == 0 or n_gallery == 0:
            raise ValueError(f"need a non-empty bank and gallery, got {n_bank} x {n_gallery}")
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n_gallery:
            raise ValueError(f"k must be an int in [1, {n_gallery}], got {k!r}")
        self.beta = _positive(beta, "beta")
        self.k = int(k)
        self.dynamic = bool(dynamic)
        self.n_gallery = n_gallery
        m = np.full(n_gallery, -np.inf)
        acc = np.zeros(n_gallery)
        active = np.zeros(n_gallery, dtype=bool)
        for chunk in chunks:
            z = self.beta * np.asarray(chunk, dtype=np.float64)
            if not np.isfinite(z).all():
                raise ValueError("bank similarities contain NaN or inf")
            top = np.argpartition(-z, self.k - 1, axis=1)[:, : self.k]
            active[top.ravel()] = True
            m_new = np.maximum(m, z.max(axis=0))
            acc = acc * np.exp(m - m_new) + np.exp(z - m_new).sum(axis=0)
            m = m_new
        self.log_normalizer = m + np.log(acc)
        self.activation = active

    def rescore(self, sims: np.ndarray) -> np.ndarray:
        """Re-score one query (1-D, ``(n_gallery,)``) or a batch (2-D, ``(n, n_gallery)``).

        Returns:
            float64 array of the same shape.
        """
        s = _float_matrix(sims, "sims", ndims=(1, 2)).astype(np.float64, copy=False)
        if s.shape[-1] != self.n_gallery:
            raise ValueError(
                f"sims must have {self.n_gallery} columns (one per gallery item), got {s.shape}"
            )
        s2 = s.reshape(-1, self.n_gallery)
        out = np.exp(self.beta * s2 - self.log_normalizer)
        if self.dynamic:
            apply = self.activation[np.argmax(s2, axis=1)]
            out = np.where(apply[:, None], out, s2)
        return out.reshape(s.shape)

    def similarity(self, text: np.ndarray, gallery: np.ndarray) -> np.ndarray:
        """``rescore(text @ gallery.T)``; usable as ``similarity_fn`` of ``retrieval_ranks``."""
        return self.rescore(np.asarray(text) @ np.asarray(gallery).T)
