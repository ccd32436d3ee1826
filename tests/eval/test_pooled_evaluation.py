"""evaluate_index(pools=("mean", "max")): MaxSim rows beside mean rows, on planted moments.

Each video has 2-s segments of noise and one *planted* segment near its caption's MiniLM vector
(real MiniLM); its pooled vector is the mean of its segments pulled toward the next video's
caption, so mean pooling confuses neighbours while the best segment still finds the right video.
Two videos have no segments: max pooling scores them by their pooled vector, as search does.
The max-pooled ranks are checked against a numpy brute-force reference built from what the
index stores (``Index.segments``) and the cached caption vectors.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from helpers.eval_data import (
    MINILM,
    PLANTED_BARE,
    PLANTED_SEGMENTS,
    build_planted_moments_index,
)

from vtrsearch import Index, NoSegmentsError, load_encoder
from vtrsearch.cli.eval import add_parsers, cmd_eval
from vtrsearch.cli.main import main
from vtrsearch.eval import evaluate_index, plan_evaluation
from vtrsearch.eval.metrics import breakdown, metrics_from_ranks
from vtrsearch.index.caption_cache import caption_vectors

N_SEGMENTS = PLANTED_SEGMENTS
BARE = PLANTED_BARE


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Index:
    return build_planted_moments_index(
        tmp_path_factory.mktemp("pooled") / "idx", load_encoder(MINILM)
    )


def reference(index: Index) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Brute-force MaxSim: (t2v ranks, v2t ranks, similarity matrix, gallery ids)."""
    ids = sorted(index.gallery().ids.tolist())
    assert ids == index.gallery().ids.tolist()
    cached = caption_vectors(index, MINILM, split=None)
    q = unit(cached.vectors)
    cv = np.array([ids.index(s.split("#")[0]) for s in cached.sen_ids])
    sim = np.empty((len(q), len(ids)))
    for j, vid in enumerate(ids):
        segments = index.segments(vid)
        vecs = [s.vector for s in segments] or [index.get(vid).vector]
        sim[:, j] = (q @ np.array(vecs).T).max(axis=1)
    n = len(q)
    gt = sim[np.arange(n), cv]
    other = np.ones_like(sim, dtype=bool)
    other[np.arange(n), cv] = False
    t2v = 1 + ((sim > gt[:, None]) & other).sum(1) + 0.5 * ((sim == gt[:, None]) & other).sum(1)
    v2t = []
    for j in range(len(ids)):
        own = cv == j
        col = sim[~own, j]
        best = sim[own, j].max()
        v2t.append(1 + (col > best).sum() + 0.5 * (col == best).sum())
    return t2v.astype(float), np.array(v2t, dtype=float), sim, ids


@pytest.fixture(scope="module")
def report(planted):
    return evaluate_index(planted, split=None, pools=("mean", "max"), progress=False)


def test_max_rows_beside_mean_rows_and_max_wins(report):
    assert [(r.label, r.pool) for r in report.rows] == [
        ("baseline [mean]", "mean"),
        ("baseline [max]", "max"),
    ]
    mean, best = report.rows
    for d in ("t2v", "v2t"):
        assert best.metrics[d].recall(1) == 100.0
        assert mean.metrics[d].recall(1) < 50.0
    assert report.baseline is mean and report.settings["pools"] == ["mean", "max"]
    assert report.settings["n_segments"] == (30 - len(BARE)) * N_SEGMENTS
    assert report.settings["n_videos_without_segments"] == len(BARE)
    assert any("2 of 30 videos have no segments" in n for n in report.notes)


def test_max_ranks_equal_brute_force(planted, report):
    t2v, v2t, _, _ = reference(planted)
    row = report.row("baseline [max]")
    np.testing.assert_array_equal(row.raw.t2v_ranks, t2v)
    assert row.metrics["t2v"] == metrics_from_ranks(t2v, (1, 5, 10))
    assert row.metrics["v2t"] == metrics_from_ranks(v2t, (1, 5, 10))
    category = np.array([i % 4 for i in range(30)])
    names = {c: planted.category_map.name(c) for c in range(4)}
    for d, ranks in (("t2v", t2v), ("v2t", v2t)):
        groups = breakdown(ranks, category, (1, 5, 10))
        assert row.per_category[d] == {names[c]: groups[c] for c in sorted(groups)}
    assert set(row.per_length) and sum(m.n_queries for m in row.per_length.values()) == 30


def test_max_pool_plot_data_and_examples_name_the_best_moment(planted, report):
    _, _, sim, ids = reference(planted)
    row = report.row("baseline [max]")
    np.testing.assert_allclose(row.raw.positive_similarity, np.diag(sim), atol=1e-5)
    examples = row.raw.examples["success"]
    assert examples
    for ex in examples:
        assert ex.score == pytest.approx(sim[ex.query, ids.index(ex.video_id)], abs=1e-5)
        assert [t[0] for t in ex.top] == [ids[j] for j in np.argsort(-sim[ex.query])[:5]]
        if ex.video_id in BARE:
            assert ex.video_id not in ex.moments
            continue
        segment, start, end = ex.moments[ex.video_id]
        q = caption_vectors(planted, MINILM).vectors[ex.query]
        scores = [s.vector @ q for s in planted.segments(ex.video_id)]
        assert segment == int(np.argmax(scores)) and (start, end) == (
            2.0 * segment,
            2.0 * segment + 2,
        )


def test_metrics_json_names_the_pool(report, tmp_path):
    data = json.loads(report.to_json(tmp_path / "metrics.json"))
    assert [(r["label"], r["pool"]) for r in data["rows"]] == [
        ("baseline [mean]", "mean"),
        ("baseline [max]", "max"),
    ]
    assert data["settings"]["pools"] == ["mean", "max"]
    assert set(data["rows"][1]["per_category"]) == {"t2v", "v2t"}


def test_max_only_via_index_and_progress(planted):
    events = []
    rep = evaluate_index(planted, split=None, pools="max", via_index=True, progress=events.append)
    assert [r.label for r in rep.rows] == ["baseline [max]"]
    via = rep.rows[0].via_index
    assert "pool=max" in via["path"] and all(v == 0 for v in via["difference"].values())
    assert "store_sample" not in via
    assert [e.label for e in events if e.stage == "rank"][0] == "baseline [max]"


def test_plans_and_refusals(planted, tmp_path):
    plan = plan_evaluation(planted, split=None, pools="max,mean", rerank="dsl")
    assert plan.pools == ("mean", "max")
    assert plan.row_labels == ["baseline [mean]", "baseline [max]", "baseline [mean] +DSL"]
    assert plan.steps == [
        ("rank", "baseline [mean]"),
        ("rerank", "baseline [mean] +DSL"),
        ("rank", "baseline [max]"),
    ]
    rep = evaluate_index(planted, split=None, pools="mean,max", rerank="dsl", progress=False)
    assert [r.label for r in rep.rows] == plan.row_labels
    with pytest.raises(ValueError, match="re-ranking \\(dsl\\) applies to mean-pooled rows"):
        plan_evaluation(planted, split=None, pools="max", rerank="dsl")
    with pytest.raises(ValueError, match="pools must be among"):
        plan_evaluation(planted, split=None, pools="median")
    bare = Index.create(tmp_path / "bare", dim=384, feature_model=MINILM, encoder=MINILM)
    bare.add_videos(["a"], planted.get("v00").vector[None, :], categories=[0])
    bare.add_captions(["a#0"], ["a"], ["a man rides a bicycle"])
    with pytest.raises(NoSegmentsError, match="has no segments: --pool max"):
        evaluate_index(bare, split=None, pools=("mean", "max"), progress=False)
    assert [r.label for r in evaluate_index(bare, split=None, progress=False).rows] == ["baseline"]


def test_cli_eval_pool_mean_max(planted, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="vtrsearch")
    add_parsers(parser.add_subparsers(dest="command"))
    out = tmp_path / "out"
    args = parser.parse_args(
        ["eval", planted.uri, "--split", "all", "--pool", "mean,max", "--out", str(out), "--quiet"]
    )
    assert cmd_eval(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "pool=mean,max" in lines[0]
    rows = {line.split("  ")[0].strip(): line.split() for line in lines[3:5]}
    assert set(rows) == {"baseline [mean]", "baseline [max]"}
    assert rows["baseline [max]"][2] == "100.0"  # t2v R@1
    data = json.loads((out / "metrics.json").read_text())
    assert [r["pool"] for r in data["rows"]] == ["mean", "max"]


def test_cli_refuses_max_without_segments(tmp_path, capsys):
    idx = Index.create(tmp_path / "bare", dim=4, feature_model="x", encoder=None)
    idx.add_videos(["a"], np.ones((1, 4), np.float32), categories=[0])
    idx.add_captions(["a#0"], ["a"], ["a caption"])
    code = main(["eval", idx.uri, "--split", "all", "--pool", "max", "--encoder", MINILM])
    err = capsys.readouterr().err
    assert code != 0
    assert "has no segments: --pool max (MaxSim) needs per-segment vectors" in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["eval", idx.uri, "--pool", "median"])
    assert "--pool expects mean, max or mean,max" in capsys.readouterr().err
