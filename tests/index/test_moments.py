"""Moments: segments per video, MaxSim pooling and moment search, on every store.

Results are checked against a numpy brute-force reference (exact scores, ties by row order);
the planted test builds segments near known query vectors, so the right answer is known.
"""

from __future__ import annotations

import io
import uuid

import numpy as np
import pytest

from vtrsearch import Index, InvalidSegmentError, InvalidVectorError, NoSegmentsError
from vtrsearch.errors import DimensionMismatchError

DIM = 16
BACKENDS = ["lance", "qdrant-memory"]


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture(params=BACKENDS)
def empty_index(request, tmp_path) -> Index:
    if request.param == "lance":
        uri = str(tmp_path / "idx")
    else:
        uri = f"qdrant+local://:memory:/m{uuid.uuid4().hex[:10]}"
    return Index.create(uri, dim=DIM, categories=["a", "b", "c"])


def _fill(index: Index, rng: np.random.Generator, n_videos: int = 30, max_segments: int = 6):
    """Videos with 0..max_segments segments of random length; returns the reference arrays."""
    ids = [f"v{i:03d}" for i in range(n_videos)]
    pooled = unit(rng.normal(size=(n_videos, DIM)))
    index.add_videos(
        ids,
        pooled,
        categories=[i % 3 for i in range(n_videos)],
        splits=["test" if i % 2 else "train" for i in range(n_videos)],
    )
    seg_ids, starts, ends, vecs = [], [], [], []
    for i, vid in enumerate(ids):
        t = 0.0
        for _ in range(int(rng.integers(0 if i % 5 == 0 else 1, max_segments + 1))):
            length = float(rng.uniform(0.5, 3.0))
            seg_ids.append(vid)
            starts.append(t)
            ends.append(t + length)
            vecs.append(rng.normal(size=DIM))
            t += length + float(rng.uniform(0, 1))
    index.add_segments(seg_ids, starts, ends, unit(np.array(vecs)))
    return ids, pooled, seg_ids, np.array(starts), np.array(ends), unit(np.array(vecs))


def _reference_max(q, ids, pooled, seg_ids, seg_vecs):
    best = {vid: -np.inf for vid in ids}
    for vid, v in zip(seg_ids, seg_vecs, strict=True):
        best[vid] = max(best[vid], float(v @ q))
    return {
        vid: (best[vid] if np.isfinite(best[vid]) else float(p @ q))
        for vid, p in zip(ids, pooled, strict=True)
    }


def test_maxsim_search_equals_brute_force_with_filters(empty_index, rng):
    ids, pooled, seg_ids, _, _, seg_vecs = _fill(empty_index, rng)
    for _ in range(5):
        q = unit(rng.normal(size=DIM))
        ref = _reference_max(q, ids, pooled, seg_ids, seg_vecs)
        for cats, split in ((None, None), (["b"], None), (None, "test"), (["a", "c"], "train")):
            keep = [
                v
                for i, v in enumerate(ids)
                if (cats is None or "abc"[i % 3] in cats)
                and (split is None or ("test" if i % 2 else "train") == split)
            ]
            expected = sorted(keep, key=lambda v: (-ref[v], ids.index(v)))[:7]
            hits = empty_index.search(q, k=7, categories=cats, split=split, pool="max")
            assert [h.video_id for h in hits] == expected
            np.testing.assert_allclose(
                [h.score for h in hits], [ref[v] for v in expected], atol=1e-5
            )


def test_search_moments_equals_brute_force(empty_index, rng):
    ids, _, seg_ids, starts, ends, seg_vecs = _fill(empty_index, rng)
    q = unit(rng.normal(size=DIM))
    scores = seg_vecs @ q
    order = sorted(
        range(len(seg_ids)), key=lambda i: (-scores[i], ids.index(seg_ids[i]), starts[i])
    )
    for per_video in (1, 2, 100):
        taken: dict[str, int] = {}
        expected = []
        for i in order:
            if taken.get(seg_ids[i], 0) < per_video:
                taken[seg_ids[i]] = taken.get(seg_ids[i], 0) + 1
                expected.append(i)
        expected = expected[:9]
        got = empty_index.search_moments(q, k=9, per_video=per_video)
        assert [(m.video_id, m.start, m.end) for m in got] == [
            (seg_ids[i], starts[i], ends[i]) for i in expected
        ]
        np.testing.assert_allclose([m.score for m in got], scores[expected], atol=1e-5)
        assert [m.rank for m in got] == list(range(1, len(got) + 1))
    only_b = empty_index.search_moments(q, k=50, categories="b")
    assert only_b and all(m.category_name == "b" for m in only_b)


def test_planted_moment_is_found_and_maxsim_beats_mean(tmp_path, rng):
    """Video 'target' has one short segment matching the query among long unrelated ones."""
    index = Index.create(str(tmp_path / "idx"), dim=DIM, categories=["x"])
    query = unit(rng.normal(size=DIM))
    ids = ["target"] + [f"d{i}" for i in range(39)]
    seg_rows = []  # (video, start, end, vector)
    for vid in ids:
        for j in range(8):
            noise = unit(rng.normal(size=DIM))
            vec = unit(query + 0.05 * noise) if (vid == "target" and j == 5) else noise
            seg_rows.append(
                (vid, 2.0 * j, 2.0 * j + (0.5 if vid == "target" and j == 5 else 2.0), vec)
            )
    # pooled vectors: mean of segments for everyone, so the short target segment is diluted
    pooled = []
    for vid in ids:
        pooled.append(np.mean([r[3] for r in seg_rows if r[0] == vid], axis=0))
    # decoys whose pooled vector leans toward the query without any single matching moment
    pooled = unit(np.array(pooled) + np.array([0.0] + [0.25] * 39)[:, None] * query)
    index.add_videos(ids, pooled, categories=[0] * 40)
    index.add_segments(
        *map(list, zip(*[(r[0], r[1], r[2]) for r in seg_rows], strict=True)),
        np.array([r[3] for r in seg_rows]),
    )
    moment = index.search_moments(query, k=1)[0]
    assert (moment.video_id, moment.segment, moment.start, moment.end) == ("target", 5, 10.0, 10.5)
    by_max = [h.video_id for h in index.search(query, k=40, pool="max")]
    by_mean = [h.video_id for h in index.search(query, k=40, pool="mean")]
    assert by_max.index("target") == 0
    assert by_mean.index("target") > by_max.index("target")
    hit = index.search(query, k=1, pool="max")[0]
    assert (hit.segment, hit.start, hit.end) == (5, 10.0, 10.5)


def test_segments_round_trip_upsert_and_delete(empty_index, rng):
    empty_index.add_videos(["a", "b"], unit(rng.normal(size=(2, DIM))), categories=[0, 1])
    thumb = _jpeg()
    empty_index.add_segments(
        ["a", "a", "b"],
        [2.0, 0.0, 0.0],
        [3.0, 2.0, 5.0],
        unit(rng.normal(size=(3, DIM))),
        thumbnails=[None, thumb, None],
    )
    segs = empty_index.segments("a")
    assert [(s.segment, s.start, s.end) for s in segs] == [(0, 0.0, 2.0), (1, 2.0, 3.0)]
    assert segs[0].thumbnail == thumb and empty_index.thumbnail("a", 0) == thumb
    assert empty_index.thumbnail("a", 1) is None and empty_index.thumbnail("zz", 0) is None
    new = unit(rng.normal(size=DIM))
    empty_index.add_segments(["a"], [0.0], [2.0], new[None, :], segments=[0])  # upsert
    segs = empty_index.segments("a")
    assert len(segs) == 2
    np.testing.assert_allclose(segs[0].vector, new, atol=1e-6)
    empty_index.add_segments(["a"], [0.0], [9.0], new[None, :], replace=True)  # re-segment
    assert [(s.segment, s.start, s.end) for s in empty_index.segments("a")] == [(0, 0.0, 9.0)]
    empty_index.delete_videos("a")
    assert empty_index.segments("a") == [] and len(empty_index.segments("b")) == 1
    assert [m.video_id for m in empty_index.search_moments(new, k=5)] == ["b"]


@pytest.mark.parametrize(
    ("ids", "starts", "ends", "match"),
    [
        (["a", "a"], [0.0, 1.0], [2.0, 3.0], "overlap"),
        (["a"], [2.0], [2.0], "start < end"),
        (["a"], [-1.0], [2.0], "0 <= start"),
        (["a"], [float("nan")], [2.0], "finite"),
        (["a"], [0.0], [float("inf")], "finite"),
        (["nope"], [0.0], [1.0], "not in the index"),
        ([""], [0.0], [1.0], "non-empty"),
    ],
)
def test_bad_segments_are_refused_and_nothing_is_written(
    empty_index, rng, ids, starts, ends, match
):
    empty_index.add_videos(["a"], unit(rng.normal(size=(1, DIM))), categories=[0])
    with pytest.raises(InvalidSegmentError, match=match):
        empty_index.add_segments(ids, starts, ends, unit(rng.normal(size=(len(ids), DIM))))
    assert empty_index.segments("a") == []


def test_bad_segment_vectors_and_overlap_with_stored(empty_index, rng):
    empty_index.add_videos(["a"], unit(rng.normal(size=(1, DIM))), categories=[0])
    with pytest.raises(DimensionMismatchError, match="expected 16"):
        empty_index.add_segments(["a"], [0.0], [1.0], np.ones((1, DIM + 1), np.float32))
    bad = np.ones((1, DIM), np.float32)
    bad[0, 3] = np.nan
    with pytest.raises(InvalidVectorError, match="a"):
        empty_index.add_segments(["a"], [0.0], [1.0], bad)
    empty_index.add_segments(["a"], [0.0], [4.0], unit(rng.normal(size=(1, DIM))))
    with pytest.raises(InvalidSegmentError, match="already stored"):
        empty_index.add_segments(["a"], [3.0], [5.0], unit(rng.normal(size=(1, DIM))), segments=[1])
    assert len(empty_index.segments("a")) == 1


def test_index_without_segments_refuses_maxsim_and_moments(tmp_path, rng):
    index = Index.create(str(tmp_path / "idx"), dim=DIM)
    index.add_videos(["a"], unit(rng.normal(size=(1, DIM))), categories=[0])
    q = unit(rng.normal(size=DIM))
    assert index.search(q, k=1)[0].segment is None
    with pytest.raises(NoSegmentsError, match="no segments"):
        index.search(q, k=1, pool="max")
    with pytest.raises(NoSegmentsError):
        index.search_moments(q, k=1)
    with pytest.raises(ValueError, match="pool"):
        index.search(q, k=1, pool="median")


def test_search_many_max_equals_search(empty_index, rng):
    _fill(empty_index, rng)
    qs = unit(rng.normal(size=(6, DIM)))
    many = empty_index.search_many(qs, k=5, split="test", pool="max")
    for q, hits in zip(qs, many, strict=True):
        one = empty_index.search(q, k=5, split="test", pool="max")
        assert [h.video_id for h in hits] == [h.video_id for h in one]
        np.testing.assert_allclose([h.score for h in hits], [h.score for h in one], atol=1e-5)


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 9), (200, 30, 30)).save(buf, format="JPEG")
    return buf.getvalue()


def test_segments_migrate_between_stores(tmp_path, rng):
    from vtrsearch import migrate_index

    src = Index.create(str(tmp_path / "src"), dim=DIM, categories=["a", "b", "c"])
    _fill(src, rng, n_videos=12)
    thumb = _jpeg()
    src.add_segments(
        ["v001"],
        [100.0],
        [101.0],
        unit(rng.normal(size=(1, DIM))),
        segments=[99],
        thumbnails=[thumb],
    )
    dst_uri = f"qdrant+local://:memory:/mig{uuid.uuid4().hex[:8]}"
    migrate_index(src.uri, dst_uri, progress=False)
    dst = Index.open(dst_uri)
    q = unit(rng.normal(size=DIM))
    a, b = src.search_moments(q, k=10, per_video=2), dst.search_moments(q, k=10, per_video=2)
    assert [(m.video_id, m.segment, m.start) for m in a] == [
        (m.video_id, m.segment, m.start) for m in b
    ]
    assert dst.thumbnail("v001", 99) == thumb
