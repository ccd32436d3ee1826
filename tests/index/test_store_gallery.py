"""Searching on the store's engine (``gallery="store"``) gives the in-memory gallery's answers.

Every backend searches exactly here (LanceDB without a vector index, the embedded Qdrant
engine before ``optimize``, qdrant-client in memory), so video hits, MaxSim hits and moments
must equal the in-memory results, scores included; the in-memory gallery is never loaded.
The in-memory Qdrant backend goes through qdrant-client's ``query_points_groups`` (what a
server gets); the others through the generic grouped search.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from vtrsearch import Index, NoSegmentsError, UnknownSplitError

DIM = 16
BACKENDS = ["lance", "qdrant-local", "qdrant-memory"]


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _uri(kind: str, tmp_path) -> str:
    if kind == "lance":
        return str(tmp_path / "idx")
    if kind == "qdrant-local":
        return f"qdrant+local://{tmp_path}/q/idx"
    return f"qdrant+local://:memory:/g{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=BACKENDS)
def pair(request, tmp_path, rng):
    """``(in-memory gallery index, store-gallery index)`` on one filled store."""
    uri = _uri(request.param, tmp_path)
    index = Index.create(uri, dim=DIM, categories=["a", "b", "c"], gallery="memory")
    n = 40
    ids = [f"v{i:03d}" for i in range(n)]
    index.add_videos(
        ids,
        unit(rng.normal(size=(n, DIM))),
        categories=[i % 3 for i in range(n)],
        splits=["test" if i % 2 else "train" for i in range(n)],
    )
    seg_ids, starts, ends = [], [], []
    for i, vid in enumerate(ids):
        for j in range(0 if i % 4 == 0 else 1 + i % 5):  # every 4th video has no segments
            seg_ids.append(vid)
            starts.append(2.0 * j)
            ends.append(2.0 * j + 1.5)
    index.add_segments(seg_ids, starts, ends, unit(rng.normal(size=(len(seg_ids), DIM))))
    on_store = Index(index.store, index.metadata, gallery="store")
    return index, on_store


def _same_hits(got, want) -> None:
    assert [(h.video_id, h.category, h.segment, h.start, h.end) for h in got] == [
        (h.video_id, h.category, h.segment, h.start, h.end) for h in want
    ]
    assert np.allclose([h.score for h in got], [h.score for h in want], atol=1e-5)
    assert [h.rank for h in got] == list(range(1, len(want) + 1))


def test_store_search_equals_memory_search(pair, rng):
    memory, store = pair
    assert store.searches_on_store and not memory.searches_on_store
    for q in unit(rng.normal(size=(6, DIM))):
        for cats, split, k in ((None, None, 10), (["b"], None, 5), (["a", "c"], "test", 7)):
            for pool in ("mean", "max"):
                want = memory.search(q, k=k, categories=cats, split=split, pool=pool)
                got = store.search(q, k=k, categories=cats, split=split, pool=pool)
                _same_hits(got, want)
    queries = unit(rng.normal(size=(3, DIM)))
    many = zip(store.search_many(queries, k=4), memory.search_many(queries, k=4), strict=True)
    for got, want in many:
        _same_hits(got, want)
    assert store._matrix is None  # the gallery was never loaded


def test_store_moments_equal_memory_moments(pair, rng):
    memory, store = pair
    for q in unit(rng.normal(size=(6, DIM))):
        for per_video, cats, split in ((1, None, None), (2, None, None), (3, ["b", "c"], "train")):
            want = memory.search_moments(q, k=8, per_video=per_video, categories=cats, split=split)
            got = store.search_moments(q, k=8, per_video=per_video, categories=cats, split=split)
            assert [(m.video_id, m.segment, m.start, m.category) for m in got] == [
                (m.video_id, m.segment, m.start, m.category) for m in want
            ]
            assert np.allclose([m.score for m in got], [m.score for m in want], atol=1e-5)
            counts = {}
            for m in got:
                counts[m.video_id] = counts.get(m.video_id, 0) + 1
            assert max(counts.values()) <= per_video
    assert store._matrix is None


def test_counts_and_filters_without_the_gallery(pair):
    memory, store = pair
    assert len(store) == len(memory) == 40
    assert "v001" in store and "nope" not in store
    assert store.categories() == memory.categories()
    assert store.splits() == memory.splits() == {"test": 20, "train": 20}
    assert store.has_segments()
    store.refresh()
    with pytest.raises(UnknownSplitError, match="'nope'.*'test', 'train'"):
        store.search(np.ones(DIM), split=["test", "nope"])
    assert store._matrix is None


def test_no_segments_on_the_store_is_a_clear_error(tmp_path, rng):
    index = Index.create(str(tmp_path / "idx"), dim=DIM, gallery="store")
    index.add_videos(["a", "b"], unit(rng.normal(size=(2, DIM))), categories=[0, 1])
    assert [h.video_id for h in index.search(np.ones(DIM), k=5)] != []
    assert not index.has_segments()
    with pytest.raises(NoSegmentsError):
        index.search_moments(np.ones(DIM))
    with pytest.raises(NoSegmentsError):
        index.search(np.ones(DIM), pool="max")


def test_auto_gallery_goes_to_the_store_past_its_budget(tmp_path, rng):
    uri = str(tmp_path / "idx")
    index = Index.create(uri, dim=DIM)
    index.add_videos(["a", "b", "c"], unit(rng.normal(size=(3, DIM))), categories=[0, 1, 2])
    assert not Index.open(uri).searches_on_store  # default budget: a quarter of the RAM
    small = Index.open(uri, gallery_budget=3 * DIM * 4 - 1)  # one float short of 3 vectors
    assert small.searches_on_store and len(small) == 3
    assert not Index.open(uri, gallery_budget=3 * DIM * 4).searches_on_store
    assert Index.open(uri, gallery="store").searches_on_store
    with pytest.raises(ValueError, match="gallery must be one of"):
        Index.open(uri, gallery="disk")
