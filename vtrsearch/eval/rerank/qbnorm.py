"""Query-Bank Normalisation (QB-Norm, Bogolin et al., CVPR 2022).

QB-Norm replaces the test set by a bank of *training* queries, so it also works one query at a
time (search serving). Dynamic inverted softmax: ``exp(beta * s_j) / sum_b exp(beta * bank_b_j)``,
applied to a query only when its top-1 gallery item is in the bank's activation set (items that
are some bank query's top-k). Rows are queries and columns gallery items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..metrics import ProgressFn, retrieval_ranks
from .base import float_matrix, positive_float

QB_BETA = 20.0
"""Inverse temperature of the inverted softmax (the paper's)."""
QB_K = 1
"""Each bank query's top-k forming the activation set (the paper's)."""


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
        bank = float_matrix(bank_vectors, "bank_vectors")
        gallery = float_matrix(gallery_vectors, "gallery_vectors")
        if bank.shape[1] != gallery.shape[1]:
            raise ValueError(f"bank and gallery dimensions differ: {bank.shape} vs {gallery.shape}")
        chunks = (bank[s : s + chunk_size] @ gallery.T for s in range(0, len(bank), chunk_size))
        self._fit(chunks, len(bank), len(gallery), beta, k, dynamic)

    @classmethod
    def from_bank_similarities(
        cls, bank_sims: np.ndarray, beta: float = 20.0, k: int = 1, *, dynamic: bool = True
    ) -> QueryBankNorm:
        """Build from precomputed ``(n_bank, n_gallery)`` bank-query x gallery similarities."""
        sims = float_matrix(bank_sims, "bank_sims")
        self = cls.__new__(cls)
        self._fit(iter([sims]), sims.shape[0], sims.shape[1], beta, k, dynamic)
        return self

    def _fit(self, chunks, n_bank: int, n_gallery: int, beta: float, k: int, dynamic: bool) -> None:
        if n_bank == 0 or n_gallery == 0:
            raise ValueError(f"need a non-empty bank and gallery, got {n_bank} x {n_gallery}")
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n_gallery:
            raise ValueError(f"k must be an int in [1, {n_gallery}], got {k!r}")
        self.beta = positive_float(beta, "beta")
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
        s = float_matrix(sims, "sims", ndims=(1, 2)).astype(np.float64, copy=False)
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


def qbnorm_ranks(
    q: np.ndarray,
    g: np.ndarray,
    cv: np.ndarray,
    bank_text: np.ndarray,
    bank_video: np.ndarray,
    *,
    ties: str = "average",
    directions: Sequence[str] = ("t2v", "v2t"),
    beta: float = QB_BETA,
    k: int = QB_K,
    progress: ProgressFn | None = None,
) -> dict[str, np.ndarray]:
    """Ranks after QB-Norm (dynamic inverted softmax), chunked like plain evaluation.

    t2v: the bank is ``bank_text`` (captions of the bank split's videos) querying the gallery.
    v2t: the bank is ``bank_video`` (the bank split's videos) querying the evaluated captions;
    each test video's scores are normalised when its top-1 caption is in the activation set.

    Args:
        q: ``(n_captions, d)`` unit query vectors.
        g: ``(n_videos, d)`` gallery vectors.
        cv: Gallery row of each caption's video.
        bank_text: ``(n_bank_captions, d)`` query vectors of the bank (training) captions.
        bank_video: ``(n_bank_videos, d)`` vectors of the bank (training) videos.
        ties: How tied scores count.
        directions: ``"t2v"`` and/or ``"v2t"``.
        beta: Inverse temperature of the inverted softmax.
        k: Each bank query's top-k forming the activation set.
        progress: Optional ``callable(done_rows, total_rows)`` after each chunk of captions.

    Returns:
        Same keys as :func:`~vtrsearch.eval.metrics.retrieval_ranks`.
    """
    out: dict[str, np.ndarray] = {}
    if "t2v" in directions:
        qb = QueryBankNorm(bank_text, g, beta=beta, k=k)
        out.update(
            retrieval_ranks(
                q,
                g,
                cv,
                ties=ties,
                directions=("t2v",),
                similarity_fn=qb.similarity,
                progress=progress,
            )
        )
    if "v2t" in directions:
        qbv = QueryBankNorm(bank_video, q, beta=beta, k=k)
        top_caption = np.empty(g.shape[0], dtype=np.int64)
        for s in range(0, g.shape[0], 1024):
            top_caption[s : s + 1024] = np.argmax(g[s : s + 1024] @ q.T, axis=1)
        apply = qbv.activation[top_caption]
        # similarity_fn only sees caption rows, so each caption carries its log-normaliser
        # as an extra column; a video's column is re-scored as a whole (same scale throughout).
        text_aug = np.hstack([q.astype(np.float64), qbv.log_normalizer[:, None]])
        video_aug = np.hstack([g.astype(np.float64), np.zeros((g.shape[0], 1))])

        def rescore(t: np.ndarray, v: np.ndarray) -> np.ndarray:
            s = t[:, :-1] @ v[:, :-1].T
            return np.where(apply[None, :], np.exp(beta * s - t[:, -1:]), s)

        out.update(
            retrieval_ranks(
                text_aug,
                video_aug,
                cv,
                ties=ties,
                directions=("v2t",),
                similarity_fn=rescore,
                progress=progress,
            )
        )
    return out


class QBNormRerank:
    """:class:`~vtrsearch.eval.rerank.Reranker` for QB-Norm with a bank of training queries.

    Args:
        bank_text: Query vectors of the bank's captions (same encoder and head as the
            evaluated queries), for t2v.
        bank_video: Vectors of the bank's videos, for v2t.
        beta: Inverse temperature of the inverted softmax.
        k: Each bank query's top-k forming the activation set.
        bank_name: Where the bank comes from (e.g. the split), for the row's note.
    """

    kind = "qbnorm"
    suffix = "+QB-Norm"

    def __init__(
        self,
        bank_text: np.ndarray,
        bank_video: np.ndarray,
        *,
        beta: float = QB_BETA,
        k: int = QB_K,
        bank_name: str | None = None,
    ) -> None:
        self.bank_text = bank_text
        self.bank_video = bank_video
        self.beta = positive_float(beta, "beta")
        self.k = k
        self.bank_name = bank_name

    @property
    def note(self) -> str:
        """The row's settings: beta, k and the size and origin of the bank."""
        where = "" if self.bank_name is None else f" from {self.bank_name}"
        return (
            f"QB-Norm (dynamic inverted softmax, beta {self.beta:g}, k {self.k}); bank{where}: "
            f"{len(self.bank_text)} captions (t2v), {len(self.bank_video)} videos (v2t)"
        )

    def ranks(
        self,
        q: np.ndarray,
        g: np.ndarray,
        cv: np.ndarray,
        *,
        ties: str,
        directions: Sequence[str],
        progress: ProgressFn | None = None,
    ) -> dict[str, np.ndarray]:
        """See :func:`qbnorm_ranks`."""
        return qbnorm_ranks(
            q,
            g,
            cv,
            self.bank_text,
            self.bank_video,
            ties=ties,
            directions=directions,
            beta=self.beta,
            k=self.k,
            progress=progress,
        )
