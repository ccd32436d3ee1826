"""Evaluate an index: text-to-video and video-to-text retrieval of its encoder and heads.

Every caption of the evaluated split queries the split's videos (t2v) and every video queries
the split's captions (v2t). Caption vectors come from the index's caption cache (encoded first
when missing), so a run re-encodes nothing it already has. Rows: the bare query encoder
("baseline", when its vectors are in the index's space) and one row per projection head;
re-ranked variants (Dual Softmax, QB-Norm) are further rows, labelled and kept apart.

Query vectors are L2-normalised (cosine similarity, like serving); this never changes a t2v
rank. The metrics engine is chunked: no full similarity matrix is built except for Dual Softmax.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DimensionMismatchError, SpaceMismatchError
from .inputs import (
    EvalSplit,
    check_bank_split,
    check_baseline_space,
    head_label,
    load_checked_head,
    load_split,
    query_vectors,
)
from .metrics import (
    DIRECTIONS,
    LENGTH_BUCKETS,
    TIES,
    breakdown,
    metrics_from_ranks,
    query_length_bucket,
    retrieval_ranks,
)
from .report import EvalReport, EvalRow, QueryExample, RowData
from .rerank import RERANKS

if TYPE_CHECKING:
    from ..heads.io import LoadedHead
    from ..index.caption_cache import CaptionVectors
    from ..index.index import Index

__all__ = ["RERANKS", "EvalReport", "EvalRow", "evaluate_index"]

NEGATIVE_SAMPLE = 100_000  # caption x other-video similarities kept for the histograms
N_EXAMPLES = 4  # success and failure example queries kept per row


def evaluate_index(
    index: Index,
    *,
    split: str | None = "test",
    encoder: str | None = None,
    heads: Sequence[str | Path] = (),
    directions: Sequence[str] | str = DIRECTIONS,
    ties: str = "average",
    ks: Sequence[int] = (1, 5, 10),
    rerank: str | None = None,
    qb_bank_split: str = "train",
    via_index: bool = False,
    progress: bool = True,
    store_sample: int = 200,
    seed: int = 0,
) -> EvalReport:
    """Retrieval metrics of the index's query encoder and of each projection head.

    Args:
        index: The index to evaluate.
        split: Split whose videos form the gallery and whose captions are the queries
            (``None``: every video).
        encoder: Baseline text encoder spec (default: the index's query encoder).
        heads: Projection head directories (or names registered with the index); one row each.
        directions: ``"t2v"`` and/or ``"v2t"`` (a list or ``"t2v,v2t"``).
        ties: How tied scores count: ``"average"``, ``"optimistic"`` or ``"pessimistic"``.
        ks: Recall cut-offs.
        rerank: ``"dsl"`` (Dual Softmax over the whole split: transductive) or ``"qbnorm"``
            (QB-Norm with a query bank from ``qb_bank_split``); reported as extra rows.
        qb_bank_split: Split whose captions (t2v) and videos (v2t) form the QB-Norm bank.
        via_index: Also run every caption through ``Index.search_many`` (the exact serving
            path) and a sample through ``Index.search_store``, and report the differences.
        progress: Print steps and progress bars on stderr.
        store_sample: Queries sent through ``search_store`` when ``via_index`` is set.
        seed: Seed of the samples (negatives for plots, examples, store queries).

    Raises:
        UnknownSplitError: ``split`` or ``qb_bank_split`` is not in the index.
        ValueError: bad options, no encoder, a split without captions, or a QB-Norm bank
            split equal to the evaluated one.
        SpaceMismatchError / DimensionMismatchError: a head (or, without heads, the baseline
            encoder) does not produce vectors in the index's space.
    """
    dirs, ks = _check_options(directions, ties, ks, rerank)
    if isinstance(heads, (str, Path)):
        heads = [heads]
    say = _sayer(progress)
    data = load_split(index, split)
    if rerank == "qbnorm":
        check_bank_split(index, split, qb_bank_split)
    foreign = bool(index.metadata.get("allow_foreign_space"))
    notes: list[str] = []
    loaded = [load_checked_head(index, h, foreign) for h in heads]
    plan: list[tuple[str, str, LoadedHead | None]] = []
    base = encoder or index.encoder_spec
    if base is None:
        if not loaded:
            raise ValueError(
                "no query encoder to evaluate: the index records none; pass encoder=SPEC "
                "(--encoder) or a projection head (--head DIR)"
            )
        notes.append("no baseline row: the index records no query encoder (pass --encoder)")
    else:
        from ..encoders.space import canonical_spec

        base = canonical_spec(base)
        plan.append(("baseline", base, None))
    labels = {"baseline"}
    for head in loaded:
        label = head_label(index, head, labels)
        labels.add(label)
        plan.append((label, str(head.config.base_encoder), head))

    cache: dict[str, CaptionVectors] = {}
    plain: list[EvalRow] = []
    extra: list[EvalRow] = []
    rng = np.random.default_rng(seed)
    for label, spec, head in plan:
        try:
            if head is None:
                check_baseline_space(spec, index, foreign)
            vecs = query_vectors(index, spec, split, head, data, cache, say, progress)
        except (SpaceMismatchError, DimensionMismatchError) as exc:
            if head is not None or not loaded:
                raise
            notes.append(f"baseline skipped: {exc}")
            continue
        say(f"evaluating {label} ({spec}{'' if head is None else ' + ' + str(head.path)})")
        ranks = _ranks(q=vecs, data=data, ties=ties, dirs=dirs)
        row = _row(label, spec, head, ranks, data, ks)
        row.raw = _raw(vecs, data, ranks.get("t2v"), rng)
        if via_index and "t2v" in ranks:
            from .via_index import via_index_check

            say(f"  via index: {len(vecs)} queries through Index.search_many")
            row.via_index = via_index_check(
                index,
                vecs,
                data.vectors,
                data.cv,
                data.ids,
                ranks["t2v"],
                {k: row.metrics["t2v"].recall(k) for k in ks},
                ks=ks,
                split=split,
                ties=ties,
                store_sample=store_sample,
                seed=seed,
            )
        plain.append(row)
        if rerank is not None:
            extra.append(
                _rerank_row(
                    rerank,
                    row,
                    vecs,
                    data,
                    index,
                    split,
                    qb_bank_split,
                    head,
                    cache,
                    ties,
                    dirs,
                    ks,
                    say,
                    progress,
                )
            )
    if not plain:
        raise ValueError("nothing was evaluated: " + "; ".join(notes))
    rows = plain + extra
    no_caps = int(np.count_nonzero(np.bincount(data.cv, minlength=len(data.ids)) == 0))
    if no_caps and "v2t" in dirs:
        notes.append(f"{no_caps} of {len(data.ids)} videos have no captions: not v2t queries")
    first = rows[0].metrics
    settings: dict[str, Any] = {
        "split": split,
        "encoder": base,
        "heads": [str(h.path) for h in loaded],
        "directions": list(dirs),
        "ties": ties,
        "ks": list(ks),
        "rerank": rerank,
        "qb_bank_split": qb_bank_split if rerank == "qbnorm" else None,
        "via_index": bool(via_index),
        "index_uri": index.uri,
        "index_version": index.store.version("videos"),
        "feature_model": index.feature_model,
        "dim": index.dim,
        "n_videos": int(len(data.ids)),
        "n_queries": {d: first[d].n_queries for d in dirs if d in first},
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return EvalReport(
        settings=settings,
        rows=rows,
        notes=notes,
        query_texts=data.texts,
        query_video_ids=data.ids[data.cv].tolist(),
        query_categories=data.query_categories,
        gallery_ids=data.ids.tolist(),
        gallery_categories=list(data.category_names),
    )


# ----------------------------------------------------------------------------- options, data


def _check_options(
    directions: Sequence[str] | str, ties: str, ks: Sequence[int], rerank: str | None
) -> tuple[tuple[str, ...], tuple[int, ...]]:
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


def _sayer(progress: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if progress:
            print(text, file=sys.stderr, flush=True)

    return say


# ----------------------------------------------------------------------------- rows


def _ranks(q: np.ndarray, data: EvalSplit, ties: str, dirs: Sequence[str]) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*have no captions")
        return retrieval_ranks(q, data.vectors, data.cv, ties=ties, directions=dirs)


def _row(
    label: str,
    spec: str,
    head: LoadedHead | None,
    ranks: dict[str, np.ndarray],
    data: EvalSplit,
    ks: Sequence[int],
    rerank: str | None = None,
) -> EvalRow:
    metrics, per_cat, per_len = {}, {}, {}
    names = np.asarray(data.category_names, dtype=object)
    for d in DIRECTIONS:
        if d not in ranks:
            continue
        metrics[d] = metrics_from_ranks(ranks[d], ks)
        rows = data.cv if d == "t2v" else ranks["v2t_video_index"]
        groups = breakdown(ranks[d], data.category[rows], ks)
        order = sorted(groups)
        per_cat[d] = {names[np.flatnonzero(data.category == c)[0]]: groups[c] for c in order}
    if "t2v" in ranks:
        buckets = breakdown(ranks["t2v"], [query_length_bucket(t) for t in data.texts], ks)
        per_len = {b: buckets[b] for b in LENGTH_BUCKETS if b in buckets}
    return EvalRow(
        label=label,
        encoder=spec,
        head=None if head is None else str(head.path),
        metrics=metrics,
        per_category=per_cat,
        per_length=per_len,
        rerank=rerank,
    )


def _raw(
    q: np.ndarray, data: EvalSplit, t2v: np.ndarray | None, rng: np.random.Generator
) -> RowData:
    """Positive similarities, a bounded sample of negatives, and example queries."""
    g, cv = data.vectors, data.cv
    n, m = len(q), len(g)
    positive = np.einsum("ij,ij->i", q, g[cv])
    n_rows = int(min(n, max(1, -(-NEGATIVE_SAMPLE // max(m - 1, 1)))))
    rows = np.sort(rng.choice(n, size=n_rows, replace=False))
    block = q[rows] @ g.T
    own = np.zeros_like(block, dtype=bool)
    own[np.arange(n_rows), cv[rows]] = True
    negative = block[~own]
    if negative.size > NEGATIVE_SAMPLE:
        negative = rng.choice(negative, size=NEGATIVE_SAMPLE, replace=False)
    examples: dict[str, list[QueryExample]] = {}
    if t2v is not None:
        fail_cut = 5 if np.any(t2v > 5) else 1
        for kind, pool in (
            ("success", np.flatnonzero(t2v <= 1)),
            ("failure", np.flatnonzero(t2v > fail_cut)),
        ):
            picks = np.sort(rng.choice(pool, size=min(N_EXAMPLES, pool.size), replace=False))
            examples[kind] = [_example(int(i), q, data, float(t2v[i])) for i in picks.tolist()]
    return RowData(t2v, positive.astype(np.float32), negative.astype(np.float32), examples)


def _example(i: int, q: np.ndarray, data: EvalSplit, rank: float) -> QueryExample:
    from ..index.gallery import top_k_of_scores

    top, scores = top_k_of_scores(data.vectors @ q[i], 5)
    return QueryExample(
        query=i,
        text=data.texts[i],
        video_id=str(data.ids[data.cv[i]]),
        category=data.category_names[data.cv[i]],
        rank=rank,
        score=float(data.vectors[data.cv[i]] @ q[i]),
        top=[
            (str(data.ids[r]), float(s), data.category_names[r])
            for r, s in zip(top.tolist(), scores.tolist(), strict=True)
        ],
    )


def _rerank_row(
    rerank: str,
    plain: EvalRow,
    q: np.ndarray,
    data: EvalSplit,
    index: Index,
    split: str | None,
    bank_split: str,
    head: LoadedHead | None,
    cache: dict[str, CaptionVectors],
    ties: str,
    dirs: Sequence[str],
    ks: Sequence[int],
    say: Callable[[str], None],
    progress: bool,
) -> EvalRow:
    from .rerank import DualSoftmaxRerank, QBNormRerank, Reranker

    spec = plain.encoder
    reranker: Reranker
    if rerank == "dsl":
        say(f"  Dual Softmax over the whole split ({len(q)} x {len(data.ids)} matrix)")
        reranker = DualSoftmaxRerank()
    else:
        bank_data = load_split(index, bank_split)
        bank_text = query_vectors(index, spec, bank_split, head, bank_data, cache, say, progress)
        say(f"  QB-Norm with a bank from split {bank_split!r} ({len(bank_text)} captions)")
        reranker = QBNormRerank(bank_text, bank_data.vectors, bank_name=f"split {bank_split!r}")
    ranks = reranker.ranks(q, data.vectors, data.cv, ties=ties, directions=dirs)
    label = f"{plain.label} {reranker.suffix}"
    row = _row(label, spec, head, ranks, data, ks, rerank=reranker.kind)
    row.notes.append(reranker.note)
    return row
