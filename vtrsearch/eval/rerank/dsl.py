"""Dual Softmax (DSL) re-scoring, transductive (CAMoE / DSL, Cheng et al. 2021).

Dual Softmax needs every test query at once, so it works on a full matrix:
``dual_softmax(sim) = sim * softmax(sim * T, axis=0)``: each score is weighted by a prior
computed over the *query* axis (how strongly this query claims the item compared with the
other queries). Rows are queries and columns gallery items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..metrics import DIRECTIONS, ProgressFn, similarity_ranks
from .base import float_matrix, positive_float

DSL_TEMPERATURE = 100.0
"""Inverse softmax temperature of CAMoE."""

DSL_MAX_BYTES = 16 << 30
"""Refuse Dual Softmax when its full matrices would need more memory than this."""


def dual_softmax(sim: np.ndarray, temperature: float = DSL_TEMPERATURE) -> np.ndarray:
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
    sim = float_matrix(sim, "sim")
    temperature = positive_float(temperature, "temperature")
    out = np.multiply(sim, sim.dtype.type(temperature))
    out -= out.max(axis=0, keepdims=True)
    np.exp(out, out=out)
    colsum = out.sum(axis=0, dtype=np.float64)
    out *= (1.0 / colsum).astype(sim.dtype)
    out *= sim
    return out


def dual_softmax_ranks(
    sim: np.ndarray,
    caption_video: np.ndarray,
    *,
    temperature: float = DSL_TEMPERATURE,
    ties: str = "average",
    directions: Sequence[str] = DIRECTIONS,
    chunk_size: int = 4096,
) -> dict[str, np.ndarray]:
    """Ranks after Dual Softmax, with the prior over the query axis of each direction.

    t2v uses ``dual_softmax(sim)`` (prior over captions), v2t uses ``dual_softmax(sim.T).T``
    (prior over videos). Builds one re-scored copy of ``sim`` per direction.

    Args:
        sim: ``(n_captions, n_videos)`` similarities.
        caption_video: Gallery row (column of ``sim``) of each caption's video.
        temperature: Inverse softmax temperature.
        ties: How tied scores count.
        directions: ``"t2v"`` and/or ``"v2t"``.
        chunk_size: Caption rows per counting chunk.

    Returns:
        Same keys as :func:`~vtrsearch.eval.metrics.retrieval_ranks`.
    """
    t2v = dual_softmax(sim, temperature) if "t2v" in directions else None
    v2t = dual_softmax(np.asarray(sim).T, temperature).T if "v2t" in directions else None
    main = t2v if t2v is not None else v2t
    return similarity_ranks(
        main, caption_video, ties=ties, directions=directions, chunk_size=chunk_size, v2t_sim=v2t
    )


class DualSoftmaxRerank:
    """:class:`~vtrsearch.eval.rerank.Reranker` for Dual Softmax over the whole split.

    Args:
        temperature: Inverse softmax temperature.
        max_bytes: Refuse a split whose full matrices would need more memory than this.
    """

    kind = "dsl"
    suffix = "+DSL"

    def __init__(
        self, temperature: float = DSL_TEMPERATURE, *, max_bytes: int = DSL_MAX_BYTES
    ) -> None:
        self.temperature = positive_float(temperature, "temperature")
        self.max_bytes = int(max_bytes)

    @property
    def note(self) -> str:
        """The row's caveat: transductive, so not a serving-time number."""
        return (
            f"transductive: Dual Softmax (temperature {self.temperature:g}) uses every query of "
            "the split at once; not available when serving one query"
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
        """Ranks after Dual Softmax of ``q @ g.T`` (``progress`` is not called: one matrix).

        Needs the full ``(n_captions, n_videos)`` similarity matrix plus one re-scored copy
        per direction: about ``3 * n_captions * n_videos * 4`` bytes (1.9 GB for 60k x 2.7k).

        Raises:
            ValueError: when that estimate exceeds ``max_bytes``.
        """
        need = 3 * q.shape[0] * g.shape[0] * 4
        if need > self.max_bytes:
            raise ValueError(
                f"Dual Softmax needs the full {q.shape[0]} x {g.shape[0]} similarity matrix "
                f"(~{need / 2**30:.1f} GiB with its re-scored copies); evaluate a smaller split"
            )
        return dual_softmax_ranks(
            q @ g.T, cv, temperature=self.temperature, ties=ties, directions=directions
        )
