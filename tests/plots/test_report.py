"""Report figures: `vtrsearch report`, write_report and the per-figure functions.

Runs on a subset of the real 1k-A captions with MiniLM-derived features (see
``test_evaluation.build_onek_index``); every PNG is opened and checked to be a real image.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from helpers.eval_data import build_onek_index, make_head
from PIL import Image

from vtrsearch import MSRVTT_CATEGORIES, load_encoder
from vtrsearch.cli.eval import add_parsers, cmd_report
from vtrsearch.eval import evaluate_index
from vtrsearch.eval.metrics import LENGTH_BUCKETS
from vtrsearch.plots import figure
from vtrsearch.plots.cases import keyframe_path, plot_case_examples
from vtrsearch.plots.charts import (
    plot_category_recall,
    plot_query_length_recall,
    plot_recall_comparison,
    plot_similarity_distribution,
)
from vtrsearch.plots.eda import (
    plot_caption_length_histogram,
    plot_captions_per_video,
    plot_category_distribution,
    plot_feature_norm_distribution,
    plot_pairwise_similarity,
)
from vtrsearch.plots.report import category_k, report_figures, write_report

FIGURES = {
    "video_category_distribution_test.png",
    "recall_comparison_chart.png",
    "category_recall_comparison.png",
    "query_length_recall.png",
    "baseline_similarity_distribution.png",
    "finetuned_similarity_distribution.png",
    "success_case_examples.png",
    "failure_case_examples.png",
    "caption_length_histogram.png",
    "captions_per_video.png",
    "feature_norm_distribution.png",
    "pairwise_similarity_distribution.png",
}


@pytest.fixture(autouse=True)
def _low_dpi(monkeypatch):
    """Figures at a lower resolution: same drawing code, less rasterising on busy CPUs."""
    monkeypatch.setattr(figure, "DPI", 60)


@pytest.fixture(scope="module")
def onek(msrvtt_1k_json, tmp_path_factory):
    return build_onek_index(
        msrvtt_1k_json,
        tmp_path_factory.mktemp("onek"),
        load_encoder("hf:minilm"),
        per_category=3,
        long_captions=3,
    )


@pytest.fixture(scope="module")
def head_dir(tmp_path_factory) -> Path:
    return make_head(tmp_path_factory.mktemp("heads") / "mini")


@pytest.fixture(scope="module")
def keyframes(onek, tmp_path_factory) -> Path:
    """Small coloured keyframe images for half of the videos (the rest show a placeholder)."""
    root = tmp_path_factory.mktemp("kf")
    rng = np.random.default_rng(0)
    for vid in onek.gallery().ids.tolist()[::2]:
        folder = root / "keyframes" / vid
        folder.mkdir(parents=True)
        for j in range(2):
            pixels = rng.integers(0, 255, size=(48, 64, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{j:03d}.jpg")
    return root


def assert_real_png(path: Path) -> None:
    with Image.open(path) as img:
        assert img.format == "PNG", path
        assert img.width > 100 and img.height > 100, (path, img.size)
        pixels = np.asarray(img.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 2, f"{path} is a single colour"


def test_cli_report_writes_every_figure(onek, head_dir, keyframes, tmp_path, capsys):
    out = tmp_path / "report"
    parser = argparse.ArgumentParser(prog="vtrsearch")
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "report",
            onek.uri,
            "--out",
            str(out),
            "--head",
            str(head_dir),
            "--keyframes",
            str(keyframes),
            "--quiet",
        ]
    )
    assert cmd_report(args) == 0
    text = capsys.readouterr().out
    listed = [Path(line.strip()) for line in text.splitlines() if line.startswith(f"  {out}")]
    assert {p.name for p in listed} == FIGURES | {"metrics.json"}
    assert "head:mini" in text and "skipped" not in text
    for path in listed:
        assert path.is_file() and path.stat().st_size > 0
        if path.suffix == ".png":
            assert_real_png(path)
    data = json.loads((out / "metrics.json").read_text())
    assert [r["label"] for r in data["rows"]] == ["baseline", "head:mini"]
    assert keyframe_path(keyframes, onek.gallery().ids.tolist()[0]) is not None


def test_without_a_head_the_finetuned_figure_is_skipped(onek, tmp_path):
    skipped: list[str] = []
    files = write_report(onek, tmp_path, split="test", skipped=skipped)
    names = {p.name for p in files}
    assert names == (FIGURES - {"finetuned_similarity_distribution.png"}) | {"metrics.json"}
    assert skipped == ["finetuned_similarity_distribution.png: no projection head given"]
    assert not (tmp_path / "finetuned_similarity_distribution.png").exists()
    for path in files:
        if path.suffix == ".png":
            assert_real_png(path)


def bars(ax) -> list[list[float]]:
    """Heights (vertical bars) or widths (horizontal bars) of each bar group of ``ax``."""
    out = []
    for container in ax.containers:
        horizontal = getattr(container, "orientation", "vertical") == "horizontal"
        out.append([p.get_width() if horizontal else p.get_height() for p in container])
    return out


def ticks(labels) -> list[str]:
    return [t.get_text() for t in labels]


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture(scope="module")
def dsl_report(onek, head_dir):
    return evaluate_index(onek, heads=[head_dir], rerank="dsl", progress=False)


def test_recall_comparison_plots_the_recalls(dsl_report, tmp_path):
    report = dsl_report
    fig = plot_recall_comparison(report, tmp_path / "a.png")
    assert_real_png(tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as img:  # the PNG is this figure
        assert img.size == tuple(round(x * figure.DPI) for x in fig.get_size_inches())
    labels = ["baseline", "head:mini", "baseline +DSL", "head:mini +DSL"]
    assert [r.label for r in report.rows] == labels
    assert len(fig.axes) == 2  # one panel per direction
    for ax, d in zip(fig.axes, ("t2v", "v2t"), strict=True):
        want = [[r.metrics[d].recall(k) for k in (1, 5, 10)] for r in report.rows]
        np.testing.assert_allclose(bars(ax), want)
        assert ticks(ax.get_xticklabels()) == ["R@1", "R@5", "R@10"]
        n = report.settings["n_queries"][d]
        assert ax.get_title().endswith(f"({d}, {n:,} queries)")
        assert [t.get_text() for t in ax.texts] == [f"{v:.1f}" for row in want for v in row]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == labels
    assert fig.get_suptitle() == "Recall@K on split 'test': baseline vs fine-tuned"


def test_category_recall_plots_each_category(dsl_report):
    report = dsl_report
    fig = plot_category_recall(report, k=1, direction="v2t")
    (ax,) = fig.axes
    base, head = report.row("baseline"), report.row("head:mini")
    groups = head.per_category["v2t"]
    names = sorted(groups, key=lambda n: (groups[n].recall(1), n))
    assert set(names) == set(MSRVTT_CATEGORIES)
    assert ticks(ax.get_yticklabels()) == [f"{n} (n={groups[n].n_queries})" for n in names]
    want = [[r.per_category["v2t"][n].recall(1) for n in names] for r in (base, head)]
    np.testing.assert_allclose(bars(ax), want)
    assert ax.get_title() == "Per-category v2t R@1 on split 'test': head:mini vs baseline"


def test_query_length_recall_plots_each_bucket(dsl_report):
    head = dsl_report.row("head:mini")
    fig = plot_query_length_recall(dsl_report, rows=["head:mini"])
    (ax,) = fig.axes
    buckets = list(LENGTH_BUCKETS)
    assert list(head.per_length) == buckets
    want = [[head.per_length[b].recall(k) for b in buckets] for k in (1, 5, 10)]
    np.testing.assert_allclose(bars(ax), want)
    assert ticks(ax.get_xticklabels()) == [
        f"{b} words\n(n={head.per_length[b].n_queries:,})" for b in buckets
    ]
    assert ax.get_title() == "head:mini"


def test_similarity_distribution_histograms_the_similarities(dsl_report):
    head = dsl_report.row("head:mini")
    fig = plot_similarity_distribution(head, title="custom title")
    (ax,) = fig.axes
    assert ax.get_title() == "custom title"
    pos, neg = head.raw.positive_similarity, head.raw.negative_similarity
    assert pos.size == dsl_report.settings["n_queries"]["t2v"] and neg.size > 0
    edges = np.linspace(min(pos.min(), neg.min()), max(pos.max(), neg.max()), 61)
    for heights, values in zip(bars(ax), (neg, pos), strict=True):
        density, _ = np.histogram(values, bins=edges, density=True)
        np.testing.assert_allclose(heights, density, rtol=1e-5)
        counts, _ = np.histogram(values, bins=edges)
        np.testing.assert_array_equal(
            np.rint(np.asarray(heights) * np.diff(edges) * values.size), counts
        )
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [
        f"non-matching pairs (random sample, n={neg.size:,})",
        f"matching caption-video pairs (n={pos.size:,})",
    ]
    assert f"mean {pos.mean():.3f}" in texts(fig)
    with pytest.raises(ValueError, match="no per-query data"):
        plot_similarity_distribution(dsl_report.row("head:mini +DSL"))


def test_case_examples_show_the_queries_and_their_ranks(dsl_report, keyframes, tmp_path):
    head = dsl_report.row("head:mini")
    fig = plot_case_examples(
        dsl_report, tmp_path / "e.png", kind="failure", row=head, n=2, keyframes_dir=keyframes
    )
    assert_real_png(tmp_path / "e.png")
    examples = head.raw.examples["failure"][:2]
    assert examples and all(ex.rank > 1 for ex in examples)
    assert len(fig.axes) == len(examples) * 7  # a text panel and 6 thumbnails per query
    shown = texts(fig)
    for ex in examples:
        assert f"ground truth: {ex.video_id} ({ex.category}) — ranked {ex.rank:g}" in shown
        assert any(t.startswith(f'"{ex.text[:20]}') for t in shown)
    assert fig.get_suptitle().startswith("Failure cases")
    assert (
        plot_case_examples(dsl_report, kind="success", row=dsl_report.row("baseline +DSL")) is None
    )
    with pytest.raises(ValueError, match="kind"):
        plot_case_examples(dsl_report, kind="odd")


def test_eda_figures_count_the_index(onek):
    gallery = onek.gallery()
    fig = plot_category_distribution(onek, split=None)
    (ax,) = fig.axes
    counts = {c.name: c.count for c in onek.categories()}
    order = sorted(counts, key=lambda n: (counts[n], n))
    assert ticks(ax.get_yticklabels()) == order
    assert bars(ax) == [[counts[n] for n in order]]
    assert ax.get_title() == f"Videos per category — all videos ({len(gallery):,} videos)"

    test_ids = set(gallery.ids[gallery.split == "test"].tolist())
    table = onek.caption_table(columns=["video_id", "text"]).to_pylist()
    test_caps = [c for c in table if c["video_id"] in test_ids]
    fig = plot_caption_length_histogram(onek)
    lengths = np.array([len(c["text"].split()) for c in test_caps])
    (heights,) = bars(fig.axes[0])
    np.testing.assert_array_equal(heights, np.bincount(lengths)[1:])
    assert f"({lengths.size:,} captions;" in fig.axes[0].get_title()

    fig = plot_captions_per_video(onek)
    per_video = Counter(c["video_id"] for c in test_caps)
    values, n_videos = np.unique([per_video[v] for v in test_ids], return_counts=True)
    (heights,) = bars(fig.axes[0])
    assert heights == n_videos.tolist()
    assert ticks(fig.axes[0].get_xticklabels()) == [str(v) for v in values]

    fig = plot_pairwise_similarity(onek, sample=30)
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    pairs = [int(n.replace(",", "")) for n in re.findall(r"n=([\d,]+) pairs", legend)]
    assert sum(pairs) == 30 * 29 // 2
    assert f"(30 of {len(test_ids):,} videos sampled)" in fig.axes[0].get_title()

    fig = plot_feature_norm_distribution(onek)
    assert len(fig.axes) == 2  # stored video vectors and cached caption vectors
    assert sum(bars(fig.axes[0])[0]) == len(test_ids)
    assert sum(bars(fig.axes[1])[0]) == len(test_caps)


def test_report_figures_without_t2v_skip_what_needs_it(onek):
    report = evaluate_index(onek, directions="v2t", progress=False)
    skipped: list[str] = []
    figures = report_figures(onek, report, skipped=skipped)
    assert set(figures) == FIGURES - {
        "query_length_recall.png",
        "finetuned_similarity_distribution.png",
        "success_case_examples.png",
        "failure_case_examples.png",
    }
    assert skipped == [
        "query_length_recall.png: the t2v direction was not evaluated",
        "finetuned_similarity_distribution.png: no projection head given",
        "success_case_examples.png: no success among the queries",
        "failure_case_examples.png: no failure among the queries",
    ]
    # the per-category figure falls back to v2t instead of drawing empty t2v bars
    r5 = report.baseline.metrics["v2t"].r5
    k = category_k(report, "v2t")
    assert k == (1 if r5 >= 90 else 5)  # R@1 when R@5 is saturated
    (ax,) = figures["category_recall_comparison.png"].axes
    assert ax.get_title().startswith(f"Per-category v2t R@{k} ")
    groups = report.baseline.per_category["v2t"]
    names = sorted(groups, key=lambda n: (groups[n].recall(k), n))
    assert bars(ax) == [[groups[n].recall(k) for n in names]]
