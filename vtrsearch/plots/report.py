"""``write_report``: every report and EDA figure of an evaluation, plus ``metrics.json``.

:func:`report_figures` draws them (file name -> Figure, nothing written); :func:`write_report`
evaluates when needed, draws and saves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import eda
from .cases import plot_case_examples
from .charts import (
    plot_category_recall,
    plot_query_length_recall,
    plot_recall_comparison,
    plot_similarity_distribution,
    tuned_row,
)
from .figure import save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..eval.progress import ProgressCallback
    from ..eval.report import EvalReport
    from ..index.index import Index

SATURATED = 90.0
"""R@5 (percent) from which the per-category figure shows R@1 instead."""


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
    progress: ProgressCallback | bool | None = False,
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
        progress: Progress of the evaluation when it is run here (see ``evaluate_index``).

    Returns:
        The written files, in order.

    See :func:`report_figures` for the figures and when they are skipped.
    """
    if report is None:
        from ..eval.run import evaluate_index

        report = evaluate_index(index, split=split, heads=heads, encoder=encoder, progress=progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    skips: list[str] = [] if skipped is None else skipped
    figures = report_figures(index, report, keyframes_dir=keyframes_dir, skipped=skips)
    files = []
    for name, fig in figures.items():
        try:  # one figure that cannot be written never costs the others or metrics.json
            files.append(save_figure(fig, out / name))
        except OSError as exc:
            skips.append(f"{name}: could not be written ({exc})")
    metrics = out / "metrics.json"
    report.to_json(metrics)
    files.append(metrics)
    return files


def report_figures(
    index: Index,
    report: EvalReport,
    *,
    keyframes_dir: str | Path | None = None,
    skipped: list[str] | None = None,
) -> dict[str, Figure]:
    """Every figure of the report, by PNG file name, in report order (nothing is written).

    The per-category figure shows t2v (v2t when only v2t was evaluated) R@5, or R@1 when R@5
    is saturated (>= 90%). Without a head
    ``finetuned_similarity_distribution.png`` is skipped; a figure with nothing to show (no
    failure case, no t2v direction) is skipped too, with its reason in ``skipped``.

    Args:
        index: The evaluated index (the EDA figures read it).
        report: The evaluation; its split is the EDA figures' split too.
        keyframes_dir: Folder with ``keyframes/<video_id>/`` images for the example figures
            (the stored thumbnails of the matched segments come first).
        skipped: When a list, receives ``"<file>: <reason>"`` for each figure not drawn.
    """
    skips: list[str] = [] if skipped is None else skipped
    split = report.settings.get("split")
    tag = "all" if split is None else str(split)
    figures: dict[str, Figure] = {}
    name = f"video_category_distribution_{tag}.png"
    if index.category_map.has_categories:
        figures[name] = eda.plot_category_distribution(index, split=split)
    else:
        skips.append(f"{name}: the index's videos have no categories")
    figures.update(_metric_figures(report, skips))
    figures.update(_similarity_figures(report, skips))
    figures.update(_case_figures(report, keyframes_dir, skips, index))
    figures.update(_eda_figures(index, split, report.settings.get("encoder")))
    return figures


def category_direction(report: EvalReport) -> str:
    """Direction of the per-category figure: t2v, or v2t when t2v was not evaluated."""
    return "t2v" if "t2v" in report.settings.get("directions", ("t2v",)) else "v2t"


def category_k(report: EvalReport, direction: str = "t2v") -> int:
    """R@K of the per-category figure: 5, or 1 when the key row's R@5 is saturated."""
    key_row = tuned_row(report) or report.baseline
    metrics = None if key_row is None else key_row.metrics.get(direction)
    return 1 if metrics is not None and metrics.recall(5) >= SATURATED else 5


def _metric_figures(report: EvalReport, skips: list[str]) -> dict[str, Figure]:
    """Recall per row, per category and per query length."""
    direction = category_direction(report)
    k = category_k(report, direction)
    out = {"recall_comparison_chart.png": plot_recall_comparison(report)}
    if any(row.per_category for row in report.plain_rows):
        out["category_recall_comparison.png"] = plot_category_recall(
            report, k=k, direction=direction
        )
    else:
        skips.append("category_recall_comparison.png: the index's videos have no categories")
    if report.plain_rows and report.plain_rows[0].per_length:
        out["query_length_recall.png"] = plot_query_length_recall(report)
    else:
        skips.append("query_length_recall.png: the t2v direction was not evaluated")
    return out


def _similarity_figures(report: EvalReport, skips: list[str]) -> dict[str, Figure]:
    """Matching vs non-matching similarities of the baseline and of the fine-tuned row."""
    out = {}
    for row, name, why in (
        (
            report.baseline,
            "baseline_similarity_distribution.png",
            "no baseline row (see the notes)",
        ),
        (tuned_row(report), "finetuned_similarity_distribution.png", "no projection head given"),
    ):
        if row is None or row.raw is None:
            skips.append(f"{name}: {why}")
        else:
            out[name] = plot_similarity_distribution(row)
    return out


def _case_figures(
    report: EvalReport, keyframes_dir: str | Path | None, skips: list[str], index: Index
) -> dict[str, Figure]:
    """Success and failure examples of the fine-tuned row (else the baseline), with the
    matched moments and their stored thumbnails when the index has segments."""
    row = tuned_row(report) or report.baseline
    out = {}
    for kind in ("success", "failure"):
        name = f"{kind}_case_examples.png"
        try:
            fig = plot_case_examples(
                report, kind=kind, row=row, keyframes_dir=keyframes_dir, index=index
            )
        except OSError as exc:  # keyframes that cannot be read: the rest of the report stands
            skips.append(f"{name}: keyframes could not be read ({exc})")
            continue
        if fig is None:
            skips.append(f"{name}: no {kind} among the queries")
        else:
            out[name] = fig
    return out


def _eda_figures(index: Index, split: str | None, encoder: str | None) -> dict[str, Figure]:
    """The index's data: caption lengths, captions per video, norms, pairwise similarities."""
    return {
        "caption_length_histogram.png": eda.plot_caption_length_histogram(index, split=split),
        "captions_per_video.png": eda.plot_captions_per_video(index, split=split),
        "feature_norm_distribution.png": eda.plot_feature_norm_distribution(
            index, split=split, encoder=encoder
        ),
        "pairwise_similarity_distribution.png": eda.plot_pairwise_similarity(index, split=split),
    }
