"""Offline evaluation: :mod:`.metrics` (pure numpy R@K/MedR/MeanR), :mod:`.rerank` (Dual Softmax,
QB-Norm), the inputs of a run (:mod:`.inputs`), its plan (:mod:`.plan`), progress events
(:mod:`.progress`), :func:`evaluate_index` (:mod:`.run`), the serving-path check
(:mod:`.via_index`) and the report data it returns (:mod:`.report`, :mod:`.rows`); the
standard protocols of MSVD and ActivityNet Captions by name (:mod:`.protocols`)."""

from __future__ import annotations

from .plan import EvalPlan, ModelPlan, plan_evaluation
from .progress import EvalProgress, ProgressCallback, TqdmProgress
from .protocols import PROTOCOLS, MomentReport, MomentRow, run_protocol
from .report import EvalReport, EvalRow
from .run import evaluate_index, run_plan

__all__ = [
    "EvalPlan",
    "EvalProgress",
    "EvalReport",
    "EvalRow",
    "ModelPlan",
    "MomentReport",
    "MomentRow",
    "PROTOCOLS",
    "ProgressCallback",
    "TqdmProgress",
    "evaluate_index",
    "plan_evaluation",
    "run_plan",
    "run_protocol",
]
