"""Compact galleries (float16, int8): results equal the float32 exact answer.

Every search under a compact precision is compared with the same search on a float32 handle
of the same index (ties-aware: equal scores, and equal ids except inside a run of scores
within 1e-6 of each other), with filters, ``search_many``, ``pool="max"`` and moments.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from vtrsearch import Index
from vtrsearch.index.compact import (
    AUTO_FLOAT32_BYTES,
    CompactVectors,
    first_pass,
    rescored,
    resolve_precision,
)
from vtrsearch.index.gallery import top_k_of_scores

DIM = 32
N = 1500
COMPACT = ["float16", "int8"]


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def clustered(rng: np.random.Generator, n: int, clusters: int = 12) -> np.ndarray:
    """Tight clusters around a shared direction, with exact duplicates (score ties)."""
    mean = unit(rng.normal(size=DIM))
    centres = unit(rng.normal(size=(clusters, DIM)) + 2 * mean)
    x = unit(centres[rng.integers(0, clusters, n)] + 0.08 * rng.normal(size=(n, DIM)))
    x[n // 2 : n // 2 + 20] = x[5]  # 21 identical vectors: ties broken by row
    return x


def same_hits(got: list, want: list) -> None:
    """Equal scores (1e-6) and ids, ids compared as sets within runs of near-equal scores."""
    assert len(got) == len(want)
    gs = np.array([h.score for h in got])
    ws = np.array([h.score for h in want])
    np.testing.assert_allclose(gs, ws, atol=1e-6)
    start = 0
    for i in range(1, len(want) + 1):
        if i == len(want) or ws[i - 1] - ws[i] > 1e-6:
            run_got = {h.video_id for h in got[start:i]}
            run_want = {h.video_id for h in want[start:i]}
            if i == len(want):  # the last run may be cut by k: it must lie in the tie group
                assert len(run_got) == len(run_want)
            else:
                assert run_got == run_want
            start = i


@pytest.fixture(scope="module", params=["random", "clustered"])
def index_uri(request, tmp_path_factory) -> str:
    rng = np.random.default_rng(7)
    uri = str(tmp_path_factory.mktemp("compact") / "idx")
    index = Index.create(uri, dim=DIM, categories=["a", "b", "c", "d"])
    x = unit(rng.normal(size=(N, DIM))) if request.param == "random" else clustered(rng, N)
    ids = [f"v{i:05d}" for i in range(N)]
    index.add_videos(
        ids,
        x,
        categories=[i % 4 for i in range(N)],
        splits=["tr" if i % 3 else "te" for i in range(N)],
    )
    seg_ids, starts, ends = [], [], []
    for i in range(0, N, 3):  # every third video has 1-4 segments, the rest none (bare)
        for s in range(1 + i % 4):
            seg_ids.append(ids[i])
            starts.append(float(s))
            ends.append(s + 0.9)
    seg_vecs = unit(x[[int(v[1:]) for v in seg_ids]] + 0.2 * rng.normal(size=(len(seg_ids), DIM)))
    index.add_segments(seg_ids, starts, ends, seg_vecs)
    return uri


def queries(n: int = 6, seed: int = 3) -> np.ndarray:
    return unit(np.random.default_rng(seed).normal(size=(n, DIM)))


FILTERS = [
    {},
    {"categories": [1]},
    {"split": "te"},
    {"categories": [2], "split": "tr"},
]


@pytest.mark.parametrize("precision", COMPACT)
def test_search_equals_float32(index_uri, precision):
    exact = Index.open(index_uri, precision="float32")
    compact = Index.open(index_uri, precision=precision)
    assert compact.precision == precision and exact.precision == "float32"
    x = exact.gallery().vectors
    for q in [*queries(), x[5], x[N // 2 + 3]]:  # the last two: queries equal to stored rows
        for filters in FILTERS:
            for k in (1, 10, 60):
                same_hits(compact.search(q, k=k, **filters), exact.search(q, k=k, **filters))


@pytest.mark.parametrize("precision", COMPACT)
def test_search_many_equals_float32(index_uri, precision):
    exact = Index.open(index_uri, precision="float32")
    compact = Index.open(index_uri, precision=precision)
    for filters in FILTERS[:3]:
        got = compact.search_many(queries(9), k=15, **filters)
        want = exact.search_many(queries(9), k=15, **filters)
        for g, w in zip(got, want, strict=True):
            same_hits(g, w)


@pytest.mark.parametrize("precision", COMPACT)
def test_maxsim_equals_float32(index_uri, precision):
    exact = Index.open(index_uri, precision="float32")
    compact = Index.open(index_uri, precision=precision)
    assert compact.gallery().segments.compact.precision == precision
    for filters in FILTERS:
        for q in queries(4):
            same_hits(
                compact.search(q, k=12, pool="max", **filters),
                exact.search(q, k=12, pool="max", **filters),
            )
        for g, w in zip(
            compact.search_many(queries(4), k=12, pool="max", **filters),
            exact.search_many(queries(4), k=12, pool="max", **filters),
            strict=True,
        ):
            same_hits(g, w)


@pytest.mark.parametrize("precision", COMPACT)
def test_moments_equal_float32(index_uri, precision):
    exact = Index.open(index_uri, precision="float32")
    compact = Index.open(index_uri, precision=precision)
    for q in queries(4):
        for per_video in (1, 3):
            for filters in FILTERS[:2]:
                got = compact.search_moments(q, k=10, per_video=per_video, **filters)
                want = exact.search_moments(q, k=10, per_video=per_video, **filters)
                key = [(m.video_id, m.segment, round(m.score, 5)) for m in got]
                assert key == [(m.video_id, m.segment, round(m.score, 5)) for m in want]


@pytest.mark.parametrize("kernel", ["default", "numpy"])
@pytest.mark.parametrize("precision", COMPACT)
def test_compact_scores_within_bound(precision, kernel, monkeypatch):
    if kernel == "numpy":  # as without torch (the clip extra)
        monkeypatch.setattr("vtrsearch.index.compact._torch", lambda: None)
    x = clustered(np.random.default_rng(1), 4000)
    c = CompactVectors(x, precision)
    assert c.nbytes < x.nbytes / (1.9 if precision == "float16" else 3.5)
    for q in queries(20, seed=9):
        err = np.abs(c.scores(q) - x @ q).max()
        assert 0 < err <= c.bound(q)
        rows = np.arange(0, 4000, 7)
        err_rows = np.abs(c.scores(q, rows) - x[rows] @ q).max()
        assert err_rows <= c.bound(q)
    many = c.scores_many(queries(5, seed=2))
    assert np.abs(many - queries(5, seed=2) @ x.T).max() <= max(c.bound(q) for q in queries(5, 2))


def rescored_top10(approx, bound, exact):
    """:func:`rescored` top 10 over ``exact`` scores, with the sizes of the re-scored sets."""
    calls = []

    def exact_of(cand):
        calls.append(len(cand))
        return exact[cand]

    def select(scores, cand):
        idx, top = top_k_of_scores(scores, 10)
        return cand[idx], top

    rows, top = rescored(approx, bound, exact_of, select, 10)
    return rows, top, calls


def test_rescored_widens_until_exact():
    """Compact scores that put the true best rows last force the candidates to widen."""
    rng = np.random.default_rng(2)
    exact = rng.uniform(0, 1, 5000).astype(np.float32)
    bound = 0.05
    approx = exact - bound * (exact > 0.97)  # the true top rows look worse by the full bound
    approx = approx.astype(np.float32)
    rows, top, calls = rescored_top10(approx, bound, exact)
    want_rows, want_top = top_k_of_scores(exact, 10)
    assert rows.tolist() == want_rows.tolist() and np.array_equal(top, want_top)
    assert calls[0] == first_pass(10) and len(calls) > 1  # it did widen


def test_large_score_vectors_select_like_a_stable_sort():
    """From 65,536 scores up the k-th best comes from torch's topk (when torch is loaded):
    the rows, ties included, are still those of a stable descending sort, and re-scoring
    through the one-step threshold widening stays exact."""
    import torch  # noqa: F401  (loaded, as it is once a compact kernel ran)

    rng = np.random.default_rng(5)
    n = 200_000
    exact = np.round(rng.uniform(0, 1, n), 3).astype(np.float32)  # many ties
    for k in (1, 10, 1000):
        rows, top = top_k_of_scores(exact, k)
        want = np.lexsort((np.arange(n), -exact))[:k]
        assert rows.tolist() == want.tolist() and np.array_equal(top, exact[want])
    bound = 0.01
    approx = (exact + rng.uniform(-bound, bound, n)).astype(np.float32)
    best = exact > 0.995  # the true best look worse by almost the bound: forces the widening
    approx[best] = exact[best] - bound * 0.999
    rows, top, calls = rescored_top10(approx, bound, exact)
    want = np.lexsort((np.arange(n), -exact))[:10]
    assert rows.tolist() == want.tolist() and np.array_equal(top, exact[want])
    assert len(calls) == 2 and calls[1] < n  # widened once, to far fewer than every row


def test_auto_precision_rule(tmp_path):
    assert resolve_precision("auto", 1000, 1024) == "float32"
    big = AUTO_FLOAT32_BYTES // (1024 * 4) + 1
    assert resolve_precision("auto", big, 1024) == "float16"
    assert resolve_precision("int8", 10, 4) == "int8"
    index = Index.create(str(tmp_path / "idx"), dim=4)
    index.add_videos(["a"], np.ones((1, 4), np.float32), categories=[0])
    assert index.precision == "float32"


@pytest.mark.parametrize("bad", ["float64", "fp16", "", None, 16])
def test_bad_precision_is_a_clear_error(tmp_path, bad):
    uri = str(tmp_path / "idx")
    with pytest.raises(ValueError, match="precision must be one of auto, float32, float16, int8"):
        Index.create(uri, dim=4, precision=bad)
    Index.create(uri, dim=4)
    with pytest.raises(ValueError, match=f"got {bad!r}"):
        Index.open(uri, precision=bad)


@pytest.mark.parametrize("precision", COMPACT)
def test_in_memory_store_has_no_cache_and_is_exact(precision):
    uri = f"qdrant+local://:memory:/c{uuid.uuid4().hex[:10]}"
    index = Index.create(uri, dim=DIM, precision=precision)
    x = clustered(np.random.default_rng(4), 300)
    index.add_videos([f"v{i}" for i in range(300)], x, categories=[0] * 300)
    assert index.precision == precision
    assert isinstance(index.gallery().vectors, np.ndarray)
    assert not isinstance(index.gallery().vectors, np.memmap)
    got = index.search(x[10], k=25)
    scores = x @ x[10]
    want_rows, want = top_k_of_scores(scores, 25)
    np.testing.assert_allclose([h.score for h in got], want, atol=1e-6)
    assert got[0].video_id == "v10" or scores[int(got[0].video_id[1:])] == want[0]
