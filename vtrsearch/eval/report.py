"""Results of :func:`vtrsearch.eval.evaluate_index`: rows of metrics, JSON and a table.

An :class:`EvalReport` holds the settings of the run, one :class:`EvalRow` per model (the
baseline encoder, each projection head, and re-ranked variants reported apart) and the raw
per-query data the plots need (:class:`RowData`, kept out of the JSON).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import RetrievalMetrics


@dataclass
class QueryExample:
    """One text query with its top results, for the success/failure figures.

    Attributes:
        query: Row of the query in :attr:`EvalReport.query_texts`.
        text: The caption used as query.
        video_id: Its ground-truth video.
        category: Category name of the ground-truth video.
        rank: t2v rank of the ground truth (average-tie rank as evaluated).
        score: Similarity of the query with its ground-truth video.
        top: ``(video_id, score, category name)`` of the top results, best first.
        moments: Video id -> ``(segment, start, end)`` of its best segment for the query, for
            the ground truth and the top results that have segments (empty without segments).
    """

    query: int
    text: str
    video_id: str
    category: str
    rank: float
    score: float
    top: list[tuple[str, float, str]]
    moments: dict[str, tuple[int, float, float]] = field(default_factory=dict)


@dataclass
class RowData:
    """Raw per-query numbers of one row, for plots (never written to JSON).

    Attributes:
        t2v_ranks: Rank of every caption query (``None`` without the t2v direction).
        positive_similarity: Cosine similarity of every caption with its own video.
        negative_similarity: A bounded random sample of caption x other-video similarities.
        examples: ``"success"`` / ``"failure"`` -> a few example queries with their top results.
    """

    t2v_ranks: np.ndarray | None
    positive_similarity: np.ndarray
    negative_similarity: np.ndarray
    examples: dict[str, list[QueryExample]] = field(default_factory=dict)


@dataclass
class EvalRow:
    """Metrics of one model (encoder, optional head, optional re-ranking).

    Attributes:
        label: Row name, e.g. ``"baseline"``, ``"head:mini"`` or ``"baseline +DSL"``.
        encoder: Spec of the text encoder that produced the caption vectors.
        head: Directory of the projection head, ``None`` for the bare encoder.
        metrics: Direction (``"t2v"``/``"v2t"``) -> metrics over every query.
        per_category: Direction -> category name -> metrics (category of the ground-truth
            video for t2v, of the query video for v2t).
        per_length: Query-length bucket -> t2v metrics.
        via_index: Serving-path check (see ``evaluate_index(via_index=True)``), if run.
        rerank: ``"dsl"`` or ``"qbnorm"`` for re-ranked rows, else ``None``.
        notes: Caveats of this row (e.g. transductive re-ranking).
        raw: Per-query data for plots (plain rows only).
        pool: ``"mean"`` (pooled video vectors) or ``"max"`` (MaxSim over segments).
    """

    label: str
    encoder: str
    head: str | None
    metrics: dict[str, RetrievalMetrics]
    per_category: dict[str, dict[str, RetrievalMetrics]]
    per_length: dict[str, RetrievalMetrics]
    via_index: dict[str, Any] | None = None
    rerank: str | None = None
    notes: list[str] = field(default_factory=list)
    raw: RowData | None = field(default=None, repr=False)
    pool: str = "mean"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict with every number of the row (raw data excluded)."""
        return {
            "label": self.label,
            "encoder": self.encoder,
            "head": self.head,
            "pool": self.pool,
            "rerank": self.rerank,
            "notes": list(self.notes),
            "metrics": {d: m.to_dict() for d, m in self.metrics.items()},
            "per_category": {
                d: {name: m.to_dict() for name, m in groups.items()}
                for d, groups in self.per_category.items()
            },
            "per_length": {b: m.to_dict() for b, m in self.per_length.items()},
            "via_index": _json_safe(self.via_index),
        }


@dataclass
class EvalReport:
    """Everything one evaluation run measured.

    Attributes:
        settings: Split, encoder, heads, directions, ties, ks, re-ranking, index uri and
            version, query counts per direction, timestamp.
        rows: Plain rows first (baseline, then each head), then re-ranked rows.
        notes: Caveats of the whole run (skipped baseline, excluded videos, ...).
        query_texts: Caption text of each t2v query (raw, not in JSON).
        query_video_ids: Ground-truth video of each query.
        query_categories: Category name of each query's ground-truth video.
        gallery_ids: Video ids of the gallery, in row order.
        gallery_categories: Category name of each gallery video.
    """

    settings: dict[str, Any]
    rows: list[EvalRow]
    notes: list[str] = field(default_factory=list)
    query_texts: list[str] = field(default_factory=list, repr=False)
    query_video_ids: list[str] = field(default_factory=list, repr=False)
    query_categories: list[str] = field(default_factory=list, repr=False)
    gallery_ids: list[str] = field(default_factory=list, repr=False)
    gallery_categories: list[str] = field(default_factory=list, repr=False)

    def row(self, label: str) -> EvalRow:
        """The row called ``label`` (``KeyError`` naming the labels when absent)."""
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(f"no row {label!r}; rows: {', '.join(r.label for r in self.rows)}")

    @property
    def plain_rows(self) -> list[EvalRow]:
        """Rows without re-ranking (baseline and heads, every pool)."""
        return [r for r in self.rows if r.rerank is None]

    @property
    def pool(self) -> str:
        """The first evaluated pool (``"mean"`` when it was): the one :attr:`baseline` and
        :attr:`head_rows` report."""
        return (self.settings.get("pools") or ["mean"])[0]

    @property
    def baseline(self) -> EvalRow | None:
        """The bare-encoder row of :attr:`pool`, when it was evaluated."""
        return next((r for r in self.plain_rows if r.head is None and r.pool == self.pool), None)

    @property
    def head_rows(self) -> list[EvalRow]:
        """Plain rows of projection heads, pooled with :attr:`pool`."""
        return [r for r in self.plain_rows if r.head is not None and r.pool == self.pool]

    def to_dict(self) -> dict[str, Any]:
        """Settings, notes and every row's numbers as a JSON-friendly dict."""
        return {
            "settings": _json_safe(self.settings),
            "notes": list(self.notes),
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """The report as JSON text; also written to ``path`` when given."""
        return report_json(self.to_dict(), path, indent)

    def format_table(self, directions: tuple[str, ...] | None = None) -> str:
        """Rows x (R@K..., MedR, MeanR) per direction, as a plain-text table."""
        from ..tables import format_table

        dirs = directions or tuple(self.settings.get("directions") or ("t2v", "v2t"))
        ks = tuple(self.settings.get("ks") or (1, 5, 10))
        headers = ["model"]
        for d in dirs:
            headers += [f"{d} R@{k}" for k in ks] + [f"{d} MedR", f"{d} MeanR"]
        rows = []
        for r in self.rows:
            cells: list[object] = [r.label]
            for d in dirs:
                m = r.metrics.get(d)
                values = [] if m is None else [m.recall(k) for k in ks] + [m.medr, m.meanr]
                start = len(cells)
                for i in range(len(ks) + 2):
                    text = "-" if m is None else f"{values[i]:.1f}"
                    cells.append(text.rjust(len(headers[start + i])))
            rows.append(cells)
        return format_table(headers, rows)

    def format_via_index(self) -> str:
        """One line per row with the serving-path R@K and its difference from evaluation."""
        lines = []
        for r in self.rows:
            v = r.via_index
            if not v:
                continue
            rec = ", ".join(
                f"R@{k} {v['recall'][str(k)]:.1f} (diff {v['difference'][str(k)]:+.2f})"
                for k in self.settings.get("ks", (1, 5, 10))
            )
            lines.append(f"{r.label}: {v['path']}: {rec}")
            ann = v.get("ann")
            if ann:
                lines.append(
                    f"  ANN vs exact: top-{max(self.settings.get('ks', (10,)))} overlap "
                    f"{ann['overlap'] * 100:.1f}%, {ann['seconds']:.3f} s vs "
                    f"{ann['exact_seconds']:.3f} s" + (" (stale ANN index)" if ann["stale"] else "")
                )
            if v.get("explanation"):
                lines.append(f"  {v['explanation']}")
            store = v.get("store_sample")
            if store:
                srec = ", ".join(
                    f"R@{k} {store['recall'][str(k)]:.1f} "
                    f"(in-memory {store['in_memory_recall'][str(k)]:.1f})"
                    for k in self.settings.get("ks", (1, 5, 10))
                )
                lines.append(
                    f"  store search ({store['n_queries']} sampled queries): {srec}; "
                    f"top-1 agreement {store['top1_agreement']:.1f}%"
                )
        return "\n".join(lines)


def report_json(data: dict[str, Any], path: str | Path | None, indent: int) -> str:
    """A report's dict as JSON text (NaN refused); also written to ``path`` when given."""
    text = json.dumps(data, indent=indent, allow_nan=False) + "\n"
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _json_safe(value: Any) -> Any:
    """Plain JSON types: numpy scalars/arrays, tuples, paths, non-finite floats (-> None)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, Path):
        return str(value)
    return str(value)
