"""Index API on embedded LanceDB: writes, exact filtered search, reopen, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vtrsearch import (
    DimensionMismatchError,
    Hit,
    Index,
    IndexExistsError,
    IndexNotFoundError,
    InvalidVectorError,
    UnknownCategoryError,
    UnknownSplitError,
)
from vtrsearch.categories import MSRVTT_CATEGORIES

DIM = 16
INJECTION = "x' OR '1'='1"


def _frame(n: int, rng: np.random.Generator, dim: int = DIM) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "video_id": [f"video{i}" for i in range(n)],
            "category": [i % 20 for i in range(n)],
            "split": ["train" if i % 3 else "test" for i in range(n)],
            "start": [float(i) for i in range(n)],
            "end": [float(i) + 10 for i in range(n)],
            "url": [f"https://example.invalid/{i}" for i in range(n)],
            "vector": list(rng.normal(size=(n, dim)).astype(np.float32)),
        }
    )


@pytest.fixture
def index(tmp_path, rng) -> Index:
    idx = Index.create(tmp_path / "idx", dim=DIM, feature_model="test:random")
    idx.add_videos(_frame(200, rng))
    return idx


def brute_force(index: Index, q: np.ndarray, k: int, categories=None, split=None) -> list[str]:
    """Reference: score every stored vector, stable sort, filter in Python."""
    table = index.store.scan("videos")
    ids = table["video_id"].to_pylist()
    vecs = np.array(table["vector"].to_pylist(), dtype=np.float32)
    cats = table["category"].to_pylist()
    splits = table["split"].to_pylist()
    qn = (q / np.linalg.norm(q)).astype(np.float32)
    scores = vecs @ qn
    order = np.argsort(-scores, kind="stable")
    out = [
        ids[i]
        for i in order
        if (categories is None or cats[i] in categories) and (split is None or splits[i] == split)
    ]
    return out[:k]


def test_create_add_and_basic_properties(index):
    assert len(index) == 200
    assert index.dim == DIM and index.feature_model == "test:random"
    cats = index.categories()
    assert [c.name for c in cats] == list(MSRVTT_CATEGORIES)
    assert sum(c.count for c in cats) == 200
    assert index.splits() == {"test": 67, "train": 133}
    video = index.get("video7")
    assert video is not None and video.category == 7 and video.category_name == "movie/comedy"
    assert video.url == "https://example.invalid/7" and video.end == 17.0
    assert np.isclose(np.linalg.norm(video.vector), 1.0, atol=1e-6)
    assert index.get("nope") is None


def test_gallery_split_rows(index):
    g = index.gallery()
    test_rows = g.split_rows("test")
    assert sorted(g.ids[test_rows].tolist()) == sorted(f"video{i}" for i in range(0, 200, 3))
    assert np.all(np.diff(test_rows) > 0)  # sorted, like the gallery
    assert len(g.split_rows("train")) == 133 and len(g.split_rows("nope")) == 0
    assert g.split_rows(None).tolist() == list(range(200))
    row = g.row("video7")
    assert row is not None and np.allclose(g.vectors[row], index.get("video7").vector)


def test_search_matches_brute_force_with_filters(index, rng):
    queries = rng.normal(size=(25, DIM)).astype(np.float32)
    for q in queries:
        hits = index.search(q, k=10)
        assert all(isinstance(h, Hit) for h in hits)
        assert [h.video_id for h in hits] == brute_force(index, q, 10)
        assert [h.rank for h in hits] == list(range(1, 11))
        filtered = index.search(q, k=7, categories=["music", 3, "Cooking"], split="test")
        assert [h.video_id for h in filtered] == brute_force(index, q, 7, {0, 3, 17}, "test")
        assert all(h.category in (0, 3, 17) for h in filtered)
    batch = index.search_many(queries, k=5, categories=[1])
    assert [[h.video_id for h in row] for row in batch] == [
        brute_force(index, q, 5, {1}) for q in queries
    ]


def test_search_is_exact_with_ties(tmp_path):
    idx = Index.create(tmp_path / "ties", dim=4)
    vecs = np.tile(np.array([[1, 0, 0, 0]], dtype=np.float32), (30, 1))
    vecs[::4] = [0, 1, 0, 0]
    idx.add_videos([f"v{i:02d}" for i in range(30)], vecs, categories=[0] * 30)
    hits = idx.search(np.array([1, 0, 0, 0], dtype=np.float32), k=5)
    assert [h.video_id for h in hits] == brute_force(idx, np.array([1.0, 0, 0, 0]), 5)


def test_filter_leaves_fewer_than_k(index, rng):
    hits = index.search(rng.normal(size=DIM), k=50, categories="gaming", split="test")
    expected = sum(1 for i in range(200) if i % 20 == 2 and i % 3 == 0)
    assert len(hits) == expected


def test_captions_and_delete(index):
    index.add_captions(
        pd.DataFrame(
            {
                "sen_id": ["1", "2", "3"],
                "video_id": ["video1", "video1", "video2"],
                "caption": ["a dog runs", "a dog jumps", "a man sings"],
            }
        )
    )
    assert index.captions("video1") == ["a dog runs", "a dog jumps"]
    with pytest.raises(ValueError, match="not in the index: ghost"):
        index.add_captions(["9"], ["ghost"], ["boo"])
    index.delete_videos(["video1", INJECTION])
    assert len(index) == 199 and "video1" not in index
    assert index.store.count("captions") == 1


def test_unknown_category_and_injection_are_plain_values(index, rng):
    q = rng.normal(size=DIM)
    for bad in (INJECTION, "music' --", '"; DROP TABLE videos; --', 42):
        with pytest.raises(UnknownCategoryError) as err:
            index.search(q, categories=[bad])
        assert "valid categories" in str(err.value) and "music" in str(err.value)
    with pytest.raises(UnknownSplitError, match="the index has: 'test', 'train'"):
        index.search(q, split=INJECTION)
    assert index.get(INJECTION) is None
    assert index.captions(INJECTION) == []
    assert len(index) == 200


def test_bad_vectors_write_nothing(index, rng):
    frame = _frame(5, rng)
    frame.loc[2, "vector"] = np.full(DIM, np.nan, dtype=np.float32)
    frame["video_id"] = [f"new{i}" for i in range(5)]
    with pytest.raises(InvalidVectorError, match="new2"):
        index.add_videos(frame)
    with pytest.raises(
        DimensionMismatchError, match="video new0: vector has dimension 3, expected 16"
    ):
        index.add_videos(["new0"], np.ones((1, 3)), categories=[0])
    with pytest.raises(InvalidVectorError, match="all-zero"):
        index.add_videos(["new0"], np.zeros((1, DIM)), categories=[0])
    with pytest.raises(UnknownCategoryError, match="video new0"):
        index.add_videos(["new0"], np.ones((1, DIM)), categories=["nope"])
    with pytest.raises(ValueError, match="duplicate video ids"):
        index.add_videos(["a", "a"], np.ones((2, DIM)), categories=[0, 0])
    assert len(index) == 200
    with pytest.raises(DimensionMismatchError, match="expects 16"):
        index.search(np.ones(8))


def test_create_and_open_errors(index, tmp_path):
    with pytest.raises(IndexExistsError):
        Index.create(tmp_path / "idx", dim=DIM)
    assert len(Index.create(tmp_path / "idx", dim=DIM, exist_ok=True)) == 200
    with pytest.raises(DimensionMismatchError):
        Index.create(tmp_path / "idx", dim=8, exist_ok=True)
    with pytest.raises(IndexNotFoundError):
        Index.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFoundError):
        Index.open(tmp_path / "empty")


def test_custom_categories(tmp_path, rng):
    idx = Index.create(tmp_path / "c", dim=4, categories=["cats", "dogs"])
    idx.add_videos(["a", "b"], rng.normal(size=(2, 4)), categories=["dogs", 0])
    assert [(c.name, c.count) for c in idx.categories()] == [("cats", 1), ("dogs", 1)]
    assert [h.video_id for h in idx.search(rng.normal(size=4), categories="DOGS")] == ["a"]


def test_numpy_scalars_negative_ids_and_numeric_sen_id_order(tmp_path, rng):
    idx = Index.create(tmp_path / "n", dim=4, categories={-1: "unknown", 0: "a", 1: "b"})
    idx.add_videos(["x", "y", "z"], rng.normal(size=(3, 4)), categories=[-1, -1, 1])
    assert [(c.id, c.count) for c in idx.categories()] == [(-1, 2), (0, 0), (1, 1)]
    hits = idx.search(rng.normal(size=4), categories=np.int64(1))
    assert [h.video_id for h in hits] == ["z"]
    idx.add_captions(["10", "9", "100"], ["x", "x", "x"], ["ten", "nine", "hundred"])
    assert idx.captions("x") == ["nine", "ten", "hundred"]
