"""Reliability, part 1: concurrent writers and killed creates (issue 11, items 1 and 2).

Each test is named after the promise it checks; they run real processes against a real
embedded LanceDB index (and Qdrant local mode where it applies).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from vtrsearch import Index, IndexExistsError, IndexNotFoundError

DIM = 8

_WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from vtrsearch import Index
    uri, first, last, seed, dim = sys.argv[1], *map(int, sys.argv[2:6])
    index = Index.open(uri)
    rng = np.random.default_rng(seed)
    ids = [f"v{i}" for i in range(first, last)]
    rng.shuffle(ids)
    for start in range(0, len(ids), 25):
        batch = ids[start:start + 25]
        vecs = rng.normal(size=(len(batch), dim)).astype("float32")
        index.add_videos(batch, vecs, categories=[0] * len(batch))
        index.add_captions([f"{v}#0" for v in batch], batch, [f"caption of {v}" for v in batch])
    """
)


def _run_writers(uri: str, ranges: list[tuple[int, int]]) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, uri, str(a), str(b), str(i), str(DIM)])
        for i, (a, b) in enumerate(ranges)
    ]
    for proc in procs:
        assert proc.wait(timeout=600) == 0


def test_concurrent_writers_never_duplicate_rows(tmp_path):
    """Two processes upserting overlapping ids end with exactly one row per id."""
    uri = str(tmp_path / "idx")
    Index.create(uri, dim=DIM, categories=["c"])
    _run_writers(uri, [(0, 600), (300, 900)])
    index = Index.open(uri)
    assert len(index) == 900
    assert index.store.count("videos") == 900  # physical rows, not just distinct ids
    ids = index.store.scan("videos", columns=["video_id"])["video_id"].to_pylist()
    assert len(ids) == len(set(ids)) == 900
    sen = index.store.scan("captions", columns=["sen_id"])["sen_id"].to_pylist()
    assert len(sen) == len(set(sen)) == 900


_STREAMER = textwrap.dedent(
    """
    import sys, numpy as np, pandas as pd
    from vtrsearch import Index
    uri, first, last, seed, dim = sys.argv[1], *map(int, sys.argv[2:6])
    index = Index.open(uri)
    rng = np.random.default_rng(seed)
    def batches():
        for start in range(first, last, 150):
            ids = [f"v{i}" for i in range(start, min(start + 150, last))]
            vecs = rng.normal(size=(len(ids), dim)).astype("float32")
            yield pd.DataFrame({"video_id": ids, "category": seed, "vector": list(vecs)})
    assert index.add_videos(batches(), batch_size=100) == last - first
    """
)


def test_concurrent_bulk_streams_never_duplicate_rows(tmp_path):
    """Two processes streaming overlapping id ranges (new keys appended, stored keys merged)
    end with exactly one row per id, each from one of the writers."""
    uri = str(tmp_path / "idx")
    Index.create(uri, dim=DIM, categories=["c0", "c1"])
    procs = [
        subprocess.Popen([sys.executable, "-c", _STREAMER, uri, str(a), str(b), str(i), str(DIM)])
        for i, (a, b) in enumerate([(0, 1500), (750, 2250)])
    ]
    for proc in procs:
        assert proc.wait(timeout=600) == 0
    index = Index.open(uri)
    rows = index.store.scan("videos", columns=["video_id", "category"])
    ids = rows["video_id"].to_pylist()
    assert len(ids) == len(set(ids)) == 2250 == index.store.count("videos")
    cats = dict(zip(ids, rows["category"].to_pylist(), strict=True))
    assert all(cats[f"v{i}"] == 0 for i in range(750)) and cats["v2249"] == 1


_CREATE = textwrap.dedent(
    """
    import sys
    from vtrsearch import Index
    Index.create(sys.argv[1] + "-warm", dim=int(sys.argv[2]))  # lazy imports done before
    print("ready", flush=True)
    Index.create(sys.argv[1], dim=int(sys.argv[2]), categories=["a", "b"])
    """
)


def test_killed_create_never_leaves_an_index_that_cannot_open(tmp_path):
    """kill -9 at any moment of Index.create: open either works or says there is no index
    (never KeyError), and create(exist_ok=True) always finishes the job."""
    delays = np.linspace(0.0, 0.06, 12)  # a warm create takes ~20-40 ms here
    for i, delay in enumerate(delays):
        uri = str(tmp_path / f"idx{i}")
        proc = subprocess.Popen(
            [sys.executable, "-c", _CREATE, uri, str(DIM)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"  # imports done: kill inside create
        time.sleep(float(delay))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        try:
            index = Index.open(uri)
            assert index.dim == DIM and len(index) == 0
        except IndexNotFoundError as exc:
            assert "KeyError" not in str(exc)
        index = Index.create(uri, dim=DIM, categories=["a", "b"], exist_ok=True)
        assert index.dim == DIM and [c.name for c in index.categories()] == ["a", "b"]
        assert len(Index.open(uri)) == 0


def test_half_made_index_is_reported_and_finished(tmp_path):
    """The state an old killed create left (an empty metadata table) opens as 'no index',
    and create() finishes it whether or not exist_ok is given."""
    from vtrsearch.stores import open_store

    uri = str(tmp_path / "idx")
    store = open_store(uri)
    store.create_table(
        "_meta", __import__("pyarrow").schema([("key", "string"), ("value", "string")]), "key"
    )
    with pytest.raises(IndexNotFoundError, match="no vtrsearch index"):
        Index.open(uri)
    store.set_metadata({"dim": DIM})  # partly written metadata
    with pytest.raises(IndexNotFoundError, match="incomplete"):
        Index.open(uri)
    index = Index.create(uri, dim=DIM)
    assert len(index) == 0 and Index.open(uri).dim == DIM
    with pytest.raises(IndexExistsError):
        Index.create(uri, dim=DIM)
