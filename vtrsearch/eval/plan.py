"""What an evaluation will compute: its rows, directions, cut-offs and re-ranking.

:func:`plan_evaluation` checks the options, loads and checks the heads and decides the rows
before anything is ranked; :func:`vtrsearch.eval.run.run_plan` then computes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DimensionMismatchError, SpaceMismatchError
from .inputs import (
    check_bank_split,
    check_baseline_space,
    check_split,
    head_label,
    load_checked_head,
)
from .metrics import DIRECTIONS, TIES
from .pooling import check_pools, pool_label, require_segments
from .rerank import RERANKS, DualSoftmaxRerank, QBNormRerank

if TYPE_CHECKING:
    from ..heads.io import LoadedHead
    from ..index.index import Index

__all__ = ["EvalPlan", "ModelPlan", "check_options", "plan_evaluation"]

_SUFFIX = {DualSoftmaxRerank.kind: DualSoftmaxRerank.suffix, QBNormRerank.kind: QBNormRerank.suffix}


@dataclass(frozen=True)
class ModelPlan:
    """One plain row: a query encoder, optionally through a projection head.

    Attributes:
        label: Row label (``"baseline"`` or ``"head:<name>"``).
        spec: Canonical spec of the text encoder whose cached caption vectors are used.
        head: The loaded head, ``None`` for the bare encoder (the baseline).
    """

    label: str
    spec: str
    head: LoadedHead | None = None


@dataclass
class EvalPlan:
    """Everything an evaluation will compute, decided before any ranking.

    Attributes:
        split: Split of the gallery and queries (``None``: every video).
        directions: ``"t2v"`` and/or ``"v2t"``, in that order.
        ties: How tied scores count.
        ks: Recall cut-offs, sorted.
        models: Plain rows, baseline first, then one per head.
        encoder: Canonical spec of the baseline encoder (``None`` when the index records none
            and none was given).
        heads: Every loaded head, in the order given.
        pools: ``"mean"`` and/or ``"max"`` (MaxSim over segments), in that order: one plain row
            per model and pool, side by side.
        rerank: ``"dsl"`` or ``"qbnorm"``: one re-ranked row per mean-pooled row; or ``None``.
        qb_bank_split: Split of the QB-Norm bank (only with ``rerank="qbnorm"``).
        via_index: Also check the serving path for each plain row (t2v only).
        store_sample: Queries sent through ``Index.search_store`` by that check.
        via_mode: ``mode`` of that check's ``Index.search_many``: ``"exact"`` (default) or
            ``"ann"``/``"auto"`` (the difference then measures the approximation).
        seed: Seed of the samples (negatives for plots, examples, store queries).
        allow_foreign_space: The index accepts encoders outside its feature space.
        notes: Caveats known at planning time (e.g. why there is no baseline row).
    """

    split: str | None
    directions: tuple[str, ...]
    ties: str
    ks: tuple[int, ...]
    models: list[ModelPlan]
    encoder: str | None = None
    heads: list[LoadedHead] = field(default_factory=list)
    pools: tuple[str, ...] = ("mean",)
    rerank: str | None = None
    qb_bank_split: str | None = None
    via_index: bool = False
    store_sample: int = 200
    via_mode: str = "exact"
    seed: int = 0
    allow_foreign_space: bool = False
    notes: list[str] = field(default_factory=list)

    def label(self, model: ModelPlan, pool: str) -> str:
        """Label of ``model``'s plain row pooled with ``pool``."""
        return pool_label(model.label, pool, self.pools)

    def model_steps(self, model: ModelPlan) -> list[tuple[str, str]]:
        """``(stage, row label)`` of the steps of one model's rows (see :mod:`.progress`)."""
        out = []
        for pool in self.pools:
            label = self.label(model, pool)
            out.append(("rank", label))
            if self.via_index and "t2v" in self.directions:
                out.append(("via_index", label))
            if self.rerank is not None and pool == "mean":
                out.append(("rerank", f"{label} {_SUFFIX[self.rerank]}"))
        return out

    @property
    def steps(self) -> list[tuple[str, str]]:
        """``(stage, row label)`` of every step, in order (see :mod:`.progress`)."""
        return [step for model in self.models for step in self.model_steps(model)]

    def settings(self, index: Index) -> dict[str, Any]:
        """The options of this plan and what identifies ``index``: the keys every report's
        settings (``metrics.json``) starts with."""
        return {
            "split": self.split,
            "encoder": self.encoder,
            "heads": [str(h.path) for h in self.heads],
            "directions": list(self.directions),
            "ties": self.ties,
            "ks": list(self.ks),
            "pools": list(self.pools),
            "rerank": self.rerank,
            "qb_bank_split": self.qb_bank_split,
            "via_index": self.via_index,
            "index_uri": index.uri,
            "index_version": index.version,
            "feature_model": index.feature_model,
            "dim": index.dim,
        }

    @property
    def row_labels(self) -> list[str]:
        """Labels of the rows the report will have: plain rows, then re-ranked rows."""
        plain = [self.label(m, p) for m in self.models for p in self.pools]
        if self.rerank is None:
            return plain
        return plain + [f"{self.label(m, 'mean')} {_SUFFIX[self.rerank]}" for m in self.models]


def check_options(
    directions: Sequence[str] | str, ties: str, ks: Sequence[int], rerank: str | None
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Directions (a list or ``"t2v,v2t"``) and cut-offs, checked and put in order.

    Raises:
        ValueError: naming the bad direction, tie rule, cut-off or re-ranker.
    """
    if isinstance(directions, str):
        directions = [d.strip() for d in directions.split(",") if d.strip()]
    dirs = tuple(d for d in DIRECTIONS if d in directions)
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad or not dirs:
        raise ValueError(f"directions must be among {DIRECTIONS}, got {list(directions)!r}")
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    out = sorted({int(k) for k in ks})
    if not out or out[0] < 1:
        raise ValueError(f"recall cut-offs must be positive ints, got {list(ks)!r}")
    if rerank is not None and rerank not in RERANKS:
        raise ValueError(f"rerank must be one of {RERANKS} or None, got {rerank!r}")
    return dirs, tuple(out)


def check_via_mode(index: Index, mode: str, via_index: bool) -> None:
    """``mode`` of the via-index check: known, only with ``via_index``, ``"ann"`` built."""
    from ..index.ann import AnnNotBuiltError, check_mode, not_built_message

    check_mode(mode)
    if mode != "exact" and not via_index:
        raise ValueError(f"mode={mode!r} applies to the via-index check: add via_index=True")
    if mode == "ann" and index.ann_info() is None:
        raise AnnNotBuiltError(not_built_message(index))


def plan_evaluation(
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
    store_sample: int = 200,
    seed: int = 0,
    pools: Sequence[str] | str = ("mean",),
    via_mode: str = "exact",
) -> EvalPlan:
    """Check the options and decide the rows; the arguments are :func:`evaluate_index`'s.

    Raises:
        UnknownSplitError: ``split`` or ``qb_bank_split`` is not in the index.
        ValueError: bad options, nothing to evaluate, a QB-Norm bank split equal to the
            evaluated one, or re-ranking without the mean pool.
        NoSegmentsError: ``pools`` has ``"max"`` and the index has no segments.
        FileNotFoundError: a head is neither a directory nor registered with the index.
        SpaceMismatchError / DimensionMismatchError: a head (or, without heads, the baseline
            encoder) does not produce vectors in the index's space.
    """
    dirs, ks = check_options(directions, ties, ks, rerank)
    check_via_mode(index, via_mode, via_index)
    pool_list = check_pools(pools)
    if rerank is not None and "mean" not in pool_list:
        raise ValueError(f"re-ranking ({rerank}) applies to mean-pooled rows: add the mean pool")
    if isinstance(heads, (str, Path)):
        heads = [heads]
    if split is not None:
        check_split(index, split, "split")
    if rerank == "qbnorm":
        check_bank_split(index, split, qb_bank_split)
    if "max" in pool_list:
        require_segments(index)
    foreign = bool(index.metadata.get("allow_foreign_space"))
    loaded = [load_checked_head(index, h, foreign) for h in heads]
    notes: list[str] = []
    base = encoder or index.encoder_spec
    if base is not None:
        from ..encoders.space import canonical_spec

        base = canonical_spec(base)
    models: list[ModelPlan] = []
    if not baseline:
        if not loaded:
            raise ValueError("nothing to evaluate: baseline=False and no projection head given")
    elif base is None:
        if not loaded:
            raise ValueError(
                "no query encoder to evaluate: the index records none; pass encoder=SPEC "
                "(--encoder) or a projection head (--head DIR)"
            )
        notes.append("no baseline row: the index records no query encoder (pass --encoder)")
    else:
        try:
            check_baseline_space(base, index, foreign)
            models.append(ModelPlan("baseline", base))
        except (SpaceMismatchError, DimensionMismatchError) as exc:
            if not loaded:
                raise
            notes.append(f"baseline skipped: {exc}")
    labels = {"baseline"}
    for head in loaded:
        label = head_label(index, head, labels)
        labels.add(label)
        models.append(ModelPlan(label, str(head.config.base_encoder), head))
    return EvalPlan(
        split=split,
        directions=dirs,
        ties=ties,
        ks=ks,
        models=models,
        encoder=base,
        heads=loaded,
        pools=pool_list,
        rerank=rerank,
        qb_bank_split=qb_bank_split if rerank == "qbnorm" else None,
        via_index=bool(via_index),
        store_sample=int(store_sample),
        via_mode=via_mode,
        seed=int(seed),
        allow_foreign_space=foreign,
        notes=notes,
    )
