"""Metric charts of an evaluation (recall, per category, per query length, similarities).

matplotlib is imported only when a figure is drawn, and only its object-oriented API is used
(``matplotlib.figure.Figure`` rendered by the Agg canvas): no pyplot, no global backend switch,
nothing shown on screen. Every figure is a public function taking an
:class:`~vtrsearch.eval.report.EvalReport` (and optionally a PNG path to write) and returning its
``Figure`` (EDA figures of the index are in
:mod:`vtrsearch.plots.eda`, example queries in :mod:`vtrsearch.plots.cases`;
:func:`vtrsearch.plots.report.write_report` writes them all).

Without a projection head the fine-tuned similarity figure is skipped (nothing to show) and the
comparison figures plot the baseline alone, saying so in their titles.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .figure import K_COLORS, PALETTE, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..eval.report import EvalReport, EvalRow


def _where(report: EvalReport) -> str:
    split = report.settings.get("split")
    return "all videos" if split is None else f"split '{split}'"


def _styles(report: EvalReport) -> dict[str, tuple[str, str | None]]:
    """Row label -> (colour, hatch): re-ranked rows share their model's colour, hatched."""
    out: dict[str, tuple[str, str | None]] = {}
    plain = report.plain_rows
    for i, row in enumerate(plain):
        out[row.label] = (PALETTE[i % len(PALETTE)], None)
    for row in report.rows:
        if row.rerank is not None:
            parent = next((p for p in plain if row.label.startswith(p.label + " ")), None)
            colour = out[parent.label][0] if parent else PALETTE[-1]
            out[row.label] = (colour, "//")
    return out


def tuned_row(report: EvalReport, label: str | None = None) -> EvalRow | None:
    """The row called ``label``, else the last head row (``None`` without heads)."""
    if label is not None:
        return report.row(label)
    heads = report.head_rows
    return heads[-1] if heads else None


# ----------------------------------------------------------------------------- recall


def plot_recall_comparison(report: EvalReport, path: str | Path | None = None) -> Figure:
    """Grouped bars of R@K per row (baseline, heads, re-ranked rows), one panel per direction."""
    dirs = [d for d in report.settings["directions"] if any(d in r.metrics for r in report.rows)]
    ks = list(report.settings["ks"])
    rows = report.rows
    styles = _styles(report)
    panel = min(2.5 + 0.35 * len(ks) * len(rows), 7.5)
    fig = new_figure(max(6.0, panel * len(dirs)), 4.8)
    axes = fig.subplots(1, len(dirs), sharey=True, squeeze=False)[0]
    width = 0.8 / len(rows)
    x = np.arange(len(ks))
    for ax, d in zip(axes, dirs, strict=True):
        for j, row in enumerate(rows):
            if d not in row.metrics:
                continue
            colour, hatch = styles[row.label]
            values = [row.metrics[d].recall(k) for k in ks]
            bars = ax.bar(
                x + (j - (len(rows) - 1) / 2) * width,
                values,
                width * 0.95,
                color=colour,
                hatch=hatch,
                edgecolor="white" if hatch is None else "black",
                linewidth=0.5,
                label=row.label,
            )
            ax.bar_label(
                bars, fmt="%.1f", fontsize=8, padding=2, rotation=90 if len(rows) > 3 else 0
            )
        n = report.settings["n_queries"].get(d, 0)
        ax.set_title(f"{'text → video' if d == 't2v' else 'video → text'} ({d}, {n:,} queries)")
        ax.set_xticks(x, [f"R@{k}" for k in ks])
        ax.set_ylim(0, 118 if len(rows) > 3 else 110)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    axes[0].set_ylabel("recall (% of queries)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), fontsize=9)
    what = "baseline vs fine-tuned" if report.head_rows else "baseline only (no head given)"
    if report.baseline is None:
        what = "fine-tuned heads (no baseline row)"
    fig.suptitle(f"Recall@K on {_where(report)}: {what}", fontsize=12)
    return finish(fig, path)


def plot_category_recall(
    report: EvalReport,
    path: str | Path | None = None,
    *,
    k: int = 5,
    direction: str = "t2v",
    head: str | None = None,
) -> Figure:
    """Per-category R@K, baseline vs a fine-tuned row, horizontal bars sorted by value.

    Args:
        report: The evaluation.
        path: Also write the figure there as a PNG (parent folders created).
        k: Recall cut-off (R@5 by default: steadier than R@1 on small categories).
        direction: ``"t2v"`` (category of the ground-truth video) or ``"v2t"``.
        head: Label of the fine-tuned row (default: the last head row).
    """
    base, tuned = report.baseline, tuned_row(report, head)
    shown = [r for r in (base, tuned) if r is not None]
    key = tuned or base
    groups = key.per_category.get(direction, {})
    names = sorted(groups, key=lambda n: (groups[n].recall(k), n))
    styles = _styles(report)
    fig = new_figure(9.0, 1.6 + 0.36 * len(names) * (1 + 0.25 * (len(shown) - 1)))
    ax = fig.add_subplot()
    y = np.arange(len(names))
    height = 0.8 / len(shown)
    for j, row in enumerate(shown):
        cats = row.per_category.get(direction, {})
        values = [cats[n].recall(k) if n in cats else 0.0 for n in names]
        offset = ((len(shown) - 1) / 2 - j) * height  # first row (baseline) on top of its pair
        bars = ax.barh(
            y + offset, values, height * 0.92, color=styles[row.label][0], label=row.label
        )
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set_yticks(y, [f"{n} (n={groups[n].n_queries})" for n in names], fontsize=8)
    ax.set_xlim(0, 112)
    ax.set_xlabel(f"{direction} R@{k} (% of queries whose video is in the top {k})")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    if len(shown) > 1:
        fig.legend(loc="outside lower center", ncols=len(shown), fontsize=9)
    if tuned is not None and base is not None:
        what = f"{tuned.label} vs baseline"
    else:
        what = f"{key.label} only" + ("" if tuned else " (no head given)")
    ax.set_title(f"Per-category {direction} R@{k} on {_where(report)}: {what}", fontsize=11)
    return finish(fig, path)


def plot_query_length_recall(
    report: EvalReport, path: str | Path | None = None, rows: Sequence[str] | None = None
) -> Figure:
    """t2v R@K per query-length bucket (words), one panel per row, with query counts."""
    chosen = [report.row(r) for r in rows] if rows else report.plain_rows[:3]
    ks = list(report.settings["ks"])[:3]
    fig = new_figure(max(7.0, 4.2 * len(chosen) + 0.8), 4.8)
    axes = fig.subplots(1, len(chosen), sharey=True, squeeze=False)[0]
    for ax, row in zip(axes, chosen, strict=True):
        buckets = list(row.per_length)
        x = np.arange(len(buckets))
        width = 0.8 / len(ks)
        for j, k in enumerate(ks):
            values = [row.per_length[b].recall(k) for b in buckets]
            bars = ax.bar(
                x + (j - (len(ks) - 1) / 2) * width,
                values,
                width * 0.95,
                color=K_COLORS[j % len(K_COLORS)],
                label=f"R@{k}",
            )
            ax.bar_label(bars, fmt="%.0f", fontsize=8, padding=2)
        labels = [f"{b} words\n(n={row.per_length[b].n_queries:,})" for b in buckets]
        ax.set_xticks(x, labels, fontsize=9)
        ax.set_ylim(0, 112)
        ax.set_title(row.label, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    axes[0].set_ylabel("t2v recall (% of queries)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=9)
    missing = [b for b in ("1-10", "11-20", "21+") if b not in chosen[0].per_length]
    extra = f"\n(no queries of {', '.join(missing)} words)" if missing else ""
    fig.suptitle(f"Text-to-video recall by query length on {_where(report)}{extra}", fontsize=12)
    return finish(fig, path)


# ----------------------------------------------------------------------------- similarities


def plot_similarity_distribution(
    row: EvalRow, path: str | Path | None = None, title: str | None = None
) -> Figure:
    """Densities of matching vs (sampled) non-matching caption-video cosine similarities."""
    if row.raw is None:
        raise ValueError(f"row {row.label!r} has no per-query data (re-ranked rows have none)")
    pos, neg = row.raw.positive_similarity, row.raw.negative_similarity
    lo = float(min(pos.min(), neg.min())) if neg.size else float(pos.min())
    hi = float(max(pos.max(), neg.max())) if neg.size else float(pos.max())
    bins = np.linspace(lo, hi, 61)
    fig = new_figure(8.0, 4.6)
    ax = fig.add_subplot()
    for values, colour, label in (
        (neg, "#8c8c8c", f"non-matching pairs (random sample, n={neg.size:,})"),
        (pos, "#2ca02c", f"matching caption-video pairs (n={pos.size:,})"),
    ):
        if values.size == 0:
            continue
        ax.hist(values, bins=bins, density=True, alpha=0.55, color=colour, label=label)
        mean = float(values.mean())
        ax.axvline(mean, color=colour, linestyle="--", linewidth=1.5)
        ax.annotate(
            f"mean {mean:.3f}",
            (mean, 1),
            xycoords=("data", "axes fraction"),
            xytext=(4, -14),
            textcoords="offset points",
            color=colour,
            fontsize=9,
            fontweight="bold",
        )
    ax.set_xlabel("cosine similarity (caption vector · video vector)")
    ax.set_ylabel("density (area = 1 per histogram)")
    fig.legend(loc="outside lower center", ncols=2, fontsize=9)
    ax.grid(alpha=0.3)
    model = row.encoder if row.head is None else f"{row.encoder} + head {Path(row.head).name}"
    ax.set_title(title or f"{row.label}: matching vs non-matching similarities\n({model})")
    return finish(fig, path)
