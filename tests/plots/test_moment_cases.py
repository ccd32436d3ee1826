"""Success/failure case figures with moments: the matched segment's time and stored thumbnail.

The index is the planted-moments one of the pooled evaluation tests (real MiniLM), with a JPEG
thumbnail per segment whose colour names its video and segment.
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from helpers.eval_data import MINILM, PLANTED_BARE, build_planted_moments_index
from PIL import Image

from vtrsearch import load_encoder
from vtrsearch.eval import evaluate_index
from vtrsearch.plots import figure
from vtrsearch.plots.cases import plot_case_examples
from vtrsearch.plots.report import report_figures
from vtrsearch.tables import moment_span


@pytest.fixture(autouse=True)
def _low_dpi(monkeypatch):
    monkeypatch.setattr(figure, "DPI", 60)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return build_planted_moments_index(
        tmp_path_factory.mktemp("moments") / "idx", load_encoder(MINILM), thumbnails=True
    )


@pytest.fixture(scope="module")
def report(index):
    return evaluate_index(index, split=None, pools="mean,max", progress=False)


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def decoded(jpeg: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as img:
        return np.asarray(img.convert("RGB"))


@pytest.mark.parametrize("kind", ["success", "failure"])
def test_cases_show_the_matched_moment_and_its_thumbnail(index, report, kind, tmp_path):
    row = report.row("baseline [mean]")  # mean rows name the best moment too
    fig = plot_case_examples(report, tmp_path / "c.png", kind=kind, row=row, index=index)
    assert (tmp_path / "c.png").stat().st_size > 0
    examples = row.raw.examples[kind]
    assert len(fig.axes) == len(examples) * 7
    n_thumbs = 0
    for i, ex in enumerate(examples):
        panel = [t.get_text() for t in fig.axes[i * 7].texts]
        tiles = fig.axes[i * 7 + 1 : i * 7 + 7]
        for ax, vid in zip(tiles, [ex.video_id, *(t[0] for t in ex.top)], strict=True):
            label = ax.get_xlabel()
            pixels = np.asarray(ax.images[0].get_array())
            if vid in PLANTED_BARE:  # no segments: no time, a blank tile
                assert vid not in ex.moments and "\u2013" not in label
                assert np.all(pixels == 242)
                continue
            segment, start, end = ex.moments[vid]
            when = moment_span(start, end)
            assert when == f"00:{2 * segment:02d}\u201300:{2 * segment + 2:02d}"
            assert label.endswith(f"{vid}\n{when}")
            expected = decoded(index.thumbnail(vid, segment))
            np.testing.assert_array_equal(pixels, expected)
            n_thumbs += 1
            line = next(t for t in panel if f" {vid} " in t and t.startswith("#"))
            assert when in line
    assert n_thumbs > 0


def test_max_row_cases_and_fallbacks(index, report, tmp_path):
    row = report.row("baseline [max]")
    ex = next(e for e in row.raw.examples["success"] if e.video_id not in PLANTED_BARE)
    assert ex.top[0][0] == ex.video_id  # a success: the ground truth is first
    one = replace(row, raw=replace(row.raw, examples={"success": [ex]}))
    # without the index: the times are written, no thumbnail is drawn (text only)
    fig = plot_case_examples(report, kind="success", row=one)
    assert len(fig.axes) == 1
    _, start, end = ex.moments[ex.video_id]
    assert any(moment_span(start, end) in t for t in texts(fig))
    # a video without segments falls back to its keyframe; the others keep their thumbnails
    kf = tmp_path / "keyframes" / PLANTED_BARE[0]
    kf.mkdir(parents=True)
    Image.fromarray(np.full((24, 32, 3), 200, np.uint8)).save(kf / "000.png")
    bare_gt = replace(ex, video_id=PLANTED_BARE[0], moments=dict(ex.moments))
    bare_gt.moments.pop(PLANTED_BARE[0], None)
    custom = replace(row, raw=replace(row.raw, examples={"success": [bare_gt]}))
    fig = plot_case_examples(
        report, kind="success", row=custom, index=index, keyframes_dir=tmp_path
    )
    gt_tile, first = fig.axes[1], fig.axes[2]
    assert np.all(np.asarray(gt_tile.images[0].get_array()) == 200)
    assert "\u2013" not in gt_tile.get_xlabel()
    jpeg = index.thumbnail(ex.video_id, ex.moments[ex.video_id][0])
    np.testing.assert_array_equal(np.asarray(first.images[0].get_array()), decoded(jpeg))


def test_report_figures_use_the_stored_thumbnails(index, report):
    figures = report_figures(index, report)
    fig = figures["success_case_examples.png"]
    assert len(fig.axes) > 1  # thumbnail tiles, from the index (no keyframes folder given)
    assert any("\u2013" in ax.get_xlabel() for ax in fig.axes[1:])


def test_moment_span_formats():
    assert moment_span(12, 14) == "00:12\u201300:14"
    assert moment_span(1.2, 2.5) == "00:01.2\u201300:02.5"
    assert moment_span(12, 14, tenths=True) == "00:12.0\u201300:14.0"
    assert moment_span(3599.96, 3700) == "1:00:00\u20131:01:40"


def test_cli_report_with_both_pools(index, tmp_path, capsys):
    import argparse
    import json

    from vtrsearch.cli.eval import add_parsers, cmd_report

    parser = argparse.ArgumentParser(prog="vtrsearch")
    add_parsers(parser.add_subparsers(dest="command"))
    out = tmp_path / "report"
    args = parser.parse_args(
        ["report", index.uri, "--split", "all", "--pool", "mean,max", "--out", str(out), "--quiet"]
    )
    assert cmd_report(args) == 0
    data = json.loads((out / "metrics.json").read_text())
    assert [r["label"] for r in data["rows"]] == ["baseline [mean]", "baseline [max]"]
    assert (out / "success_case_examples.png").stat().st_size > 0
    assert "baseline [max]" in capsys.readouterr().out
