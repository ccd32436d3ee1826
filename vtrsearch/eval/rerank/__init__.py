"""Re-ranking of similarity matrices: Dual Softmax (transductive) and QB-Norm (query bank).

Each is a module of its own (:mod:`.dsl`, :mod:`.qbnorm`) with the bare algorithm
(:func:`dual_softmax`, :class:`QueryBankNorm`), its ranks (:func:`dual_softmax_ranks`,
:func:`qbnorm_ranks`) and a :class:`Reranker` that :func:`vtrsearch.eval.evaluate_index` uses
to add a re-ranked row (:class:`DualSoftmaxRerank`, :class:`QBNormRerank`).
"""

from __future__ import annotations

from .base import Reranker
from .dsl import DualSoftmaxRerank, dual_softmax, dual_softmax_ranks
from .qbnorm import QBNormRerank, QueryBankNorm, qbnorm_ranks

RERANKS = (DualSoftmaxRerank.kind, QBNormRerank.kind)
"""Names of the re-rankers (the ``rerank`` option of an evaluation)."""

__all__ = [
    "RERANKS",
    "DualSoftmaxRerank",
    "QBNormRerank",
    "QueryBankNorm",
    "Reranker",
    "dual_softmax",
    "dual_softmax_ranks",
    "qbnorm_ranks",
]
