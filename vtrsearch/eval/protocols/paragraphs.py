"""ActivityNet Captions paragraph-to-video retrieval (the usual ``val_1`` protocol).

Each video's sentences, in the order of their start times (sentences without times after, in
caption order), are joined into one paragraph; every paragraph queries the split's videos
(t2v) and every video queries the paragraphs (v2t), one paragraph per video. The standard
``val_1`` split has 4,917 videos.

Paragraphs are long: an encoder with a 77-token context (CLIP) sees only the start of most of
them. The report says, per encoder, how many paragraphs exceed its context and by how many
tokens (``settings["truncation"]`` in ``metrics.json``), since the figures depend on it.
Paragraphs are encoded at evaluation time (they are not captions, so not in the cache).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import DimensionMismatchError
from ..inputs import EvalSplit, load_split, unit_rows
from ..metrics import DIRECTIONS, maxsim_ranks, retrieval_ranks
from ..plan import ModelPlan, plan_evaluation
from ..pooling import load_segments
from ..progress import ProgressCallback, StepReporter, progress_callback
from ..report import EvalReport, EvalRow
from ..rows import metrics_row
from .common import protocol_settings, size_note

if TYPE_CHECKING:
    from ...encoders.base import TextEncoder
    from ...index.index import Index

NAME = "activitynet-paragraph"
DEFAULT_SPLIT = "val_1"
#: Videos of the standard ActivityNet Captions ``val_1`` split.
VAL1_VIDEOS = 4917


def video_paragraphs(index: Index, data: EvalSplit) -> tuple[np.ndarray, list[str]]:
    """Gallery rows of the videos with sentences, and each one's paragraph.

    Sentences are ordered by start time (those without times last), then by caption order.
    """
    from ...index.captions import caption_order_key

    times = index.caption_times(data.ids.tolist())
    start = dict(zip(times["sen_id"].to_pylist(), times["start"].to_pylist(), strict=True))
    per_video: dict[int, list[tuple[float, Any, str]]] = defaultdict(list)
    for sen, text, row in zip(data.sen_ids, data.texts, data.cv.tolist(), strict=True):
        per_video[row].append((start.get(sen, np.inf), caption_order_key(sen), text.strip()))
    rows = np.array(sorted(per_video), dtype=np.intp)
    paragraphs = [" ".join(t for _, _, t in sorted(per_video[r])) for r in rows.tolist()]
    return rows, paragraphs


def truncation(counts: Sequence[int], context: int, spec: str) -> dict[str, Any]:
    """How many paragraphs exceed ``context`` tokens, and by how much."""
    c = np.asarray(counts, dtype=np.int64)
    over = c[c > context] - context
    return {
        "encoder": spec,
        "context_length": int(context),
        "n_paragraphs": int(c.size),
        "n_truncated": int(over.size),
        "percent_truncated": float(over.size * 100.0 / max(c.size, 1)),
        "tokens": {
            "mean": float(c.mean()) if c.size else 0.0,
            "median": float(np.median(c)) if c.size else 0.0,
            "max": int(c.max()) if c.size else 0,
        },
        "excess_tokens": {
            "mean": float(over.mean()) if over.size else 0.0,
            "median": float(np.median(over)) if over.size else 0.0,
            "max": int(over.max()) if over.size else 0,
        },
    }


def truncation_note(t: dict[str, Any]) -> str:
    """One line saying what :func:`truncation` found."""
    if not t["n_truncated"]:
        return (
            f"{t['encoder']}: no paragraph exceeds its {t['context_length']}-token context "
            f"(longest {t['tokens']['max']} tokens)"
        )
    e = t["excess_tokens"]
    return (
        f"{t['encoder']}: {t['n_truncated']} of {t['n_paragraphs']} paragraphs "
        f"({t['percent_truncated']:.1f}%) exceed its {t['context_length']}-token context and "
        f"are truncated, by {e['mean']:.1f} tokens on average (median {e['median']:.0f}, "
        f"max {e['max']})"
    )


def evaluate_paragraphs(
    index: Index,
    *,
    split: str = DEFAULT_SPLIT,
    encoder: str | None = None,
    heads: Sequence[str | Path] | str | Path = (),
    baseline: bool = True,
    directions: Sequence[str] | str = DIRECTIONS,
    ties: str = "average",
    ks: Sequence[int] = (1, 5, 10),
    pools: Sequence[str] | str = ("mean",),
    batch_size: int = 32,
    progress: ProgressCallback | bool | None = True,
) -> EvalReport:
    """Paragraph-to-video (and video-to-paragraph) metrics of the encoder and each head.

    Arguments as :func:`vtrsearch.eval.evaluate_index` (``pools``: ``"max"`` scores a video by
    its best segment for the paragraph); ``batch_size`` is the paragraphs per forward pass.

    Raises:
        UnknownSplitError: ``split`` is not in the index.
        ValueError: the split has no captions, or nothing could be evaluated.
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
        pools=pools,
    )
    data = load_split(index, split)
    segments = load_segments(index, data, split, required="max" in plan.pools)
    rows, paragraphs = video_paragraphs(index, data)
    queries = EvalSplit(
        ids=data.ids,
        vectors=data.vectors,
        category=data.category,
        category_names=data.category_names,
        sen_ids=[str(v) for v in data.ids[rows].tolist()],
        texts=paragraphs,
        cv=rows,
        categorised=data.categorised,
    )
    notes = list(plan.notes)
    encoders: dict[str, TextEncoder] = {}
    truncations: dict[str, dict[str, Any]] = {}
    out: list[EvalRow] = []
    with progress_callback(progress) as cb:
        reporter = StepReporter(cb, (1 + len(plan.pools)) * len(plan.models))
        for model in plan.models:
            q = _paragraph_vectors(
                index, model, paragraphs, encoders, batch_size, reporter, bool(plan.heads)
            )
            if isinstance(q, str):
                notes.append(q)
                reporter.step += 1 + len(plan.pools)
                continue
            spec = encoders[model.spec].spec
            if spec not in truncations:
                counts = encoders[model.spec].token_counts(paragraphs)
                truncations[spec] = truncation(counts, encoders[model.spec].context_length, spec)
            for pool in plan.pools:
                label = plan.label(model, pool)
                update = reporter.begin("rank", label, len(q), f"ranking {label}")
                options = {"ties": plan.ties, "directions": plan.directions, "progress": update}
                if pool == "max":
                    ranks = maxsim_ranks(q, segments.vectors, segments.video_row, rows, **options)
                else:
                    ranks = retrieval_ranks(q, data.vectors, rows, **options)
                row = metrics_row(label, model.spec, model.head, ranks, queries, plan.ks, pool=pool)
                out.append(row)
    if not out:
        raise ValueError("nothing was evaluated: " + "; ".join(notes))
    notes += [truncation_note(t) for t in truncations.values()]
    note = size_note("ActivityNet Captions val_1", len(data.ids), VAL1_VIDEOS)
    if note and split == DEFAULT_SPLIT:
        notes.append(note)
    bare = len(data.ids) - len(rows)
    if bare:
        notes.append(f"{bare} of {len(data.ids)} videos have no sentences: gallery only")
    if not data.categorised:
        notes.append("no per-category breakdown: the index's videos have no categories")
    first = out[0]
    settings = protocol_settings(
        index,
        plan,
        NAME,
        len(data.ids),
        {d: first.metrics[d].n_queries for d in plan.directions if d in first.metrics},
        truncation=list(truncations.values()),
        paragraph="sentences by start time, joined with spaces",
    )
    return EvalReport(
        settings=settings,
        rows=out,
        notes=notes,
        query_texts=paragraphs,
        query_video_ids=queries.sen_ids,
        query_categories=queries.query_categories,
        gallery_ids=data.ids.tolist(),
        gallery_categories=list(data.category_names),
    )


def _paragraph_vectors(
    index: Index,
    model: ModelPlan,
    paragraphs: list[str],
    encoders: dict[str, TextEncoder],
    batch_size: int,
    reporter: StepReporter,
    has_heads: bool,
) -> np.ndarray | str:
    """Unit paragraph vectors of ``model`` (through its head), or why the baseline is skipped."""
    from ...encoders import load_encoder
    from ...encoders.spec import QueryTruncatedWarning

    if model.spec not in encoders:
        encoders[model.spec] = load_encoder(model.spec)
    enc = encoders[model.spec]
    want = index.dim if model.head is None else model.head.in_dim
    if enc.dim != want:
        who = "the index" if model.head is None else f"head {model.head.path}"
        exc = DimensionMismatchError(
            f"encoder {model.spec!r} makes {enc.dim}-d vectors, {who} expects {want}-d vectors"
        )
        if model.head is not None or not has_heads:
            raise exc
        return f"baseline skipped: {exc}"
    update = reporter.begin(
        "encode", model.label, len(paragraphs), f"encoding {len(paragraphs)} paragraphs"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QueryTruncatedWarning)  # reported as truncation
        vecs = enc.encode(paragraphs, batch_size=batch_size)
    update(len(paragraphs), len(paragraphs))
    if model.head is not None:
        vecs = model.head.project(vecs)
    return unit_rows(vecs)
