"""``write_report``: every report and EDA figure of an evaluation, plus ``metrics.json``."""

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

if TYPE_CHECKING:
    from ..eval.report import EvalReport
    from ..index.index import Index


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
    if report is None:
        from ..eval.run import evaluate_index

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
    key_row = tuned_row(report) or report.baseline
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
    base, tuned = report.baseline, tuned_row(report)
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
