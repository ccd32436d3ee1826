"""The interface every re-ranker of an evaluation implements, and their input checks.

Axis convention everywhere: rows are queries, columns are gallery items, i.e. a text-to-video
matrix is ``(n_captions, n_videos)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..metrics import ProgressFn


@runtime_checkable
class Reranker(Protocol):
    """Re-ranked retrieval ranks of one model's query vectors; one extra report row.

    Attributes:
        kind: Short name, the ``rerank`` option and :attr:`EvalRow.rerank` (``"dsl"``).
        suffix: Appended to the plain row's label (``"+DSL"`` gives ``"baseline +DSL"``).
        note: One caveat line for the row (what was re-ranked, with which settings).
    """

    kind: str
    suffix: str

    @property
    def note(self) -> str: ...

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
        """Ranks after re-ranking, keyed like :func:`~vtrsearch.eval.metrics.retrieval_ranks`.

        Args:
            q: ``(n_captions, d)`` unit query vectors.
            g: ``(n_videos, d)`` gallery vectors.
            cv: Gallery row of each caption's video.
            ties: How tied scores count (see :data:`~vtrsearch.eval.metrics.TIES`).
            directions: ``"t2v"`` and/or ``"v2t"``.
            progress: Optional ``callable(done_rows, total_rows)``, where the re-ranker can
                report (a transductive one works on the whole matrix at once and may not).
        """
        ...


def float_matrix(x: np.ndarray, name: str, ndims: tuple[int, ...] = (2,)) -> np.ndarray:
    """``x`` as a finite float32/float64 array of one of ``ndims`` dimensions.

    Raises:
        ValueError: naming ``name`` on a wrong shape, a non-numeric dtype, NaN or inf.
    """
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


def positive_float(x: float, name: str) -> float:
    """``x`` as a float, which must be positive and finite (``ValueError`` naming ``name``)."""
    x = float(x)
    if not (np.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a positive finite number, got {x}")
    return x
