"""Evaluate an index: text-to-video and video-to-text retrieval of its encoder and heads.

Every caption of the evaluated split queries the split's videos (t2v) and every video queries
the split's captions (v2t). Caption vectors come from the index's caption cache (encoded first
when missing), so a run re-encodes nothing it already has. Rows: the bare query encoder
("baseline", when its vectors are in the index's space) and one row per projection head;
re-ranked variants (Dual Softmax, QB-Norm) are further rows, labelled and kept apart.

Query vectors are L2-normalised (cosine similarity, like serving); this never changes a t2v
rank. The metrics engine is chunked: no full similarity matrix is built except for Dual Softmax.

Pools: ``"mean"`` scores a video by its pooled vector, ``"max"`` by its best segment (MaxSim,
both directions: v2t scores a caption against a video's best segment); with both, every model
has two rows side by side. Re-ranking applies to the mean-pooled rows.

A run has two parts: :func:`plan_evaluation` decides the rows (:class:`EvalPlan`), and
:func:`run_plan` computes them step by step, reporting :class:`EvalProgress` events.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DimensionMismatchError
from .inputs import EvalSplit, load_split, query_vectors
from .metrics import DIRECTIONS, maxsim_ranks, retrieval_ranks
from .plan import EvalPlan, ModelPlan, plan_evaluation
from .pooling import SplitSegments, load_segments
from .progress import EvalProgress, ProgressCallback, StepReporter, progress_callback
from .report import EvalReport, EvalRow
from .rerank import DualSoftmaxRerank, QBNormRerank, Reranker
from .rows import metrics_row, row_data

if TYPE_CHECKING:
    from ..index.caption_cache import CaptionVectors
    from ..index.index import Index

__all__ = ["EvalPlan", "EvalProgress", "evaluate_index", "plan_evaluation", "run_plan"]


def evaluate_index(
    index: Index,
    *,
    split: str | None = "test",
    encoder: str | None = None,
    heads: Sequence[str | Path] | str | Path = (),
    baseline: bool = True,
    directions: Sequence[str] | str = DIRECTIONS,
    ties: str = "average",
    ks: Sequence[int] = (1, 5, 10),
    rerank: str | None = None,
    qb_bank_split: str = "train",
    via_index: bool = False,
    progress: ProgressCallback | bool | None = True,
    store_sample: int = 200,
    seed: int = 0,
    pools: Sequence[str] | str = ("mean",),
    via_mode: str = "exact",
) -> EvalReport:
    """Retrieval metrics of the index's query encoder and of each projection head.

    Args:
        index: The index to evaluate.
        split: Split whose videos form the gallery and whose captions are the queries
            (``None``: every video).
        encoder: Baseline text encoder spec (default: the index's query encoder).
        heads: Projection head directories (or names registered with the index); one row each.
        baseline: Evaluate the bare encoder as the ``"baseline"`` row (``False``: heads only).
        directions: ``"t2v"`` and/or ``"v2t"`` (a list or ``"t2v,v2t"``).
        ties: How tied scores count: ``"average"``, ``"optimistic"`` or ``"pessimistic"``.
        ks: Recall cut-offs.
        rerank: ``"dsl"`` (Dual Softmax over the whole split: transductive) or ``"qbnorm"``
            (QB-Norm with a query bank from ``qb_bank_split``); reported as extra rows.
        qb_bank_split: Split whose captions (t2v) and videos (v2t) form the QB-Norm bank.
        via_index: Also run every caption through ``Index.search_many`` (the exact serving
            path) and a sample through ``Index.search_store``, and report the differences.
        progress: A callable receiving :class:`EvalProgress` events (stage, row, done, total,
            step of the plan), ``True`` for tqdm bars on stderr, ``False``/``None`` for
            nothing. Every step is also logged on the ``vtrsearch.eval`` logger.
        store_sample: Queries sent through ``search_store`` when ``via_index`` is set.
        seed: Seed of the samples (negatives for plots, examples, store queries).
        pools: ``"mean"`` (pooled video vectors) and/or ``"max"`` (MaxSim: a video scores its
            best segment; needs segments), a list or ``"mean,max"``: one row per model and
            pool, labelled ``"<model> [<pool>]"`` unless only ``"mean"`` is evaluated.
        via_mode: ``mode`` of the via-index ``search_many``: ``"exact"`` (default), ``"ann"``
            (the built ANN index: the R@K difference is what the approximation costs on this
            data, and the report adds its top-K overlap with exact search) or ``"auto"``.

    Raises:
        UnknownSplitError: ``split`` or ``qb_bank_split`` is not in the index.
        NoSegmentsError: ``pools`` has ``"max"`` and the index (or split) has no segments.
        ValueError: bad options, no encoder, nothing to evaluate, a split without captions,
            a QB-Norm bank split equal to the evaluated one, or re-ranking without the mean
            pool.
        SpaceMismatchError / DimensionMismatchError: a head (or, without heads, the baseline
            encoder) does not produce vectors in the index's space.
    """
    plan = plan_evaluation(
        index,
        split=split,
        encoder=encoder,
        heads=heads,
        baseline=baseline,
        directions=directions,
        ties=ties,
        ks=ks,
        rerank=rerank,
        qb_bank_split=qb_bank_split,
        via_index=via_index,
        store_sample=store_sample,
        seed=seed,
        pools=pools,
        via_mode=via_mode,
    )
    return run_plan(index, plan, progress=progress)


def run_plan(
    index: Index, plan: EvalPlan, *, progress: ProgressCallback | bool | None = True
) -> EvalReport:
    """Compute the rows of ``plan`` (see :func:`evaluate_index` for ``progress``)."""
    with progress_callback(progress) as callback:
        reporter = StepReporter(callback, len(plan.steps))
        run = _Run(index, plan, load_split(index, plan.split), reporter)
        plain: list[EvalRow] = []
        extra: list[EvalRow] = []
        for model in plan.models:
            q = run.query_vectors(model)
            if q is None:
                continue
            for pool in plan.pools:
                row = run.plain_row(model, q, pool)
                plain.append(row)
                if plan.rerank is not None and pool == "mean":
                    extra.append(run.rerank_row(model, row, q))
        if not plain:
            raise ValueError("nothing was evaluated: " + "; ".join(run.notes))
        return run.report(plain + extra)


@dataclass
class _Run:
    """The state of one run of a plan: its data, the caption vectors read, the samples."""

    index: Index
    plan: EvalPlan
    data: EvalSplit
    reporter: StepReporter
    cache: dict[str, CaptionVectors] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.notes = list(self.plan.notes)
        self.rng = np.random.default_rng(self.plan.seed)
        pools = self.plan.pools
        self._segments: SplitSegments | None = load_segments(
            self.index, self.data, self.plan.split, required="max" in pools
        )
        if self._segments is not None and self._segments.n_bare and "max" in pools:
            self.notes.append(
                f"{self._segments.n_bare} of {len(self.data.ids)} videos have no segments: "
                "max pooling scores them by their pooled vector, as search does"
            )

    # step 1: query vectors ---------------------------------------------------------------
    def query_vectors(self, model: ModelPlan) -> np.ndarray | None:
        """Unit query vectors of ``model``; ``None`` when the baseline is skipped."""
        try:
            return query_vectors(
                self.index,
                model.spec,
                self.plan.split,
                model.head,
                self.data,
                self.cache,
                self.reporter,
                model.label,
            )
        except DimensionMismatchError as exc:  # the baseline's space was checked by the plan
            if model.head is not None or not self.plan.heads:
                raise
            self.notes.append(f"baseline skipped: {exc}")
            self.reporter.step += len(self.plan.model_steps(model))
            return None

    # step 2: ranks, metrics, plot data, serving-path check --------------------------------
    def plain_row(self, model: ModelPlan, q: np.ndarray, pool: str = "mean") -> EvalRow:
        """The row of ``model`` pooled with ``pool``: metrics, breakdowns, plot data and the
        via-index check."""
        plan, data = self.plan, self.data
        head = model.head
        label = plan.label(model, pool)
        what = model.spec if head is None else f"{model.spec} + {head.path}"
        if pool == "max":
            what += f", MaxSim over {len(self._segments.vectors)} segment rows"
        update = self.reporter.begin("rank", label, len(q), f"evaluating {label} ({what})")
        options = {"ties": plan.ties, "directions": plan.directions, "progress": update}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*have no captions")
            if pool == "max":
                segs = self._segments
                ranks = maxsim_ranks(q, segs.vectors, segs.video_row, data.cv, **options)
            else:
                ranks = retrieval_ranks(q, data.vectors, data.cv, **options)
        row = metrics_row(label, model.spec, head, ranks, data, plan.ks, pool=pool)
        row.raw = row_data(q, data, ranks.get("t2v"), self.rng, self._segments, pool)
        if plan.via_index and "t2v" in ranks:
            row.via_index = self.via_index(label, q, ranks["t2v"], row, pool)
        return row

    def via_index(
        self, label: str, q: np.ndarray, t2v: np.ndarray, row: EvalRow, pool: str = "mean"
    ) -> dict[str, Any]:
        """The same queries through ``Index.search_many`` and a sample through the store."""
        from .via_index import via_index_check

        plan = self.plan
        update = self.reporter.begin(
            "via_index",
            label,
            len(q),
            f"{label}: {len(q)} queries through Index.search_many",
        )
        out = via_index_check(
            self.index,
            q,
            self.data.vectors,
            self.data.cv,
            self.data.ids,
            t2v,
            {k: row.metrics["t2v"].recall(k) for k in plan.ks},
            ks=plan.ks,
            split=plan.split,
            ties=plan.ties,
            store_sample=plan.store_sample if pool == "mean" else 0,
            seed=plan.seed,
            pool=pool,
            row_scores=None if pool == "mean" else self._segments.scores,
            mode=plan.via_mode,
        )
        update(len(q), len(q))
        return out

    # step 3: re-ranked row ----------------------------------------------------------------
    def reranker(self, model: ModelPlan) -> Reranker:
        """The plan's re-ranker for ``model`` (QB-Norm: its bank through the same model)."""
        if self.plan.rerank == DualSoftmaxRerank.kind:
            return DualSoftmaxRerank()
        bank = str(self.plan.qb_bank_split)
        bank_data = load_split(self.index, bank)
        bank_text = query_vectors(
            self.index,
            model.spec,
            bank,
            model.head,
            bank_data,
            self.cache,
            self.reporter,
            f"{model.label} {QBNormRerank.suffix}",
        )
        return QBNormRerank(bank_text, bank_data.vectors, bank_name=f"split {bank!r}")

    def rerank_row(self, model: ModelPlan, plain: EvalRow, q: np.ndarray) -> EvalRow:
        """The re-ranked twin of ``plain`` (no plot data: ``raw`` stays ``None``)."""
        plan, data = self.plan, self.data
        reranker = self.reranker(model)
        label = f"{plain.label} {reranker.suffix}"
        update = self.reporter.begin(
            "rerank", label, len(q), f"{label}: re-ranking {len(q)} x {len(data.ids)} scores"
        )
        ranks = reranker.ranks(
            q, data.vectors, data.cv, ties=plan.ties, directions=plan.directions, progress=update
        )
        update(len(q), len(q))
        row = metrics_row(label, plain.encoder, model.head, ranks, data, plan.ks, reranker.kind)
        row.notes.append(reranker.note)
        return row

    # step 4: the report -------------------------------------------------------------------
    def report(self, rows: list[EvalRow]) -> EvalReport:
        """The report of ``rows`` with the run's settings and notes."""
        plan, data = self.plan, self.data
        notes = list(self.notes)
        no_caps = int(np.count_nonzero(np.bincount(data.cv, minlength=len(data.ids)) == 0))
        if no_caps and "v2t" in plan.directions:
            notes.append(f"{no_caps} of {len(data.ids)} videos have no captions: not v2t queries")
        if not data.categorised:
            notes.append("no per-category breakdown: the index's videos have no categories")
        return EvalReport(
            settings=self.settings(rows[0]),
            rows=rows,
            notes=notes,
            query_texts=data.texts,
            query_video_ids=data.ids[data.cv].tolist(),
            query_categories=data.query_categories,
            gallery_ids=data.ids.tolist(),
            gallery_categories=list(data.category_names),
        )

    def settings(self, first: EvalRow) -> dict[str, Any]:
        """What was evaluated and on which data, for ``metrics.json``."""
        plan = self.plan
        return {
            **plan.settings(self.index),
            "n_videos": int(len(self.data.ids)),
            "n_segments": None if self._segments is None else self._segments.n_segments,
            "n_videos_without_segments": (
                None if self._segments is None else self._segments.n_bare
            ),
            "n_queries": {
                d: first.metrics[d].n_queries for d in plan.directions if d in first.metrics
            },
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
