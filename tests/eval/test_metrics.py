"""Tests for vtrsearch.eval.metrics and .rerank against obviously-correct references."""

from __future__ import annotations

import math
import tracemalloc
import warnings

import numpy as np
import pytest

from vtrsearch.eval.metrics import (
    LENGTH_BUCKETS,
    TIES,
    RetrievalMetrics,
    breakdown,
    evaluate,
    evaluate_similarity,
    metrics_from_ranks,
    query_length_bucket,
    retrieval_ranks,
    similarity_ranks,
)
from vtrsearch.eval.metrics import counting as M  # the engine: private knobs patched below
from vtrsearch.eval.rerank import (
    RERANKS,
    DualSoftmaxRerank,
    QBNormRerank,
    QueryBankNorm,
    Reranker,
    dual_softmax,
    dual_softmax_ranks,
    qbnorm_ranks,
)

TIE_WEIGHT = {"average": 0.5, "optimistic": 0.0, "pessimistic": 1.0}
LN2, LN3 = math.log(2.0), math.log(3.0)

pytestmark = pytest.mark.filterwarnings("ignore:.*have no captions:UserWarning")


# ------------------------------------------------------------------------------------------
# Independent references
# ------------------------------------------------------------------------------------------


def reference_ranks(sim: np.ndarray, cv: np.ndarray, ties: str) -> dict[str, np.ndarray]:
    """Explicit counting per query; sim is (captions, videos)."""
    w = TIE_WEIGHT[ties]
    t2v = []
    for i in range(sim.shape[0]):
        gt = sim[i, cv[i]]
        others = [sim[i, j] for j in range(sim.shape[1]) if j != cv[i]]
        t2v.append(1 + sum(o > gt for o in others) + w * sum(o == gt for o in others))
    v2t, index = [], []
    for j in range(sim.shape[1]):
        own = [i for i in range(sim.shape[0]) if cv[i] == j]
        if not own:
            continue
        best = max(sim[i, j] for i in own)
        others = [sim[i, j] for i in range(sim.shape[0]) if cv[i] != j]
        v2t.append(1 + sum(o > best for o in others) + w * sum(o == best for o in others))
        index.append(j)
    return {"t2v": np.array(t2v, float), "v2t": np.array(v2t, float), "index": np.array(index)}


def clip4clip_compute_metrics(x: np.ndarray) -> dict[str, float]:
    """CLIP4Clip's compute_metrics (square matrix, ground truth on the diagonal)."""
    sx = np.sort(-x, axis=1)
    d = np.diag(-x)[:, np.newaxis]
    ind = np.where(sx - d == 0)[1]
    return {
        "R1": float(np.sum(ind == 0)) * 100 / len(ind),
        "R5": float(np.sum(ind < 5)) * 100 / len(ind),
        "R10": float(np.sum(ind < 10)) * 100 / len(ind),
        "MR": np.median(ind) + 1,
        "MeanR": np.mean(ind) + 1,
    }


def argsort_multi_caption(sim: np.ndarray, cv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Collaborative-experts style: sort each query's scores, take the gt position (best one)."""
    t2v = np.array([np.where(np.argsort(-sim[i]) == cv[i])[0][0] + 1 for i in range(len(cv))])
    v2t = []
    for j in range(sim.shape[1]):
        order = np.argsort(-sim[:, j])
        v2t.append(np.flatnonzero(cv[order] == j)[0] + 1)
    return t2v.astype(float), np.array(v2t, float)


def tied_data(seed: int = 0, n_videos: int = 60, dim: int = 6):
    """Integer vectors: every dot product is exact and ties are everywhere.

    Video 0 has a single caption, the last video none, the others 1-4 captions (shuffled).
    """
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 5, n_videos)
    counts[0], counts[-1] = 1, 0
    cv = rng.permutation(np.repeat(np.arange(n_videos), counts))
    text = rng.integers(-1, 2, (len(cv), dim)).astype(np.float32)
    video = rng.integers(-1, 2, (n_videos, dim)).astype(np.float32)
    text[5] = text[3]  # duplicate captions -> duplicate scores
    video[7] = video[8]  # duplicate videos
    return text, video, cv


# ------------------------------------------------------------------------------------------
# Ranks against the references
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("path", ["matmul", "similarity_fn", "full_matrix"])
def test_ranks_match_reference_with_ties(ties: str, path: str) -> None:
    text, video, cv = tied_data()
    sim = text.astype(np.float64) @ video.T.astype(np.float64)
    ref = reference_ranks(sim, cv, ties)
    assert len(set(ref["t2v"])) < len(ref["t2v"])  # plenty of ties planted
    chunk = 37  # smaller than, and not dividing, the number of captions
    assert len(cv) % chunk
    if path == "matmul":
        done: list[int] = []
        got = retrieval_ranks(
            text, video, cv, ties=ties, chunk_size=chunk, progress=lambda d, n: done.append(d)
        )
        assert done.count(len(cv)) == 1  # one pass: bracketed ties resolved without a fallback
    elif path == "similarity_fn":
        got = retrieval_ranks(
            text, video, cv, ties=ties, chunk_size=chunk, similarity_fn=lambda t, v: t @ v.T
        )
    else:
        got = similarity_ranks(sim.astype(np.float32), cv, ties=ties, chunk_size=chunk)
    np.testing.assert_array_equal(got["t2v"], ref["t2v"])
    np.testing.assert_array_equal(got["v2t"], ref["v2t"])
    np.testing.assert_array_equal(got["v2t_video_index"], ref["index"])
    np.testing.assert_array_equal(got["v2t_excluded"], [video.shape[0] - 1])


@pytest.mark.parametrize("ties", TIES)
def test_threaded_small_blocks_match_reference(ties: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Force many counting blocks split unevenly over 3 threads."""
    monkeypatch.setattr(M, "_BLOCK_BYTES", 8 * 60)  # 8 rows per block
    monkeypatch.setattr(M, "_n_threads", lambda: 3)
    text, video, cv = tied_data(seed=9)
    sim = text.astype(np.float64) @ video.T.astype(np.float64)
    ref = reference_ranks(sim, cv, ties)
    for got in (
        retrieval_ranks(text, video, cv, ties=ties, chunk_size=41),
        similarity_ranks(sim, cv, ties=ties, chunk_size=41),
    ):
        np.testing.assert_array_equal(got["t2v"], ref["t2v"])
        np.testing.assert_array_equal(got["v2t"], ref["v2t"])


def test_float64_inputs_and_single_direction() -> None:
    text, video, cv = tied_data(seed=1)
    sim = text.astype(np.float64) @ video.T.astype(np.float64)
    ref = reference_ranks(sim, cv, "average")
    got_t = retrieval_ranks(text.astype(np.float64), video, cv, directions=("t2v",))
    got_v = retrieval_ranks(text, video.astype(np.float64), cv, directions="v2t", chunk_size=5)
    assert set(got_t) == {"t2v"} and "t2v" not in got_v
    np.testing.assert_array_equal(got_t["t2v"], ref["t2v"])
    np.testing.assert_array_equal(got_v["v2t"], ref["v2t"])


def test_bracket_fallbacks_stay_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Too many bracketed scores, or a bracket that misses: both redo v2t exactly."""
    text, video, cv = tied_data(seed=2)
    ref = reference_ranks(text.astype(np.float64) @ video.T.astype(np.float64), cv, "average")
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(M, "_BAND_CAP", 4)
    got = retrieval_ranks(text, video, cv, chunk_size=50, progress=lambda d, n: calls.append(d))
    np.testing.assert_array_equal(got["v2t"], ref["v2t"])
    assert calls.count(len(cv)) == 2  # second pass happened and reported progress again

    monkeypatch.setattr(M, "_BAND_CAP", 1 << 23)
    real = M.matmul_band

    def wrong(*args):
        lo, hi = real(*args)
        return lo + 3, hi + 3  # misses every reference score

    monkeypatch.setattr(M, "matmul_band", wrong)
    got = retrieval_ranks(text, video, cv, chunk_size=50)
    np.testing.assert_array_equal(got["v2t"], ref["v2t"])
    np.testing.assert_array_equal(got["t2v"], ref["t2v"])


def test_untied_equals_clip4clip_and_all_tie_modes_agree() -> None:
    rng = np.random.default_rng(3)
    text = rng.standard_normal((150, 32))
    video = rng.standard_normal((150, 32))
    cv = np.arange(150)
    sim = text @ video.T
    want_t, want_v = clip4clip_compute_metrics(sim), clip4clip_compute_metrics(sim.T)
    results = [evaluate(text, video, cv, ties=t, chunk_size=64) for t in TIES]
    for res in results:
        assert res == results[0]
        for got, want in ((res["t2v"], want_t), (res["v2t"], want_v)):
            assert got.r1 == want["R1"] and got.r5 == want["R5"] and got.r10 == want["R10"]
            assert got.medr == want["MR"] and got.meanr == pytest.approx(want["MeanR"])


def test_untied_multi_caption_equals_argsort_reference() -> None:
    rng = np.random.default_rng(4)
    cv = np.repeat(np.arange(40), 5)
    video = rng.standard_normal((40, 16))
    text = video[cv] + rng.standard_normal((200, 16))  # better than chance
    want_t, want_v = argsort_multi_caption(text @ video.T, cv)
    for ties in TIES:
        got = retrieval_ranks(text, video, cv, ties=ties, chunk_size=33)
        np.testing.assert_array_equal(got["t2v"], want_t)
        np.testing.assert_array_equal(got["v2t"], want_v)


def test_all_equal_scores_get_no_free_recall() -> None:
    n = 20
    text, video, cv = np.ones((n, 4)), np.ones((n, 4)), np.arange(n)
    avg = evaluate(text, video, cv)
    # every query: 0 strictly higher, 19 others tied -> rank 1 + 19 / 2 = 10.5
    for m in avg.values():
        assert (m.r1, m.r5, m.r10, m.medr, m.meanr) == (0.0, 0.0, 0.0, 10.5, 10.5)
    opt = evaluate(text, video, cv, ties="optimistic")
    assert opt["t2v"].r1 == 100.0 and opt["v2t"].r1 == 100.0
    pes = evaluate(text, video, cv, ties="pessimistic")
    assert pes["t2v"].medr == 20.0 and pes["v2t"].r10 == 0.0


# ------------------------------------------------------------------------------------------
# Input validation
# ------------------------------------------------------------------------------------------


def test_nan_and_inf_raise_helpful_errors() -> None:
    text, video, cv = tied_data()
    bad = text.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"text contains NaN or inf \(first in row 4\)"):
        evaluate(bad, video, cv)
    bad_v = video.copy()
    bad_v[2, 0] = np.inf
    with pytest.raises(ValueError, match="video contains NaN or inf"):
        retrieval_ranks(text, bad_v, cv, similarity_fn=lambda t, v: t @ v.T)

    def nan_fn(t: np.ndarray, v: np.ndarray) -> np.ndarray:
        s = t @ v.T
        s[0, 0] = np.nan
        return s

    with pytest.raises(ValueError, match="similarities contain NaN or inf"):
        retrieval_ranks(text, video, cv, similarity_fn=nan_fn)
    sim = text @ video.T
    sim[3, 3] = -np.inf
    with pytest.raises(ValueError, match="similarities contain NaN or inf"):
        evaluate_similarity(sim, cv)
    with pytest.raises(ValueError, match="similarities contain NaN or inf"):
        evaluate_similarity(text @ video.T, cv, directions=("v2t",), v2t_sim=sim)
    with pytest.raises(ValueError, match="NaN or inf"):
        metrics_from_ranks(np.array([1.0, np.nan]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"caption_video": np.arange(3)}, r"expected \(200,\), got \(3,\)"),
        ({"caption_video": np.full(200, 50)}, r"must be in \[0, 50\)"),
        ({"caption_video": np.zeros(200)}, "integer video rows"),
        ({"ties": "random"}, "ties must be one of"),
        ({"directions": ("t2i",)}, "directions must be"),
        ({"chunk_size": 0}, "chunk_size must be a positive int"),
        ({"video": np.zeros((50, 7))}, "dimensions differ"),
        ({"text": np.zeros(200)}, r"text must be 2-D \(n, d\)"),
        ({"similarity_fn": lambda t, v: t @ v[:-1].T}, r"similarity_fn must return shape"),
    ],
)
def test_bad_input_is_a_clear_value_error(kwargs: dict, match: str) -> None:
    rng = np.random.default_rng(0)
    args = {
        "text": rng.standard_normal((200, 8)),
        "video": rng.standard_normal((50, 8)),
        "caption_video": np.arange(200) % 50,
    }
    args.update({k: kwargs.pop(k) for k in list(kwargs) if k in args})
    with pytest.raises(ValueError, match=match):
        retrieval_ranks(args["text"], args["video"], args["caption_video"], **kwargs)


def test_video_without_captions_is_excluded_and_reported() -> None:
    text, video, cv = tied_data()
    with pytest.warns(UserWarning, match="1 of 60 videos have no captions"):
        res = evaluate(text, video, cv)
    assert res["v2t"].n_queries == 59 and res["t2v"].n_queries == len(cv)


def test_progress_and_chunking_keep_memory_small() -> None:
    rng = np.random.default_rng(5)
    text = rng.standard_normal((6000, 32)).astype(np.float32)
    video = rng.standard_normal((600, 32)).astype(np.float32)
    cv = np.arange(6000) % 600
    calls: list[tuple[int, int]] = []
    tracemalloc.start()
    retrieval_ranks(text, video, cv, chunk_size=512, progress=lambda d, n: calls.append((d, n)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 6000 * 600 * 4 / 3  # far below the full similarity matrix (14.4 MB)
    assert calls[-1] == (6000, 6000) and len(calls) == 12


# ------------------------------------------------------------------------------------------
# Metrics from ranks, breakdowns
# ------------------------------------------------------------------------------------------


def test_metrics_from_ranks_even_median_and_extra_k() -> None:
    m = metrics_from_ranks(np.array([1, 2, 3, 10, 60, 4.5]), ks=(1, 5, 10, 50))
    assert m.medr == 3.75  # middle values 3 and 4.5
    assert m.r1 == pytest.approx(100 / 6) and m.r5 == pytest.approx(400 / 6)
    assert m.r10 == pytest.approx(500 / 6) and m.recall(50) == pytest.approx(500 / 6)
    assert m.meanr == pytest.approx(80.5 / 6) and m.n_queries == 6
    assert metrics_from_ranks(np.array([1.0, 2.0, 3.0, 10.0])).medr == 2.5
    d = m.to_dict()
    assert list(d) == ["r1", "r5", "r10", "r50", "medr", "meanr", "n_queries"]
    with pytest.raises(ValueError, match="R@100 was not computed"):
        m.recall(100)
    with pytest.raises(ValueError, match="empty"):
        metrics_from_ranks(np.array([]))
    with pytest.raises(ValueError, match="1-based"):
        metrics_from_ranks(np.array([0.0, 1.0]))


def test_breakdown_groups_sum_to_total() -> None:
    rng = np.random.default_rng(6)
    ranks = rng.integers(1, 30, 500).astype(float)
    cats = rng.choice(["sports", "music", "news"], 500)
    out = breakdown(ranks, cats, ks=(1, 5, 10, 20))
    assert list(out) == ["music", "news", "sports"]
    assert sum(m.n_queries for m in out.values()) == 500
    assert all(isinstance(m, RetrievalMetrics) and 20 in m.extra_recalls for m in out.values())
    np.testing.assert_allclose(out["news"].meanr, ranks[cats == "news"].mean())
    by_len = breakdown(ranks[:3], [query_length_bucket(q) for q in ["a b", "x " * 15, "y " * 30]])
    assert list(by_len) == list(LENGTH_BUCKETS)
    with pytest.raises(ValueError, match="one label per rank"):
        breakdown(ranks, cats[:10])
    with pytest.raises(ValueError, match="mutually sortable"):
        breakdown(ranks[:2], [1, "a"])
    assert list(breakdown(ranks[:3], [2, 1, 2])) == [1, 2]


def test_query_length_bucket_edges() -> None:
    assert query_length_bucket("  one   two\tthree ") == "1-10"
    assert query_length_bucket(" ".join(["w"] * 10)) == "1-10"
    assert query_length_bucket(" ".join(["w"] * 11)) == "11-20"
    assert query_length_bucket(" ".join(["w"] * 20)) == "11-20"
    assert query_length_bucket(" ".join(["w"] * 21)) == "21+"


# ------------------------------------------------------------------------------------------
# Re-ranking
# ------------------------------------------------------------------------------------------


def test_dual_softmax_by_hand_2x2() -> None:
    # T = 1, sim = [[ln3, ln2], [0, ln2]]
    # column 0: exp = [3, 1] -> prior [3/4, 1/4]; column 1: exp = [2, 2] -> prior [1/2, 1/2]
    # result = [[ln3 * 3/4, ln2 / 2], [0 * 1/4, ln2 / 2]]
    out = dual_softmax(np.array([[LN3, LN2], [0.0, LN2]]), temperature=1.0)
    np.testing.assert_allclose(out, [[0.8239592165, 0.3465735903], [0.0, 0.3465735903]])


def test_dual_softmax_changes_a_rank_3x3() -> None:
    # T = 1; captions are rows, caption i belongs to video i.
    sim = np.array([[LN3, -LN2, 0.0], [LN3, LN2, 0.0], [LN3, -LN2, 2 * LN2]])
    # column 0: exp = [3, 3, 3]       -> each ln3 * 1/3          = 0.3662040962
    # column 1: exp = [1/2, 2, 1/2]   -> -ln2/6, ln2*2/3, -ln2/6 = -0.1155245301, 0.4620981204
    # column 2: exp = [1, 1, 4]       -> 0, 0, ln4 * 4/6         = 0.9241962407
    a, b, c, d = 0.3662040962, -0.1155245301, 0.4620981204, 0.9241962407
    out = dual_softmax(sim, temperature=1.0)
    np.testing.assert_allclose(out, [[a, b, 0.0], [a, c, 0.0], [a, b, d]], rtol=1e-9)
    # caption 1: raw ln3 (video 0) > ln2 (own) -> rank 2; after DSL 0.462 > 0.366 -> rank 1
    cv = np.arange(3)
    assert evaluate_similarity(sim, cv)["t2v"].r1 == pytest.approx(200 / 3)
    res = dual_softmax_ranks(sim, cv, temperature=1.0)
    np.testing.assert_array_equal(res["t2v"], [1.0, 1.0, 1.0])
    # v2t takes the prior over the video axis: same as t2v-style ranks on dual_softmax(sim.T)
    swapped = similarity_ranks(dual_softmax(sim.T, 1.0), cv, directions=("t2v",))["t2v"]
    np.testing.assert_array_equal(res["v2t"], swapped)
    assert metrics_from_ranks(res["v2t"]) == metrics_from_ranks(swapped)


def test_dual_softmax_is_stable_and_keeps_float32() -> None:
    sim = np.array([[50.0, -50.0], [49.0, 10.0]], dtype=np.float32)
    out = dual_softmax(sim)  # exp(5000) would overflow without the max shift
    assert out.dtype == np.float32 and np.isfinite(out).all()
    with pytest.raises(ValueError, match="NaN or inf"):
        dual_softmax(np.array([[np.nan, 1.0]]))


def test_query_bank_norm_by_hand() -> None:
    # beta = 1, bank x gallery sims [[ln3, 0], [0, ln2]]
    # Z = [3 + 1, 1 + 2] = [4, 3]; bank top-1: item 0, item 1 -> both activated
    bank_sims = np.array([[LN3, 0.0], [0.0, LN2]])
    qb = QueryBankNorm.from_bank_similarities(bank_sims, beta=1.0)
    np.testing.assert_allclose(qb.log_normalizer, [math.log(4), math.log(3)])
    # query [ln2, ln1.8] -> [2/4, 1.8/3] = [0.5, 0.6]: the order flips
    q = np.array([LN2, math.log(1.8)])
    np.testing.assert_allclose(qb.rescore(q), [0.5, 0.6])
    batch = qb.rescore(np.stack([q, q[::-1]]))
    np.testing.assert_allclose(batch, [[0.5, 0.6], [1.8 / 4, 2 / 3]])
    # same bank from vectors: gallery = identity, bank rows = the sims themselves
    qb2 = QueryBankNorm(bank_sims, np.eye(2), beta=1.0)
    np.testing.assert_allclose(qb2.rescore(q), [0.5, 0.6])
    np.testing.assert_allclose(qb2.similarity(q[None], np.eye(2)), [[0.5, 0.6]])


def test_query_bank_norm_dynamic_activation() -> None:
    # bank [[ln3, 0], [ln2, 0]]: both bank queries' top-1 is item 0 -> activation {0}
    # Z = [3 + 2, 1 + 1] = [5, 2]
    qb = QueryBankNorm.from_bank_similarities(np.array([[LN3, 0.0], [LN2, 0.0]]), beta=1.0)
    np.testing.assert_array_equal(qb.activation, [True, False])
    # top-1 is item 0 (activated): normalised -> [2/5, 1.8/2] = [0.4, 0.9]
    np.testing.assert_allclose(qb.rescore(np.array([LN2, math.log(1.8)])), [0.4, 0.9])
    # top-1 is item 1 (not activated): left unchanged
    np.testing.assert_allclose(qb.rescore(np.array([0.0, LN2])), [0.0, LN2])
    plain = QueryBankNorm.from_bank_similarities(
        np.array([[LN3, 0.0], [LN2, 0.0]]), beta=1.0, dynamic=False
    )
    np.testing.assert_allclose(plain.rescore(np.array([0.0, LN2])), [1 / 5, 1.0])


def test_query_bank_norm_stable_and_validates() -> None:
    rng = np.random.default_rng(7)
    bank, gallery = rng.standard_normal((300, 8)), rng.standard_normal((20, 8))
    qb = QueryBankNorm(bank, gallery, beta=1000.0, k=2, chunk_size=64)  # exp(1000 * 5) overflows
    out = qb.rescore(rng.standard_normal((4, 20)))
    assert out.shape == (4, 20) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="20 columns"):
        qb.rescore(np.zeros(19))
    with pytest.raises(ValueError, match="dimensions differ"):
        QueryBankNorm(bank, gallery[:, :4])
    with pytest.raises(ValueError, match="beta must be a positive"):
        QueryBankNorm(bank, gallery, beta=0.0)


def test_similarity_fn_rerank_plugs_in() -> None:
    rng = np.random.default_rng(8)
    text, video = rng.standard_normal((90, 8)), rng.standard_normal((30, 8))
    cv = np.arange(90) % 30
    qb = QueryBankNorm(rng.standard_normal((200, 8)), video, beta=5.0, dynamic=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = retrieval_ranks(text, video, cv, similarity_fn=qb.similarity, chunk_size=16)
    ref = reference_ranks(qb.rescore(text @ video.T), cv, "average")
    np.testing.assert_array_equal(got["t2v"], ref["t2v"])
    np.testing.assert_array_equal(got["v2t"], ref["v2t"])


def test_rerankers_share_one_interface() -> None:
    rng = np.random.default_rng(9)
    q, g = rng.standard_normal((40, 8)), rng.standard_normal((10, 8))
    cv = np.arange(40) % 10
    dsl = DualSoftmaxRerank(temperature=3.0)
    qb = QBNormRerank(rng.standard_normal((50, 8)), rng.standard_normal((12, 8)), bank_name="b")
    for reranker in (dsl, qb):
        assert isinstance(reranker, Reranker) and reranker.kind in RERANKS
    got = dsl.ranks(q, g, cv, ties="average", directions=("t2v", "v2t"))
    want = dual_softmax_ranks(q @ g.T, cv, temperature=3.0)
    for key in ("t2v", "v2t", "v2t_video_index"):
        np.testing.assert_array_equal(got[key], want[key])
    assert "temperature 3" in dsl.note and "transductive" in dsl.note
    calls: list[tuple[int, int]] = []
    got = qb.ranks(
        q, g, cv, ties="average", directions=("t2v",), progress=lambda *a: calls.append(a)
    )
    want = qbnorm_ranks(q, g, cv, qb.bank_text, qb.bank_video, directions=("t2v",))
    np.testing.assert_array_equal(got["t2v"], want["t2v"])
    assert calls and calls[-1] == (40, 40)
    assert "50 captions (t2v), 12 videos (v2t)" in qb.note and "bank from b" in qb.note
    with pytest.raises(ValueError, match="Dual Softmax needs the full 40 x 10"):
        DualSoftmaxRerank(max_bytes=100).ranks(q, g, cv, ties="average", directions=("t2v",))
