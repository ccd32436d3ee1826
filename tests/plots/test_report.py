"""Report figures: `vtrsearch report`, write_report and the per-figure functions.

Runs on a subset of the real 1k-A captions with MiniLM-derived features (see
``test_evaluation.build_onek_index``); every PNG is opened and checked to be a real image.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from helpers.eval_data import build_onek_index, make_head
from PIL import Image

from vtrsearch import load_encoder
from vtrsearch.cli.eval import add_parsers, cmd_report
from vtrsearch.eval.run import evaluate_index
from vtrsearch.plots import figure
from vtrsearch.plots.cases import keyframe_path, plot_case_examples
from vtrsearch.plots.charts import (
    plot_category_recall,
    plot_query_length_recall,
    plot_recall_comparison,
    plot_similarity_distribution,
)
from vtrsearch.plots.eda import plot_category_distribution, plot_pairwise_similarity
from vtrsearch.plots.report import write_report

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


def test_figures_one_by_one(onek, head_dir, tmp_path):
    report = evaluate_index(onek, heads=[head_dir], rerank="dsl", progress=False)
    head = report.row("head:mini")
    paths = [
        plot_recall_comparison(report, tmp_path / "a.png"),
        plot_category_recall(report, tmp_path / "b.png", k=1, direction="v2t"),
        plot_query_length_recall(report, tmp_path / "c.png", rows=["head:mini"]),
        plot_similarity_distribution(head, tmp_path / "d.png", title="custom title"),
        plot_case_examples(report, tmp_path / "e.png", kind="failure", row=head, n=2),
        plot_category_distribution(onek, tmp_path / "f.png", split=None),
        plot_pairwise_similarity(onek, tmp_path / "g.png", sample=30),
    ]
    for path in paths:
        assert_real_png(path)
    with pytest.raises(ValueError, match="no per-query data"):
        plot_similarity_distribution(report.row("head:mini +DSL"), tmp_path / "x.png")
    with pytest.raises(ValueError, match="kind"):
        plot_case_examples(report, tmp_path / "x.png", kind="odd")
