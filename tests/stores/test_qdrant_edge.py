"""The embedded Qdrant engine behind ``qdrant+local:///dir/name`` (qdrant-edge).

The given path is the index's own folder (issue 11 item 14), one process per index but any
number of indexes under one parent, writes survive a crash (write-ahead log), nothing is
pickled, and an index of the old layout (qdrant-client local mode, files in the parent) gets
one message naming the migrate command that moves it, which then works.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vtrsearch import Index
from vtrsearch.cli import main
from vtrsearch.errors import LegacyLayoutError

DIM = 8


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_the_given_path_is_the_index_folder(tmp_path, rng):
    parent = tmp_path / "data"
    parent.mkdir()
    (parent / "notes.txt").write_text("the user's own file")
    index = Index.create(f"qdrant+local://{parent}/msrvtt", dim=DIM)
    index.add_videos(["a", "b"], unit(rng.normal(size=(2, DIM))), categories=[0, 1])
    index.add_captions(["1"], ["a"], ["a dog"])
    assert sorted(p.name for p in parent.iterdir()) == ["msrvtt", "notes.txt"]
    folder = parent / "msrvtt"
    assert {"meta", "videos", "captions", "segments"} <= {p.name for p in folder.iterdir()}
    assert (folder / "videos" / "edge_config.json").is_file()
    names = _files(folder)
    assert not any(n.endswith((".sqlite", ".pkl", ".pickle")) for n in names)  # no pickles
    index.store.close()
    moved = tmp_path / "elsewhere"
    folder.rename(moved)  # the folder is self-contained
    again = Index.open(f"qdrant+local://{moved}")
    assert len(again) == 2 and again.captions("a") == ["a dog"]


def test_two_processes_use_two_indexes_under_one_parent(tmp_path, rng):
    first = f"qdrant+local://{tmp_path}/p/one"
    second = f"qdrant+local://{tmp_path}/p/two"
    made = Index.create(first, dim=DIM)
    made.add_videos(["x"], unit(rng.normal(size=(1, DIM))), categories=[0])
    made.store.close()  # released: another process may open it
    index = Index.create(second, dim=DIM)  # this process holds "two" open
    index.add_videos(["y"], unit(rng.normal(size=(1, DIM))), categories=[0])
    index.store.close()
    index = Index.open(second)
    done = _run(f"""
        from vtrsearch import Index
        index = Index.open({first!r})
        index.add_videos(["z"], [[1.0] * {DIM}], categories=[1])
        print(len(index))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2" and len(index) == 1
    blocked = _run(f"""
        from vtrsearch import Index, StoreUnavailableError
        try:
            Index.open({second!r})
        except StoreUnavailableError as exc:
            print("refused:", exc)
    """)
    assert "refused:" in blocked.stdout and "open in another process" in blocked.stdout
    assert "one process per index" in blocked.stdout


def test_acknowledged_writes_survive_a_crash(tmp_path):
    uri = f"qdrant+local://{tmp_path}/crash"
    done = _run(f"""
        import os
        import numpy as np
        from vtrsearch import Index
        index = Index.create({uri!r}, dim={DIM})
        ids = [f"v{{i}}" for i in range(300)]
        index.add_videos(ids, np.ones((300, {DIM})), categories=[0] * 300)
        os._exit(0)  # no close, no flush
    """)
    assert done.returncode == 0, done.stderr
    index = Index.open(uri)
    assert len(index) == 300 and index.store.count("videos") == 300


def test_settings_reach_the_embedded_engine(tmp_path, rng):
    uri = f"qdrant+local://{tmp_path}/tuned?quantization=int8&always_ram=true&m=8&ef_construct=32"
    index = Index.create(uri, dim=DIM, exact=True)
    assert index.storage()["settings"] == {
        "quantization": "int8",
        "always_ram": True,
        "hnsw_m": 8,
        "ef_construct": 32,
        "exact": True,
    }
    config = json.loads((tmp_path / "tuned" / "videos" / "edge_config.json").read_text())
    text = json.dumps(config).lower()
    assert "int8" in text and '"m": 8' in text and '"ef_construct": 32' in text
    vectors = unit(rng.normal(size=(300, DIM)))
    index.add_videos([f"v{i}" for i in range(300)], vectors, categories=[0] * 300)
    assert index.store.optimize("videos") in (True, False)
    for i in (3, 99):
        assert index.search_store(vectors[i], k=1)[0].video_id == f"v{i}"
    with pytest.raises(ValueError, match="only a Qdrant server"):
        Index.open(f"qdrant+local://{tmp_path}/tuned?shards=2")


def _make_legacy(folder: Path, rng) -> np.ndarray:
    """An index in the old ``qdrant+local`` layout: qdrant-client local mode files in the
    parent folder (``collection/<name>__*``), as vtrsearch wrote it before."""
    vectors = unit(rng.normal(size=(12, DIM)))
    old = Index.create(f"qdrant+legacy://{folder}/old", dim=DIM, feature_model="test:x")
    old.add_videos([f"v{i}" for i in range(12)], vectors, categories=[i % 3 for i in range(12)])
    old.add_captions(["1", "2"], ["v1", "v2"], ["one", "two"])
    old.store.close()
    assert (folder / "collection" / "old__videos").is_dir() and not (folder / "old").exists()
    return vectors


def test_an_old_layout_index_gets_a_message_and_migrates(tmp_path, rng, capsys):
    vectors = _make_legacy(tmp_path, rng)
    uri = f"qdrant+local://{tmp_path}/old"
    for attempt in (lambda: Index.open(uri), lambda: Index.create(uri, dim=DIM)):
        with pytest.raises(LegacyLayoutError) as err:
            attempt()
        assert f"vtrsearch migrate 'qdrant+legacy://{tmp_path}/old' '{uri}'" in str(err.value)
    assert not (tmp_path / "old").exists()  # neither attempt created anything
    assert main(["info", uri]) == 2
    assert "old layout" in capsys.readouterr().err
    assert main(["migrate", f"qdrant+legacy://{tmp_path}/old", uri, "--no-progress"]) == 0
    index = Index.open(uri)
    assert len(index) == 12 and index.feature_model == "test:x"
    assert index.captions("v2") == ["two"]
    assert [h.video_id for h in index.search(vectors[4], k=1)] == ["v4"]


def test_a_shard_locked_by_this_process_is_shared_not_reopened(tmp_path):
    uri = f"qdrant+local://{tmp_path}/shared"
    a = Index.create(uri, dim=DIM)
    b = Index.open(uri)
    a.add_videos(["v"], np.ones((1, DIM)), categories=[0])
    b.store.drop_table("segments")
    assert not a.store.has_table("segments") and not (tmp_path / "shared" / "segments").exists()
    a.add_segments(["v"], [0.0], [1.0], np.ones((1, DIM)))  # re-creates the table
    assert b.store.count("segments") == 1
    a.store.close()
    b.store.close()
    assert len(Index.open(uri)) == 1  # every shard released: it opens again
