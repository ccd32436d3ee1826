"""Offline evaluation: :mod:`.metrics` (pure numpy R@K/MedR/MeanR), :mod:`.rerank` (Dual Softmax,
QB-Norm), the inputs of a run, :func:`evaluate_index` and the report data it returns."""

from __future__ import annotations

from .report import EvalReport, EvalRow
from .run import evaluate_index

__all__ = ["EvalReport", "EvalRow", "evaluate_index"]
