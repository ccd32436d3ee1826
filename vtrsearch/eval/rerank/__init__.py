"""Re-ranking of similarity matrices: Dual Softmax (transductive) and QB-Norm (query bank)."""

from __future__ import annotations

from .rescore import QueryBankNorm, dual_softmax, evaluate_dual_softmax

__all__ = ["QueryBankNorm", "dual_softmax", "evaluate_dual_softmax"]
