"""Bulk ingest: new keys appended and stored keys replaced in one call, streamed batches,
errors that name the batch, and handles that see each other's writes (issue 13)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from vtrsearch import Index, InvalidSegmentError, InvalidVectorError
from vtrsearch.errors import DimensionMismatchError
from vtrsearch.index.schema import vector_array

DIM = 8


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def frame(ids: list[str], vectors: np.ndarray, category: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"video_id": ids, "category": category, "vector": list(vectors)})


def stored(index: Index) -> dict[str, tuple[int, np.ndarray]]:
    """Every physical video row: id -> (category, vector); fails on a repeated id."""
    rows = index.store.scan("videos", columns=["video_id", "category", "vector"])
    ids = rows["video_id"].to_pylist()
    assert len(ids) == len(set(ids)), "a video id is stored twice"
    vecs = np.asarray(rows["vector"].to_pylist(), dtype=np.float32)
    cats = rows["category"].to_pylist()
    return {v: (c, vecs[i]) for i, (v, c) in enumerate(zip(ids, cats, strict=True))}


@pytest.fixture(params=["lance", "qdrant-memory"])
def index(request, tmp_path) -> Index:
    if request.param == "lance":
        return Index.create(str(tmp_path / "idx"), dim=DIM, categories=["a", "b"])
    uri = f"qdrant+local://:memory:/b{uuid.uuid4().hex[:10]}"
    return Index.create(uri, dim=DIM, categories=["a", "b"])


def test_new_and_stored_keys_in_one_call_give_one_row_each_with_new_values(index):
    rng = np.random.default_rng(0)
    first = unit(rng.normal(size=(100, DIM)))
    index.add_videos([f"v{i}" for i in range(100)], first, categories=[0] * 100)
    second = unit(rng.normal(size=(100, DIM)))
    ids = [f"v{i}" for i in range(50, 150)]
    assert index.add_videos(ids, second, categories=[1] * 100, batch_size=30) == 100
    rows = stored(index)
    assert len(rows) == 150 == len(index)
    for i in range(150):
        cat, vec = rows[f"v{i}"]
        want = first[i] if i < 50 else second[i - 50]
        assert cat == (0 if i < 50 else 1)
        np.testing.assert_allclose(vec, want, atol=1e-6)


def test_a_stream_of_mixed_batches_equals_one_table(index, tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(70, DIM)).astype(np.float32)
    ids = [f"v{i}" for i in range(70)]
    whole = frame(ids, vectors, category=1)
    arrow = pa.table(
        {"video_id": ids[40:60], "category": [1] * 20, "vector": vector_array(vectors[40:60])}
    )
    stream = [
        frame(ids[:25], vectors[:25], category=1),
        pa.Table.from_pandas(frame(ids[25:40], vectors[25:40], category=1)),
        arrow.to_batches()[0],
        {"video_id": ids[60:], "category": [1] * 10, "vector": list(vectors[60:])},
    ]
    seen: list[tuple[int, int]] = []
    written = index.add_videos(stream, batch_size=7, progress=lambda d, t: seen.append((d, t)))
    assert written == 70
    assert [d for d, _ in seen] == [25, 40, 60, 70]
    assert all(t == 0 for _, t in seen)  # total unknown without a hint
    reference = Index.create(str(tmp_path / "ref"), dim=DIM, categories=["a", "b"])
    reference.add_videos(whole)
    got, want = stored(index), stored(reference)
    assert got.keys() == want.keys()
    for vid, (cat, vec) in want.items():
        assert got[vid][0] == cat
        np.testing.assert_array_equal(got[vid][1], vec)


def test_a_record_batch_reader_streams_with_a_total_for_the_progress(tmp_path):
    index = Index.create(str(tmp_path / "idx"), dim=DIM, categories=["a", "b"])
    vectors = np.random.default_rng(2).normal(size=(90, DIM)).astype(np.float32)
    table = pa.table(
        {
            "video_id": [f"v{i}" for i in range(90)],
            "category": ["b"] * 90,
            "vector": vector_array(vectors),
        }
    )
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=40))
    seen: list[tuple[int, int]] = []
    assert index.add_videos(reader, total=90, progress=lambda d, t: seen.append((d, t))) == 90
    assert seen == [(40, 90), (80, 90), (90, 90)]
    assert len(stored(index)) == 90
    np.testing.assert_allclose(index.get("v7").vector, unit(vectors[7]), atol=1e-6)


def test_a_bad_row_in_batch_3_names_the_batch_and_video_after_batches_1_2_are_written(index):
    rng = np.random.default_rng(3)

    def batch(b: int) -> pd.DataFrame:
        vecs = rng.normal(size=(20, DIM)).astype(np.float32)
        if b == 2:
            vecs[7, 3] = np.nan  # video v47 of batch 3
        return frame([f"v{b * 20 + i}" for i in range(20)], vecs)

    with pytest.raises(InvalidVectorError) as err:
        index.add_videos(batch(b) for b in range(5))
    message = str(err.value)
    assert "batch 3 of the stream (rows 40-59)" in message
    assert "v47" in message
    rows = stored(index)
    assert sorted(rows, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(40)]
    assert len(index) == 40  # the gallery was refreshed after the partial write


def test_a_stream_of_non_tables_is_refused_with_what_to_call_instead(index):
    with pytest.raises(TypeError, match=r"batch 1 of the stream is a str.*add_videos\(ids, vec"):
        index.add_videos(["v1", "v2"])
    assert len(stored(index)) == 0


def test_a_batch_with_a_wrong_dimension_names_the_batch_and_video(index):
    good = frame(["a1"], np.ones((1, DIM), np.float32))
    bad = pa.table({"video_id": ["b1", "b2"], "category": [0, 0], "vector": [[1.0] * DIM, [1.0]]})
    with pytest.raises(DimensionMismatchError, match=r"batch 2 .*video b2.*dimension 1"):
        index.add_videos([good, bad])
    assert list(stored(index)) == ["a1"]


def test_float32_vectors_are_normalised_exactly_also_at_extreme_scales(tmp_path):
    index = Index.create(str(tmp_path / "idx"), dim=4, categories=["a"])
    vecs = np.array(
        [[3e37, 4e37, 0, 0], [3e-42, 4e-42, 0, 0], [0.3, 0.4, 0, 0], [-1, 0, 0, 0]],
        dtype=np.float32,
    )
    index.add_videos(["big", "tiny", "small", "neg"], vecs, categories=[0] * 4)
    exact = vecs.astype(np.float64)  # subnormal float32 inputs are not exactly 3:4
    exact /= np.linalg.norm(exact / np.abs(exact).max(axis=1, keepdims=True), axis=1)[:, None]
    exact /= np.abs(vecs.astype(np.float64)).max(axis=1, keepdims=True)
    for i, vid in enumerate(("big", "tiny", "small", "neg")):
        np.testing.assert_allclose(index.get(vid).vector, exact[i], atol=1e-6)
    np.testing.assert_allclose(exact[[0, 2]], [[0.6, 0.8, 0, 0]] * 2, atol=1e-6)
    bad = vecs.copy()
    bad[1, 2] = np.inf
    with pytest.raises(InvalidVectorError, match="tiny"):
        index.add_videos(["big", "tiny", "small", "neg"], bad, categories=[0] * 4)
    zero = np.zeros((1, 4), np.float32)
    with pytest.raises(InvalidVectorError, match="all-zero.*z0"):
        index.add_videos(["z0"], zero, categories=[0])


def test_two_handles_writing_overlapping_keys_and_deleting_keep_one_row_per_key(tmp_path):
    """Each LanceDB handle remembers the stored keys with the version it saw; writes and
    deletes by another handle change the version, so nothing is appended twice or lost."""
    uri = str(tmp_path / "idx")
    one = Index.create(uri, dim=DIM, categories=["a", "b"])
    two = Index.open(uri)
    rng = np.random.default_rng(4)

    def add(handle: Index, lo: int, hi: int, cat: int) -> None:
        ids = [f"v{i}" for i in range(lo, hi)]
        handle.add_videos(ids, rng.normal(size=(len(ids), DIM)), categories=[cat] * len(ids))

    add(one, 0, 50, 0)
    add(two, 25, 75, 1)  # two has never read the keys: all of 25..49 are replaced
    add(one, 60, 100, 0)  # one's key set is stale (two wrote): 60..74 are replaced
    two.delete_videos([f"v{i}" for i in range(0, 10)])
    add(one, 0, 5, 1)  # deleted keys come back once
    rows = stored(one)
    assert len(rows) == 95
    expected = {**{i: 1 for i in range(0, 5)}, **{i: 0 for i in range(10, 25)}}
    expected.update({i: 1 for i in range(25, 60)})
    expected.update({i: 0 for i in range(60, 100)})
    assert {v: c for v, (c, _) in rows.items()} == {f"v{i}": c for i, c in expected.items()}


def test_segments_stream_with_replace_keeps_a_video_spanning_batches(tmp_path):
    index = Index.create(str(tmp_path / "idx"), dim=DIM, categories=["a"])
    rng = np.random.default_rng(5)
    index.add_videos(["v1", "v2"], rng.normal(size=(2, DIM)), categories=[0, 0])
    index.add_segments(["v1"] * 3, [0, 10, 20], [10, 20, 30], rng.normal(size=(3, DIM)))

    def part(video: str, numbers: list[int]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "video_id": [video] * len(numbers),
                "segment": numbers,
                "start": [2.0 * n for n in numbers],
                "end": [2.0 * n + 2 for n in numbers],
                "vector": list(rng.normal(size=(len(numbers), DIM))),
            }
        )

    written = index.add_segments(
        [part("v1", [0, 1]), part("v1", [2, 3]), part("v2", [0])], replace=True
    )
    assert written == 5
    assert [(s.segment, s.start) for s in index.segments("v1")] == [
        (0, 0.0),
        (1, 2.0),
        (2, 4.0),
        (3, 6.0),
    ]
    with pytest.raises(InvalidSegmentError, match=r"batch 2 .*video v2.*overlap"):
        index.add_segments([part("v2", [1]), part("v2", [5]).assign(start=0.5)])
    assert [s.segment for s in index.segments("v2")] == [0, 1]


def test_a_bulk_segment_batch_finds_its_one_missing_video(tmp_path):
    """Over 5,000 distinct videos in one batch are checked with one read of the id column."""
    index = Index.create(str(tmp_path / "idx"), dim=DIM, categories=["a"])
    rng = np.random.default_rng(6)
    ids = [f"v{i}" for i in range(6000)]
    index.add_videos(ids, rng.normal(size=(6000, DIM)), categories=[0] * 6000)
    wanted = ids[:5500] + ["nowhere"]
    args = ([0.0] * len(wanted), [1.0] * len(wanted), rng.normal(size=(len(wanted), DIM)))
    with pytest.raises(InvalidSegmentError, match=r"1 video\(s\) .* not in the index: nowhere$"):
        index.add_segments(wanted, *args)
    assert index.add_segments(wanted[:-1], *(a[:-1] for a in args)) == 5500


def test_a_module_named_datasets_does_not_break_the_first_append(tmp_path):
    """LanceDB's first table.add imports Hugging Face ``datasets`` whenever a module of that
    name is loaded (in the full suite tests/datasets is one): the append must still happen,
    once. (A ``datasets`` module loaded before lancedb breaks ``import lancedb`` itself.)"""
    script = textwrap.dedent(
        """
        import sys, types, numpy as np
        from vtrsearch import Index
        index = Index.create(sys.argv[1], dim=4, categories=["a"])  # imports lancedb
        sys.modules["datasets"] = types.ModuleType("datasets")  # not Hugging Face's
        index.add_videos(["a", "b"], np.eye(4)[:2], categories=[0, 0])
        print(index.store.count("videos"))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "idx")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["2"]
