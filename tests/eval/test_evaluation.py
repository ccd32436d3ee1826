"""evaluate_index on the real MSR-VTT 1k-A captions with the real MiniLM encoder.

The video features are MiniLM embeddings of each video's own caption plus Gaussian noise, so
text search works but is imperfect (R@1 well below 100) and the numbers mean something. A
subset of the 1k-A file keeps the test fast on two busy cores while keeping all 20 categories
and all three query-length buckets.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from helpers.eval_data import MINILM, build_onek_index, make_head

from vtrsearch import DimensionMismatchError, Index, SpaceMismatchError, load_encoder
from vtrsearch.categories import MSRVTT_CATEGORIES
from vtrsearch.cli.eval import add_parsers, cmd_eval
from vtrsearch.errors import UnknownSplitError
from vtrsearch.eval import evaluate_index, plan_evaluation
from vtrsearch.eval.metrics import LENGTH_BUCKETS, evaluate, metrics_from_ranks, similarity_ranks
from vtrsearch.eval.progress import EvalProgress
from vtrsearch.eval.rerank import QueryBankNorm, dual_softmax_ranks
from vtrsearch.index.caption_cache import caption_vectors


@pytest.fixture(scope="module")
def minilm():
    return load_encoder(MINILM)


@pytest.fixture(scope="module")
def onek(msrvtt_1k_json, tmp_path_factory, minilm) -> Index:
    return build_onek_index(
        msrvtt_1k_json,
        tmp_path_factory.mktemp("onek"),
        minilm,
        per_category=7,
        train_per_category=3,
    )


@pytest.fixture(scope="module")
def head_dir(tmp_path_factory) -> Path:
    return make_head(tmp_path_factory.mktemp("heads") / "mini")


@pytest.fixture(scope="module")
def report(onek):
    return evaluate_index(onek, split="test", via_index=True, store_sample=25, progress=False)


def test_metrics_match_an_independent_computation(onek, report):
    m = onek._get_matrix()
    keep = m.split == "test"
    row = {v: i for i, v in enumerate(m.ids[keep].tolist())}
    cached = caption_vectors(onek, MINILM, split="test")
    q = cached.vectors / np.linalg.norm(cached.vectors, axis=1, keepdims=True)
    cv = np.array([row[v] for v in cached.video_ids])
    expected = evaluate(q, m.vectors[keep], cv)
    base = report.row("baseline")
    assert [r.label for r in report.rows] == ["baseline"]
    assert base.metrics == expected
    assert 20.0 < base.metrics["t2v"].r1 < 99.0  # meaningful: neither trivial nor broken
    assert report.settings["n_queries"] == {"t2v": len(cached), "v2t": int(keep.sum())}


def test_breakdowns_cover_every_category_and_sum_to_the_totals(report):
    base = report.row("baseline")
    for direction in ("t2v", "v2t"):
        groups = base.per_category[direction]
        assert set(groups) == set(MSRVTT_CATEGORIES)
        assert sum(g.n_queries for g in groups.values()) == base.metrics[direction].n_queries
        hits = sum(g.r1 * g.n_queries for g in groups.values()) / 100
        assert hits == pytest.approx(
            base.metrics[direction].r1 * base.metrics[direction].n_queries / 100
        )
    assert list(base.per_length) == list(LENGTH_BUCKETS)
    assert sum(g.n_queries for g in base.per_length.values()) == base.metrics["t2v"].n_queries


def test_exact_evaluation_equals_the_search_path(onek, report):
    via = report.row("baseline").via_index
    assert via["path"].startswith("Index.search_many")
    assert via["n_queries"] == report.settings["n_queries"]["t2v"]
    assert via["difference"] == {"1": 0.0, "5": 0.0, "10": 0.0}
    assert via["n_rank_mismatches"] == 0 and "explanation" not in via
    store = via["store_sample"]
    assert store["path"] == f"Index.search_store ({type(onek.store).__name__})"
    assert store["n_queries"] == 25 and store["top1_agreement"] == 100.0
    assert store["difference"] == {"1": 0.0, "5": 0.0, "10": 0.0}
    assert "Index.search_many" in report.format_via_index()


def test_metrics_json_has_every_number_and_the_settings(onek, report, tmp_path):
    text = report.to_json(tmp_path / "metrics.json")
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert json.loads(text) == data
    s = data["settings"]
    for key in (
        "split",
        "encoder",
        "heads",
        "directions",
        "ties",
        "ks",
        "rerank",
        "index_uri",
        "index_version",
        "n_queries",
        "timestamp",
        "via_index",
    ):
        assert key in s
    assert s["split"] == "test" and s["encoder"] == MINILM and s["ties"] == "average"
    assert s["index_version"] == onek.store.version("videos") == onek.version
    base, row = report.row("baseline"), data["rows"][0]
    assert row["metrics"]["t2v"] == base.metrics["t2v"].to_dict()
    assert row["per_category"]["v2t"]["music"] == base.per_category["v2t"]["music"].to_dict()
    assert row["per_length"]["21+"]["n_queries"] == base.per_length["21+"].n_queries
    assert row["via_index"]["difference"]["1"] == 0.0
    assert len(text) < 100_000  # raw per-query arrays stay out of the JSON


def test_head_rows_and_head_errors(onek, head_dir, tmp_path):
    rep = evaluate_index(onek, split="test", heads=[head_dir], directions="t2v", progress=False)
    assert [r.label for r in rep.rows] == ["baseline", "head:mini"]
    head = rep.row("head:mini")
    assert head.head == str(head_dir) and head.encoder == MINILM
    assert head.metrics != rep.row("baseline").metrics
    assert set(head.per_category["t2v"]) == set(MSRVTT_CATEGORIES)
    assert "v2t" not in head.metrics and rep.settings["directions"] == ["t2v"]
    # a registered name works like the directory (and names the row)
    onek.register_head("registered", make_head(tmp_path / "other", seed=1))
    rep = evaluate_index(onek, heads=["registered"], directions="t2v", progress=False)
    assert rep.rows[1].label == "head:registered"
    with pytest.raises(DimensionMismatchError, match="expects 512-d vectors"):
        evaluate_index(onek, heads=[make_head(tmp_path / "wide", in_dim=512)], progress=False)
    with pytest.raises(DimensionMismatchError, match="outputs 256-d vectors"):
        evaluate_index(onek, heads=[make_head(tmp_path / "o", out_dim=256)], progress=False)
    with pytest.raises(FileNotFoundError, match="registered"):
        evaluate_index(onek, heads=[tmp_path / "nope"], progress=False)


def test_baseline_outside_the_index_space(onek, head_dir):
    other = "open_clip:ViT-B-32/openai"
    rep = evaluate_index(onek, encoder=other, heads=[head_dir], directions="t2v", progress=False)
    assert [r.label for r in rep.rows] == ["head:mini"]
    assert rep.baseline is None and "baseline skipped" in rep.notes[0]
    with pytest.raises(SpaceMismatchError, match="not in the space"):
        evaluate_index(onek, encoder=other, progress=False)


def test_dual_softmax_and_qbnorm_rows(onek, report):
    base = report.row("baseline")
    dsl = evaluate_index(onek, rerank="dsl", progress=False)
    assert [r.label for r in dsl.rows] == ["baseline", "baseline +DSL"]
    row = dsl.row("baseline +DSL")
    assert row.rerank == "dsl" and "transductive" in row.notes[0] and row.raw is None
    assert row.metrics != base.metrics
    m = onek._get_matrix()
    keep = m.split == "test"
    pos = {v: i for i, v in enumerate(m.ids[keep].tolist())}
    cached = caption_vectors(onek, MINILM, split="test")
    cv = np.array([pos[v] for v in cached.video_ids])
    sim = cached.vectors @ m.vectors[keep].T
    ranks = dual_softmax_ranks(sim, cv)
    assert row.metrics == {d: metrics_from_ranks(ranks[d]) for d in ("t2v", "v2t")}

    qb = evaluate_index(onek, rerank="qbnorm", qb_bank_split="train", progress=False)
    row = qb.row("baseline +QB-Norm")
    assert row.rerank == "qbnorm" and "'train'" in row.notes[0]
    assert row.metrics != base.metrics
    bank = caption_vectors(onek, MINILM, split="train").vectors
    norm = QueryBankNorm(bank, m.vectors[keep])
    ranks = similarity_ranks(norm.rescore(sim), cv, directions=("t2v",))
    assert row.metrics["t2v"].r1 == pytest.approx(np.mean(ranks["t2v"] <= 1) * 100)
    assert "+QB-Norm" in qb.format_table() and "+DSL" in dsl.format_table()
    with pytest.raises(ValueError, match="bank split 'test'"):
        evaluate_index(onek, rerank="qbnorm", qb_bank_split="test", progress=False)
    with pytest.raises(UnknownSplitError, match="QB-Norm bank split 'nope'"):
        evaluate_index(onek, rerank="qbnorm", qb_bank_split="nope", progress=False)


def test_progress_events_follow_the_plan(onek, head_dir):
    options = {"heads": [head_dir], "rerank": "dsl", "via_index": True}
    plan = plan_evaluation(onek, **options)
    assert [m.label for m in plan.models] == ["baseline", "head:mini"]
    assert plan.steps == [
        ("rank", "baseline"),
        ("via_index", "baseline"),
        ("rerank", "baseline +DSL"),
        ("rank", "head:mini"),
        ("via_index", "head:mini"),
        ("rerank", "head:mini +DSL"),
    ]
    events: list[EvalProgress] = []
    rep = evaluate_index(onek, store_sample=5, progress=events.append, **options)
    assert [r.label for r in rep.rows] == plan.row_labels
    stages = list(dict.fromkeys((e.step, e.stage, e.label) for e in events))
    assert stages == [(i, s, label) for i, (s, label) in enumerate(plan.steps, start=1)]
    assert {e.steps for e in events} == {6}
    n = rep.settings["n_queries"]["t2v"]
    for key in stages:
        mine = [e for e in events if (e.step, e.stage, e.label) == key]
        assert mine[0].done == 0 and mine[-1].done == mine[-1].total == n
        assert mine[-1].fraction == 1.0 and mine[0].message
    # the same numbers as a run without progress
    quiet = evaluate_index(onek, store_sample=5, progress=False, **options)
    assert [r.metrics for r in quiet.rows] == [r.metrics for r in rep.rows]
    with pytest.raises(ValueError, match="progress must be"):
        evaluate_index(onek, progress="yes")


def test_progress_true_draws_on_stderr_and_logs(onek, capsys, caplog):
    caplog.set_level(logging.INFO, logger="vtrsearch.eval")
    evaluate_index(onek, directions="t2v", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "evaluating baseline" in captured.err and "[1/1] rank baseline" in captured.err
    assert any("evaluating baseline" in r.getMessage() for r in caplog.records)
    evaluate_index(onek, directions="t2v", progress=False)
    assert capsys.readouterr() == ("", "")


def test_baseline_false_evaluates_heads_only(onek, head_dir):
    both = evaluate_index(onek, heads=[head_dir], directions="t2v", progress=False)
    rep = evaluate_index(onek, heads=[head_dir], baseline=False, directions="t2v", progress=False)
    assert [r.label for r in rep.rows] == ["head:mini"] and rep.baseline is None
    assert rep.row("head:mini").metrics == both.row("head:mini").metrics
    assert rep.notes == []
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate_index(onek, baseline=False, progress=False)


def test_bad_options(onek):
    with pytest.raises(UnknownSplitError, match="'train', 'test'|'test', 'train'"):
        evaluate_index(onek, split="validate", progress=False)
    with pytest.raises(ValueError, match="directions"):
        evaluate_index(onek, directions="t2x", progress=False)
    with pytest.raises(ValueError, match="ties"):
        evaluate_index(onek, ties="random", progress=False)
    with pytest.raises(ValueError, match="rerank"):
        evaluate_index(onek, rerank="magic", progress=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vtrsearch")
    add_parsers(parser.add_subparsers(dest="command"))
    return parser


def test_cli_eval_table_and_metrics_json(onek, head_dir, tmp_path, capsys):
    out = tmp_path / "out"
    args = _parser().parse_args(
        [
            "eval",
            onek.uri,
            "--head",
            str(head_dir),
            "--rerank",
            "dsl",
            "--k",
            "1,5,10,50",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert cmd_eval(args) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert "t2v R@50" in lines[1] and "v2t MeanR" in lines[1]
    for label in ("baseline", "head:mini", "baseline +DSL", "head:mini +DSL"):
        assert any(line.startswith(label + " ") for line in lines)
    assert "note (baseline +DSL): transductive" in text
    data = json.loads((out / "metrics.json").read_text())
    assert data["settings"]["ks"] == [1, 5, 10, 50] and "r50" in data["rows"][0]["metrics"]["t2v"]


def test_cli_eval_encodes_missing_captions(tmp_path, minilm, capsys):
    """A fresh index without cached caption vectors: eval encodes them first (real MiniLM)."""
    captions = {
        "video0": "a dog runs after a ball in the park",
        "video1": "a man is cooking pasta in a kitchen",
        "video2": "a woman sings a song on stage",
    }
    index = Index.create(tmp_path / "idx", dim=384, feature_model=MINILM, encoder=MINILM)
    ids = list(captions)
    index.add_videos(ids, minilm.encode([captions[v] for v in ids]), categories=[13, 17, 0])
    index.add_captions([f"{v}#0" for v in ids], ids, [captions[v] for v in ids])
    args = _parser().parse_args(["eval", index.uri, "--split", "all", "--via-index"])
    assert cmd_eval(args) == 0
    captured = capsys.readouterr()
    assert "not cached: encoding" in captured.err
    row = next(line for line in captured.out.splitlines() if line.startswith("baseline"))
    assert row.split()[1:4] == ["100.0", "100.0", "100.0"]
    assert len(caption_vectors(Index.open(index.uri), MINILM)) == 3  # cached by the CLI


def test_encoding_missing_captions_is_reported(tmp_path, minilm):
    index = Index.create(tmp_path / "idx", dim=384, feature_model=MINILM, encoder=MINILM)
    texts = ["a dog runs in the park", "a man cooks pasta", "a woman sings"]
    ids = ["v0", "v1", "v2"]
    index.add_videos(ids, minilm.encode(texts), categories=[13, 17, 0])
    index.add_captions([f"{v}#0" for v in ids], ids, texts)
    events: list[EvalProgress] = []
    evaluate_index(index, split=None, directions="t2v", progress=events.append)
    encode = [e for e in events if e.stage == "encode"]
    assert encode[0].step == 1 and encode[0].label == "baseline" and encode[0].done == 0
    assert (encode[-1].done, encode[-1].total) == (3, 3)
    assert "not cached: encoding" in encode[0].message
    assert [e.stage for e in events].index("rank") > len(encode) - 1
