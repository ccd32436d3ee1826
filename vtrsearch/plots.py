"""Report figures of an evaluation, written as PNG files.

matplotlib is imported only when a figure is drawn, and only its object-oriented API is used
(``matplotlib.figure.Figure`` rendered by the Agg canvas): no pyplot, no global backend switch,
nothing shown on screen. Every figure is a public function taking an
:class:`~vtrsearch.eval_report.EvalReport` (or the index, for the EDA figures in
:mod:`vtrsearch.plots_eda`) and an output path; :func:`write_report` writes them all.

Without a projection head the fine-tuned similarity figure is skipped (nothing to show) and the
comparison figures plot the baseline alone, saying so in their titles.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .eval_report import EvalReport, EvalRow
    from .index import Index

DPI = 120
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3")
K_COLORS = ("#9ecae1", "#4292c6", "#08519c")


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained (tight) layout, not attached to pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Render ``fig`` to a PNG at ``path`` (parent folders created)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor="white")
    return out


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


def _tuned(report: EvalReport, label: str | None = None) -> EvalRow | None:
    if label is not None:
        return report.row(label)
    heads = report.head_rows
    return heads[-1] if heads else None


# ----------------------------------------------------------------------------- recall


def plot_recall_comparison(report: EvalReport, path: str | Path) -> Path:
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
    return save_figure(fig, path)


def plot_category_recall(
    report: EvalReport,
    path: str | Path,
    *,
    k: int = 5,
    direction: str = "t2v",
    head: str | None = None,
) -> Path:
    """Per-category R@K, baseline vs a fine-tuned row, horizontal bars sorted by value.

    Args:
        report: The evaluation.
        path: Output PNG.
        k: Recall cut-off (R@5 by default: steadier than R@1 on small categories).
        direction: ``"t2v"`` (category of the ground-truth video) or ``"v2t"``.
        head: Label of the fine-tuned row (default: the last head row).
    """
    base, tuned = report.baseline, _tuned(report, head)
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
    return save_figure(fig, path)


def plot_query_length_recall(
    report: EvalReport, path: str | Path, rows: Sequence[str] | None = None
) -> Path:
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
    return save_figure(fig, path)


# ----------------------------------------------------------------------------- similarities


def plot_similarity_distribution(row: EvalRow, path: str | Path, title: str | None = None) -> Path:
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
    return save_figure(fig, path)


# ----------------------------------------------------------------------------- all at once


def write_report(
    index: Index,
    out_dir: str | Path,
    *,
    report: EvalReport | None = None,
    split: str | None = "test",
    heads: Sequence[str | Path] = (),
    encoder: str | None = None,
    keyframes_dir: str | Path | None = None,
    skipped: list[str] | None = None,
    progress: bool = False,
) -> list[Path]:
    """Write every report and EDA figure plus ``metrics.json`` into ``out_dir``.

    Args:
        index: The evaluated index (the EDA figures read it).
        out_dir: Output folder (created).
        report: An evaluation to plot; run with ``split``, ``heads``, ``encoder`` when ``None``.
        split: Split of the evaluation and of the EDA figures (``None``: every video); a
            given ``report`` uses its own split.
        heads: Projection heads (only used when ``report`` is ``None``).
        encoder: Baseline encoder (only used when ``report`` is ``None``).
        keyframes_dir: Folder with ``keyframes/<video_id>/`` images for the example figures.
        skipped: When a list, receives ``"<file>: <reason>"`` for each figure not written.
        progress: Show the evaluation's progress (when it is run here).

    Returns:
        The written files, in order.

    The per-category figure shows R@5, or R@1 when R@5 is saturated (>= 90%). Without a head
    ``finetuned_similarity_distribution.png`` is skipped; a figure with nothing to show (no
    failure case, no t2v direction) is skipped too, with its reason in ``skipped``.
    """
    from . import plots_eda as eda
    from .plots_cases import plot_case_examples

    if report is None:
        from .evaluation import evaluate_index

        report = evaluate_index(index, split=split, heads=heads, encoder=encoder, progress=progress)
    split = report.settings.get("split")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    skips: list[str] = [] if skipped is None else skipped
    tag = "all" if split is None else str(split)
    files.append(
        eda.plot_category_distribution(
            index, out / f"video_category_distribution_{tag}.png", split=split
        )
    )
    files.append(plot_recall_comparison(report, out / "recall_comparison_chart.png"))
    key_row = _tuned(report) or report.baseline
    # R@5 by default; R@1 when R@5 is saturated (>= 90%) and would hide the differences.
    k = (
        1
        if key_row is not None
        and key_row.metrics.get("t2v")
        and (key_row.metrics["t2v"].recall(5) >= 90.0)
        else 5
    )
    files.append(plot_category_recall(report, out / "category_recall_comparison.png", k=k))
    if report.plain_rows and report.plain_rows[0].per_length:
        files.append(plot_query_length_recall(report, out / "query_length_recall.png"))
    else:
        skips.append("query_length_recall.png: the t2v direction was not evaluated")
    base, tuned = report.baseline, _tuned(report)
    for row, name, why in (
        (base, "baseline_similarity_distribution.png", "no baseline row (see the notes)"),
        (tuned, "finetuned_similarity_distribution.png", "no projection head given"),
    ):
        if row is None or row.raw is None:
            skips.append(f"{name}: {why}")
        else:
            files.append(plot_similarity_distribution(row, out / name))
    example_row = tuned or base
    for kind in ("success", "failure"):
        name = f"{kind}_case_examples.png"
        written = plot_case_examples(
            report, out / name, kind=kind, row=example_row, keyframes_dir=keyframes_dir
        )
        if written is None:
            skips.append(f"{name}: no {kind} among the queries")
        else:
            files.append(written)
    files.append(
        eda.plot_caption_length_histogram(index, out / "caption_length_histogram.png", split=split)
    )
    files.append(eda.plot_captions_per_video(index, out / "captions_per_video.png", split=split))
    files.append(
        eda.plot_feature_norm_distribution(
            index,
            out / "feature_norm_distribution.png",
            split=split,
            encoder=report.settings.get("encoder"),
        )
    )
    files.append(
        eda.plot_pairwise_similarity(
            index, out / "pairwise_similarity_distribution.png", split=split
        )
    )
    metrics = out / "metrics.json"
    report.to_json(metrics)
    files.append(metrics)
    return files
