"""The MSVD and ActivityNet protocols on the planted folders: the figures the design implies,
an independent numpy computation of each, and the same figures on every search path."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
from helpers.eval_data import make_head

from vtrsearch import Index, NoSegmentsError
from vtrsearch.encoders.spec import QueryTruncatedWarning
from vtrsearch.eval.metrics import metrics_from_ranks
from vtrsearch.eval.metrics.iou import moment_metrics, temporal_iou
from vtrsearch.eval.protocols import PROTOCOLS, MomentReport, run_protocol
from vtrsearch.eval.protocols.paragraphs import video_paragraphs
from vtrsearch.index.caption_cache import caption_vectors
from vtrsearch.index.migrate import migrate_index

MINILM = "hf:minilm"


def _ranks(sim: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """1-based rank of column ``truth[i]`` in row ``i`` (ties: none in these data)."""
    order = np.argsort(-sim, axis=1, kind="stable")
    return np.argmax(order == truth[:, None], axis=1) + 1.0


def _planted_moments(planted) -> dict[str, dict]:
    out = {}
    for scope in ("video", "corpus"):
        ious = np.zeros((len(planted.ious[scope]["r1"]), 5))
        ious[:, 0], ious[:, 1] = planted.ious[scope]["r1"], planted.ious[scope]["r5"]
        out[scope] = moment_metrics(ious).to_dict()
    return out


@pytest.fixture(scope="module")
def moments_report(anet_index) -> MomentReport:
    return run_protocol("activitynet-moments", anet_index, progress=False)


def test_msvd_protocol_gives_the_planted_figures(planted_msvd, msvd_index) -> None:
    report = run_protocol("msvd", msvd_index, progress=False)
    s = report.settings
    assert s["protocol"] == "msvd" and s["split"] == "test" and s["n_videos"] == 14
    assert s["n_queries"] == {"t2v": planted_msvd.n_queries, "v2t": 13}
    m = report.row("baseline").metrics
    assert m["t2v"].r1 == pytest.approx(planted_msvd.t2v_r1)  # 34 of 40 captions
    assert m["v2t"].r1 == pytest.approx(planted_msvd.v2t_r1)  # 11 of 13 clips
    assert report.row("baseline").per_category == {}  # no categories: omitted, not faked
    assert any("no per-category breakdown" in n for n in report.notes)
    assert any("standard split has 670 videos, this one 14" in n for n in report.notes)
    assert json.loads(report.to_json())["settings"]["protocol"] == "msvd"
    # independently: cached caption vectors against the gallery, ranked with argsort
    g = msvd_index.gallery()
    rows = np.flatnonzero(g.split == "test")
    ids = g.ids[rows].tolist()
    cached = caption_vectors(msvd_index, MINILM, split="test")
    table = msvd_index.caption_table(columns=["sen_id", "video_id"])
    video_of = dict(zip(table["sen_id"].to_pylist(), table["video_id"].to_pylist(), strict=True))
    truth = np.array([ids.index(video_of[s]) for s in cached.sen_ids])
    sim = cached.vectors @ g.vectors[rows].T
    t2v = metrics_from_ranks(_ranks(sim, truth))
    assert (t2v.r1, t2v.r5, t2v.medr) == (m["t2v"].r1, m["t2v"].r5, m["t2v"].medr)
    best = [
        min(_ranks(sim.T[[v]], np.array([c]))[0] for c in np.flatnonzero(truth == v))
        for v in range(len(ids))
        if (truth == v).any()
    ]
    v2t = metrics_from_ranks(np.array(best))
    assert (v2t.r1, v2t.r5) == (m["v2t"].r1, m["v2t"].r5)
    swapped = {ids.index(v) for v in planted_msvd.swapped}
    assert all(r > 1 for r, v in zip(_ranks(sim, truth), truth, strict=True) if v in swapped)


def test_paragraph_protocol_and_truncation(planted_anet, anet_index, minilm) -> None:
    report = run_protocol("activitynet-paragraph", anet_index, progress=False)
    s = report.settings
    assert s["protocol"] == "activitynet-paragraph" and s["split"] == "val_1"
    m = report.row("baseline").metrics
    assert m["t2v"].n_queries == 19 and m["t2v"].r1 == pytest.approx(planted_anet.paragraph_r1)
    assert m["v2t"].r1 == pytest.approx(planted_anet.paragraph_r1)
    # paragraphs: sentences by start time, the untimed one last, the blank one left out
    data_rows, paragraphs = video_paragraphs(anet_index, _split(anet_index, "val_1"))
    ids = anet_index.gallery().ids[anet_index.gallery().split == "val_1"][data_rows].tolist()
    assert dict(zip(ids, paragraphs, strict=True)) == planted_anet.paragraphs
    # truncation: exactly the long paragraph, by (its tokens - 256)
    (t,) = s["truncation"]
    long_tokens = minilm.token_counts([planted_anet.paragraphs[planted_anet.long_video]])[0]
    assert t["context_length"] == 256 and t["n_truncated"] == 1 and t["n_paragraphs"] == 19
    assert t["excess_tokens"]["max"] == long_tokens - 256 > 0
    assert any("1 of 19 paragraphs (5.3%) exceed its 256-token context" in n for n in report.notes)
    # independently: encode the planted paragraphs, rank against the pooled gallery
    g = anet_index.gallery()
    rows = np.flatnonzero(g.split == "val_1")
    texts = [planted_anet.paragraphs[v] for v in g.ids[rows].tolist()]
    with pytest.warns(QueryTruncatedWarning):  # the long paragraph, as reported above
        ranks = _ranks(minilm.encode(texts) @ g.vectors[rows].T, np.arange(len(rows)))
    assert metrics_from_ranks(ranks).r1 == m["t2v"].r1
    missed = {g.ids[rows][i] for i in np.flatnonzero(ranks > 1)}
    assert missed == set(planted_anet.swapped)


def test_paragraph_protocol_with_maxsim(planted_anet, anet_index) -> None:
    """--pool mean,max: the paragraph also meets each video's best segment (its background
    frames carry its paragraph), and the swapped pair still misses."""
    report = run_protocol(
        "activitynet-paragraph", anet_index, pools=("mean", "max"), progress=False
    )
    assert [r.label for r in report.rows] == ["baseline [mean]", "baseline [max]"]
    assert report.settings["pools"] == ["mean", "max"]
    for row in report.rows:
        assert row.metrics["t2v"].r1 == pytest.approx(planted_anet.paragraph_r1)


def _split(index: Index, split: str):
    from vtrsearch.eval.inputs import load_split

    return load_split(index, split)


def test_moment_protocol_gives_the_planted_figures(planted_anet, moments_report) -> None:
    report = moments_report
    assert report.settings["protocol"] == "activitynet-moments"
    assert report.settings["n_queries"] == {"t2v": 62}  # 19 x 3 events + 5 long ones
    want = _planted_moments(planted_anet)
    got = report.row("baseline").metrics
    for scope in ("video", "corpus"):
        assert got[scope].to_dict() == pytest.approx(want[scope])
    # the design: within-video R@1 misses only the in-video distractor, corpus R@1 one more
    assert got["video"].at(1, 0.3) == pytest.approx(61 / 62 * 100)
    assert got["corpus"].at(1, 0.3) == pytest.approx(60 / 62 * 100)
    assert got["video"].at(5, 0.3) == 100.0
    table = report.format_table()
    assert "within its video" in table and "R@5 IoU=0.7" in table and "mIoU" in table
    assert json.loads(report.to_json())["rows"][0]["metrics"]["corpus"]["n_queries"] == 62


def test_moment_protocol_matches_a_brute_force_over_segments(anet_index, moments_report) -> None:
    """Top-5 segments by numpy over the stored segments, IoU with the stored caption times."""
    g = anet_index.gallery()
    block = g.segments
    times = anet_index.caption_times(g.ids[g.split == "val_1"].tolist())
    cached = caption_vectors(anet_index, MINILM, split="val_1")
    vec = dict(zip(cached.sen_ids, cached.vectors, strict=True))
    val_rows = set(np.flatnonzero(g.split == "val_1").tolist())
    in_split = np.isin(block.video_row, list(val_rows))
    found = {"video": [], "corpus": []}
    for sen, vid, a, b in zip(*(times[c].to_pylist() for c in times.column_names), strict=True):
        q = vec[sen] / np.linalg.norm(vec[sen])
        scores = block.vectors @ q
        row = g.row(vid)
        for scope, keep in (("video", block.video_row == row), ("corpus", in_split)):
            cand = np.flatnonzero(keep)
            top = cand[np.lexsort((cand, -scores[cand]))[:5]]
            same = block.video_row[top] == row
            pred = np.stack([block.start[top], block.end[top]], axis=1)
            found[scope].append(np.where(same, temporal_iou(pred, [a, b]), 0.0))
    got = moments_report.row("baseline").metrics
    for scope in found:
        want = moment_metrics(np.array(found[scope])).to_dict()
        assert got[scope].to_dict() == pytest.approx(want)


def test_moment_figures_are_the_same_on_the_store_and_on_qdrant(
    anet_index, moments_report, tmp_path
) -> None:
    want = {s: m.to_dict() for s, m in moments_report.row("baseline").metrics.items()}
    on_store = Index.open(anet_index.uri, gallery="store")
    assert on_store.searches_on_store
    got = run_protocol("activitynet-moments", on_store, progress=False)
    assert {s: m.to_dict() for s, m in got.row("baseline").metrics.items()} == want
    dst = f"qdrant+local://:memory:/anet{uuid.uuid4().hex[:8]}"
    migrate_index(anet_index.uri, dst, progress=False)
    copy = Index.open(dst)
    assert copy.caption_times().num_rows == anet_index.caption_times().num_rows
    got = run_protocol("activitynet-moments", copy, progress=False)
    assert {s: m.to_dict() for s, m in got.row("baseline").metrics.items()} == want


def test_heads_get_their_own_rows(anet_index, tmp_path) -> None:
    head = make_head(tmp_path / "near-identity")
    report = run_protocol("activitynet-moments", anet_index, heads=[head], progress=False)
    assert [r.label for r in report.rows] == ["baseline", "head:near-identity"]
    assert report.rows[1].head == str(head)
    assert report.rows[1].metrics["video"].n_queries == 62
    para = run_protocol("activitynet-paragraph", anet_index, heads=[head], progress=False)
    assert [r.label for r in para.rows] == ["baseline", "head:near-identity"]
    assert len(para.settings["truncation"]) == 1  # the head shares its encoder's truncation


def test_protocol_errors(msvd_index, tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown protocol 'youcook'; choose one of msvd"):
        run_protocol("youcook", msvd_index)
    with pytest.raises(ValueError, match="no caption of split 'test' has start/end times"):
        run_protocol("activitynet-moments", msvd_index, split="test", progress=False)
    bare = Index.create(tmp_path / "bare2", dim=384, encoder=MINILM, feature_model=MINILM)
    bare.add_videos(["a"], np.ones((1, 384), np.float32), categories=[0], splits=["val_1"])
    bare.add_captions(["s"], ["a"], ["a dog runs"], starts=[0.0], ends=[1.0])
    with pytest.raises(NoSegmentsError, match="moment retrieval needs segments"):
        run_protocol("activitynet-moments", bare, progress=False)
    assert set(PROTOCOLS) == {"msvd", "activitynet-paragraph", "activitynet-moments"}


def test_split_filters_keep_the_corpus_search_in_val_1(planted_anet, anet_index, minilm) -> None:
    """A train video holds a frame equal to a val_1 sentence: only an unfiltered search finds
    it, so the corpus figures above (unaffected) show the split filter at work."""
    vid = planted_anet.val_videos[10]
    sentence = anet_index.captions(vid)[2]  # its C event (captions come in sen_id order)
    q = minilm.encode([sentence])[0]
    anywhere = anet_index.search_moments(q, k=1)[0]
    assert anet_index.get(anywhere.video_id).split == "train"
    in_val = anet_index.search_moments(q, k=1, split="val_1")[0]
    assert in_val.video_id == vid
    assert {h.video_id for h in anet_index.search(q, k=30, split="val_1")} <= set(
        planted_anet.val_videos
    )
