"""The memory-mapped gallery cache: reused when current, rebuilt when stale or damaged, and
never left half-written by a killed build (LanceDB folder and ``qdrant+local``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from vtrsearch import Index
from vtrsearch.index import gallery_cache
from vtrsearch.stores.uri import cache_dir

DIM = 16
N = 400


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def vectors(n: int = N, seed: int = 0) -> np.ndarray:
    return unit(np.random.default_rng(seed).normal(size=(n, DIM)))


def make_index(uri: str, x: np.ndarray | None = None) -> str:
    index = Index.create(uri, dim=DIM, categories=["a", "b"])
    x = vectors() if x is None else x
    index.add_videos([f"v{i}" for i in range(N)], x, categories=[i % 2 for i in range(N)])
    index.add_segments(["v0", "v0", "v3"], [0.0, 1.0, 0.0], [1.0, 2.0, 1.0], vectors(3, seed=5))
    index.store.close()
    return uri


@pytest.fixture(params=["lance", "qdrant-local"])
def uri(request, tmp_path) -> str:
    if request.param == "lance":
        return make_index(str(tmp_path / "idx"))
    return make_index(f"qdrant+local://{tmp_path}/q")


@pytest.fixture
def lance_uri(tmp_path) -> str:
    """A LanceDB index (the embedded Qdrant engine allows one process per index)."""
    return make_index(str(tmp_path / "idx"))


def top_ids(index: Index, q: np.ndarray, k: int = 10) -> list[str]:
    return [h.video_id for h in index.search(q, k=k)]


def want_ids(x: np.ndarray, q: np.ndarray, k: int = 10) -> list[str]:
    order = np.lexsort((np.arange(len(x)), -(x @ q)))[:k]
    return [f"v{i}" for i in order]


def build_folders(uri: str) -> list[Path]:
    return sorted(p for p in cache_dir(uri).glob("g-*") if p.is_dir())


@pytest.mark.parametrize("precision", ["float32", "float16", "int8"])
def test_current_cache_is_reused_not_rebuilt(uri, precision):
    q = vectors(1, seed=9)[0]
    first = Index.open(uri, precision=precision)
    assert top_ids(first, q) == want_ids(vectors(), q)
    folders = build_folders(uri)
    assert len(folders) == 1 and (folders[0] / "exact.npy").exists()
    mtimes = {p.name: p.stat().st_mtime_ns for p in folders[0].iterdir()}
    builds = gallery_cache.builds
    again = Index.open(uri, precision=precision)
    assert top_ids(again, q) == want_ids(vectors(), q)
    assert gallery_cache.builds == builds  # nothing was rebuilt
    assert {p.name: p.stat().st_mtime_ns for p in folders[0].iterdir()} == mtimes
    gallery = again.gallery()
    assert isinstance(gallery.vectors, np.memmap)  # memory-mapped, not read into RAM
    assert gallery.precision == precision
    assert again.has_segments() and len(gallery.segments) == 3
    videos = np.array([3, 0, N - 1, 3])  # read with pread for compact precisions
    rows = np.array([gallery.row(f"v{i}") for i in videos])  # (Qdrant: point-id order)
    assert (gallery.compact._fd is not None) == (precision != "float32")
    assert np.array_equal(gallery.exact_rows(rows), vectors()[videos])
    assert np.array_equal(gallery.exact_rows(rows), np.asarray(gallery.vectors)[rows])


def test_write_from_another_handle_shows_within_refresh_interval(uri):
    reader = Index.open(uri, precision="float16")
    q = vectors(1, seed=11)[0]
    assert "new" not in top_ids(reader, q)
    builds = gallery_cache.builds
    Index.open(uri).add_videos(["new"], q[None, :], categories=[0])
    time.sleep(reader.refresh_interval + 0.05)
    assert top_ids(reader, q)[0] == "new"
    assert gallery_cache.builds == builds + 1
    assert len(build_folders(uri)) == 1  # the old build was removed


@pytest.mark.parametrize("damage", ["truncate", "overwrite", "delete", "manifest"])
def test_damaged_cache_is_detected_and_rebuilt(uri, damage):
    q = vectors(1, seed=13)[0]
    Index.open(uri, precision="float16").search(q)
    (folder,) = build_folders(uri)
    codes = folder / "codes.npy"
    if damage == "truncate":
        os.truncate(codes, codes.stat().st_size // 2)
    elif damage == "overwrite":  # zero the vector data: wrong scores if it were used
        with codes.open("r+b") as f:
            f.seek(128)
            f.write(b"\0" * (codes.stat().st_size - 128))
    elif damage == "delete":
        (folder / "ids.arrow").unlink()
    else:
        (cache_dir(uri) / "gallery-float16.json").write_text("{not json")
    builds = gallery_cache.builds
    index = Index.open(uri, precision="float16")
    assert top_ids(index, q) == want_ids(vectors(), q)
    assert gallery_cache.builds == builds + 1


def test_leftover_build_folder_and_pointer_temp_do_not_disturb(uri):
    q = vectors(1, seed=17)[0]
    cache = cache_dir(uri)
    cache.mkdir(parents=True, exist_ok=True)
    junk = cache / "g-killed123"
    junk.mkdir()
    (junk / "exact.npy").write_bytes(b"\x93NUMPY half")
    (cache / "gallery-float16.999.tmp").write_text('{"half": ')
    index = Index.open(uri, precision="float16")
    assert top_ids(index, q) == want_ids(vectors(), q)
    assert not junk.exists() and not (cache / "gallery-float16.999.tmp").exists()


KILLED_BUILD = textwrap.dedent(
    """
    import sys, time
    from vtrsearch import Index
    from vtrsearch.index import gallery_cache_write

    gallery_cache_write.BATCH = 50
    real = gallery_cache_write.encode
    calls = []

    def slow_encode(block, precision):
        calls.append(1)
        if len(calls) == 3:  # mid-write: some batches are in the files, most are not
            print("writing", flush=True)
            time.sleep(60)
        return real(block, precision)

    gallery_cache_write.encode = slow_encode
    Index.open(sys.argv[1], precision="float16").search([1.0] + [0.0] * 15)
    """
)


def test_build_killed_midway_leaves_a_working_index(lance_uri, tmp_path):
    uri = lance_uri
    q = vectors(1, seed=19)[0]
    reader = Index.open(uri, precision="float16")
    assert top_ids(reader, q) == want_ids(vectors(), q)  # a current build exists
    old = build_folders(uri)
    Index.open(uri).add_videos(["late"], q[None, :], categories=[1])  # makes it stale
    script = tmp_path / "build.py"
    script.write_text(KILLED_BUILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), uri], stdout=subprocess.PIPE, env=os.environ.copy()
    )
    try:
        assert proc.stdout.readline().strip() == b"writing"
        assert len(build_folders(uri)) == 2  # the old build and the half-written one
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    pointer = json.loads((cache_dir(uri) / "gallery-float16.json").read_text())
    assert pointer["folder"] == old[0].name  # the pointer still names the complete old build
    index = Index.open(uri, precision="float16")  # the killed builder's lock was released
    assert top_ids(index, q)[0] == "late"
    assert len(build_folders(uri)) == 1


def test_precisions_keep_separate_builds(uri):
    q = vectors(1, seed=23)[0]
    for precision in ("float16", "int8", "float32"):
        assert top_ids(Index.open(uri, precision=precision), q) == want_ids(vectors(), q)
    names = sorted(p.name for p in cache_dir(uri).glob("gallery-*.json"))
    assert names == ["gallery-float16.json", "gallery-float32.json", "gallery-int8.json"]
    assert len(build_folders(uri)) == 3


def test_precisions_share_one_float32_copy_on_disk(uri):
    """The float32 re-scoring copy was written once per precision (3 x 4 GB at 1M x 1024):
    later builds of the same table versions hard-link it, and each build stays whole."""
    q = vectors(1, seed=29)[0]
    for precision in ("float32", "float16", "int8"):
        Index.open(uri, precision=precision).search(q)
    folders = build_folders(uri)
    for name in ("exact.npy", "ids.arrow", "seg_exact.npy"):
        inodes = {(f / name).stat().st_ino for f in folders}
        assert len(inodes) == 1, name
        assert (folders[0] / name).stat().st_nlink == 3
    codes = [f / "codes.npy" for f in folders if (f / "codes.npy").exists()]
    assert len({c.stat().st_ino for c in codes}) == 2  # float16 and int8 codes: their own
    assert not [p for f in folders for p in f.iterdir() if p.name.startswith(".")]
    # removing one build (as a rebuild's clean-up does) leaves the others whole and current
    f32 = json.loads((cache_dir(uri) / "gallery-float32.json").read_text())["folder"]
    shutil.rmtree(cache_dir(uri) / f32)
    builds = gallery_cache.builds
    for precision in ("float16", "int8"):
        assert top_ids(Index.open(uri, precision=precision), q) == want_ids(vectors(), q)
    assert gallery_cache.builds == builds
    # a write makes new builds; they link to each other again, never to the stale files
    index = Index.open(uri)
    index.add_videos(["new"], q[None, :], categories=[0])
    index.store.close()
    for precision in ("float16", "float32"):
        assert top_ids(Index.open(uri, precision=precision), q)[0] == "new"
    pointers = {
        p: json.loads((cache_dir(uri) / f"gallery-{p}.json").read_text())["folder"]
        for p in ("float16", "float32")
    }
    a, b = (cache_dir(uri) / pointers[p] / "exact.npy" for p in ("float16", "float32"))
    assert a.stat().st_ino == b.stat().st_ino and np.load(a).shape[0] == N + 1


def test_unwritable_cache_falls_back_to_ram(tmp_path, monkeypatch):
    uri = str(tmp_path / "idx")
    index = Index.create(uri, dim=DIM)
    index.add_videos([f"v{i}" for i in range(N)], vectors(), categories=[0] * N)
    (tmp_path / "idx" / "_vtrsearch_cache").write_text("a file where the cache folder goes")
    q = vectors(1, seed=29)[0]
    reopened = Index.open(uri, precision="int8")
    assert top_ids(reopened, q) == want_ids(vectors(), q)
    assert not isinstance(reopened.gallery().vectors, np.memmap)


def test_open_turns_no_ids_into_python_strings(lance_uri):
    """Opening and searching a cached gallery reads ids from Arrow one hit at a time."""
    q = vectors(1, seed=31)[0]
    Index.open(lance_uri, precision="float16").search(q)  # builds the cache
    index = Index.open(lance_uri, precision="float16")
    assert [h.video_id for h in index.search(q, k=5)] == want_ids(vectors(), q, 5)
    gallery = index.gallery()
    assert not isinstance(gallery._ids, np.ndarray) and gallery._row is None
    assert gallery._split is None  # split names stay codes until someone asks
    assert "v7" in index and gallery._row is not None  # the id -> row map, on first use
    assert gallery.ids[7] == "v7" and gallery.split[7] == ""


CONCURRENT_BUILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from vtrsearch import Index
    from vtrsearch.index import gallery_cache, gallery_cache_write

    gallery_cache_write.BATCH = 40  # many small batches: the two builds overlap in time
    q = np.array([float(x) for x in sys.argv[2].split(",")], dtype=np.float32)
    hits = Index.open(sys.argv[1], precision="int8").search(q, k=10)
    print(" ".join(h.video_id for h in hits), gallery_cache.builds)
    """
)


def test_two_processes_building_at_once(lance_uri, tmp_path):
    q = vectors(1, seed=37)[0]
    script = tmp_path / "build.py"
    script.write_text(CONCURRENT_BUILD)
    arg = ",".join(repr(float(v)) for v in q)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), lance_uri, arg], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    for out in outs:
        assert out[:-1] == want_ids(vectors(), q)
    assert sorted(int(out[-1]) for out in outs) == [0, 1]  # one builds, the other waits and reuses
    assert len(build_folders(lance_uri)) == 1
    builds = gallery_cache.builds
    assert top_ids(Index.open(lance_uri, precision="int8"), q) == want_ids(vectors(), q)
    assert gallery_cache.builds == builds


def test_recreated_index_does_not_reuse_the_old_cache(tmp_path):
    """An index re-created where its cache survived (the LanceDB tables removed, the cache
    folder kept) restarts its table versions: the old cache must not answer for it."""
    import shutil

    uri = str(tmp_path / "idx")
    make_index(uri)
    q = vectors(1, seed=41)[0]
    assert top_ids(Index.open(uri, precision="float16"), q) == want_ids(vectors(), q)
    for table in (tmp_path / "idx").glob("*.lance"):
        shutil.rmtree(table)
    time.sleep(1.1)  # creation times have one-second resolution
    make_index(uri, vectors(seed=43))  # same ids, counts and versions; other vectors
    assert top_ids(Index.open(uri, precision="float16"), q) == want_ids(vectors(seed=43), q)
