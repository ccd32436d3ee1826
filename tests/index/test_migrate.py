"""Index migration LanceDB -> Qdrant (local mode) -> LanceDB: identical results, resumable."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from vtrsearch import Index, IndexExistsError, IndexNotFoundError
from vtrsearch.index.migrate import MigrationError, migrate_index
from vtrsearch.index.schema import caption_vectors_schema, caption_vectors_table, vector_array
from vtrsearch.stores import open_store

DIM = 16
N_VIDEOS = 100
SPEC = "test:cache-encoder"


@pytest.fixture
def source(tmp_path, rng) -> Index:
    """A LanceDB index with videos, captions, a caption-vector cache and extra metadata."""
    index = Index.create(tmp_path / "src", dim=DIM, feature_model="test:random")
    ids = [f"video{i}" for i in range(N_VIDEOS)]
    index.add_videos(
        ids,
        rng.normal(size=(N_VIDEOS, DIM)),
        categories=[i % 20 for i in range(N_VIDEOS)],
        splits=["test" if i % 4 == 0 else "train" for i in range(N_VIDEOS)],
    )
    sen_ids = [f"s{i}" for i in range(2 * N_VIDEOS)]
    index.add_captions(sen_ids, [ids[i // 2] for i in range(2 * N_VIDEOS)], sen_ids)
    table = caption_vectors_table(SPEC)
    index.store.create_table(table, caption_vectors_schema(8), "sen_id")
    vecs = rng.normal(size=(len(sen_ids), 8)).astype(np.float32)
    rows = pa.table(
        {"sen_id": sen_ids, "text_hash": ["h"] * len(sen_ids), "vector": vector_array(vecs)}
    )
    index.store.upsert(table, rows, "sen_id")
    index.set_metadata(caption_cache={SPEC: {"table": table, "dim": 8}}, heads={"h": "/x"})
    return index


def _same_results(a: Index, b: Index, rng: np.random.Generator) -> None:
    for i, q in enumerate(rng.normal(size=(20, DIM)).astype(np.float32)):
        filters = [{}, {"categories": [1, 5, 9]}, {"split": "test"}, {"categories": 3}]
        kw = filters[i % len(filters)]
        want, got = a.search(q, k=10, **kw), b.search(q, k=10, **kw)
        assert [h.video_id for h in got] == [h.video_id for h in want]
        assert np.allclose([h.score for h in got], [h.score for h in want], atol=1e-6, rtol=0)


def _sorted(table: pa.Table, key: str) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda row: row[key])


def test_round_trip_lance_qdrant_lance(source, tmp_path, rng):
    qdrant_uri = f"qdrant+local://{tmp_path}/q/idx"
    report = migrate_index(source.uri, qdrant_uri, batch_size=100, progress=False)
    cache = caption_vectors_table(SPEC)
    assert [(t.name, t.rows) for t in report.tables] == [
        ("videos", N_VIDEOS),
        ("captions", 2 * N_VIDEOS),
        (cache, 2 * N_VIDEOS),
        ("segments", 0),
    ]
    assert all(t.sampled == min(100, t.rows) and t.max_abs_diff <= 1e-6 for t in report.tables)
    assert "videos: 100 rows" in report.summary()
    back = migrate_index(qdrant_uri, tmp_path / "back", batch_size=64, progress=False)
    assert back.rows == report.rows
    copies = [Index.open(qdrant_uri), Index.open(tmp_path / "back")]
    for copy in copies:
        assert copy.metadata == source.metadata
        assert len(copy) == N_VIDEOS and copy.splits() == source.splits()
        _same_results(source, copy, np.random.default_rng(7))
        assert _sorted(copy.caption_table(), "sen_id") == _sorted(source.caption_table(), "sen_id")
        assert copy.captions("video3") == source.captions("video3") == ["s6", "s7"]
        assert copy.store.table_schema(cache) == source.store.table_schema(cache)
        assert _sorted(copy.store.scan(cache), "sen_id") == _sorted(
            source.store.scan(cache), "sen_id"
        )
        got, want = copy.get("video11"), source.get("video11")
        assert np.array_equal(got.vector, want.vector)
        assert got.__dict__ | {"vector": None} == want.__dict__ | {"vector": None}


def test_killed_migration_reruns_to_completion(source, tmp_path):
    dst = f"qdrant+local://{tmp_path}/q/idx"

    def kill(done: int, total: int) -> None:
        if done >= 60:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        migrate_index(source.uri, dst, batch_size=30, progress=False, on_batch=kill)
    partial = open_store(dst)
    assert partial.count("videos") == 60 and not partial.exists()
    with pytest.raises(IndexNotFoundError):  # a half-migrated destination is no index
        Index.open(dst)
    seen = []
    report = migrate_index(
        source.uri, dst, batch_size=30, progress=False, on_batch=lambda d, t: seen.append(t)
    )
    assert seen[-1] == 5 * N_VIDEOS and report.rows == 5 * N_VIDEOS
    copy = Index.open(dst)
    ids = copy.store.scan("videos", columns=["video_id"])["video_id"].to_pylist()
    assert len(ids) == len(set(ids)) == N_VIDEOS
    assert copy.store.count("captions") == 2 * N_VIDEOS


def test_rerun_mirrors_source_changes_and_refuses_other_index(source, tmp_path, rng):
    dst = tmp_path / "copy"
    migrate_index(source.uri, dst, progress=False)
    source.delete_videos(["video0", "video1"])
    report = migrate_index(source.uri, dst, progress=False)
    assert {t.name: t.removed for t in report.tables}["videos"] == 2
    assert len(Index.open(dst)) == N_VIDEOS - 2
    Index.create(tmp_path / "other", dim=DIM)
    with pytest.raises(IndexExistsError, match="another index"):
        migrate_index(source.uri, tmp_path / "other", progress=False)
    with pytest.raises(IndexNotFoundError):
        migrate_index(tmp_path / "missing", tmp_path / "x", progress=False)
    with pytest.raises(ValueError, match="same URI"):
        migrate_index(source.uri, source.uri, progress=False)


def test_a_copy_that_does_not_verify_gets_no_metadata(source, tmp_path):
    dst = open_store("qdrant+local://:memory:/lossy")
    real_upsert = dst.upsert

    def lossy(name, rows, key):  # silently drops one row per batch
        return real_upsert(name, rows.slice(1), key)

    dst.upsert = lossy
    with pytest.raises(MigrationError, match="rows in the source"):
        migrate_index(source.uri, dst, progress=False)
    assert not dst.exists()
