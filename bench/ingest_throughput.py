"""Ingest throughput: videos/s through ``Index.add_videos`` into each store.

Usage::

    python bench/ingest_throughput.py                          # 10,000 x 1024, every store
    python bench/ingest_throughput.py --n 2000 --stores lance qdrant-memory --batch-size 500
    python bench/ingest_throughput.py --vs-raw 10000 100000    # add_videos vs raw append only

The ``--vs-raw`` table (run by default for 10k and 100k x 1024) compares ``Index.add_videos``
of one Arrow table (and of the same rows as a stream of record batches) into a new LanceDB
index with a raw ``table.add`` of the same table into a plain LanceDB table: the median of
``--repeats`` interleaved runs (on a shared machine single runs vary 2x; the minimum is a
lucky outlier), wall and process CPU seconds, and the ratio raw / add_videos (1.0: as fast
as the raw append; the target is >= 0.7). It
also times re-adding the same rows (every key stored: the ``merge_insert`` path).

Stores: ``lance`` (embedded LanceDB in a temp dir), ``qdrant-local`` (``qdrant+local://``, the
embedded Qdrant engine, qdrant-edge), ``qdrant-memory`` (qdrant-client's in-memory mode) and
``qdrant-legacy`` (qdrant-client local mode on disk, what ``qdrant+local://`` was before: one
SQLite transaction and one pickle per point, so it is slow; off by default). Prints, per store:
wall seconds and videos/s of the writes, process CPU seconds (robust to other load on the
machine), seconds to reopen the index and load the in-memory search matrix back from the
store, and the machine's load average when the run started.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import numpy as np
import pyarrow as pa

from vtrsearch import Index
from vtrsearch.index.rows import video_rows
from vtrsearch.tables import format_table

STORES = ("lance", "qdrant-local", "qdrant-memory", "qdrant-legacy")
DEFAULT_STORES = ("lance", "qdrant-local", "qdrant-memory")


def store_uri(kind: str, tmp: str) -> str:
    """A fresh index URI of store ``kind`` under ``tmp``."""
    if kind == "lance":
        return f"{tmp}/lance"
    if kind == "qdrant-local":
        return f"qdrant+local://{tmp}/qdrant/bench"
    if kind == "qdrant-legacy":
        return f"qdrant+legacy://{tmp}/legacy/bench"
    return f"qdrant+local://:memory:/bench{uuid.uuid4().hex[:8]}"


def bench_store(kind: str, n: int, dim: int, batch_size: int, seed: int) -> list:
    """One table row: ingest ``n`` random ``dim``-d videos into a new ``kind`` index."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    ids = [f"video{i}" for i in range(n)]
    categories = rng.integers(0, 20, size=n).tolist()
    splits = ["test" if i % 10 == 0 else "train" for i in range(n)]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.create(store_uri(kind, tmp), dim=dim)
        wall, cpu = time.perf_counter(), time.process_time()
        written = index.add_videos(
            ids, vectors, categories=categories, splits=splits, batch_size=batch_size
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        index.store.close()  # a cold reopen (in memory: the storage stays)
        start = time.perf_counter()
        reopened = Index.open(index.uri, gallery="memory")
        assert len(reopened) == n == written
        load_s = time.perf_counter() - start
        reopened.store.close()
    return [kind, n, batch_size, wall, n / wall, cpu, load_s, f"{load:.1f}"]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds since ``start``; CPU counts every thread (LanceDB writes in Rust
    threads) and is far less disturbed than wall time by other load on a shared machine."""
    return time.perf_counter() - start[0], time.process_time() - start[1]


def vs_raw(n: int, dim: int, repeats: int, seed: int) -> list:
    """One row: median seconds of raw append, add_videos (table, stream), re-add; ratios."""
    import lancedb

    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    ids = [f"video{i}" for i in range(n)]
    cats = rng.integers(0, 20, size=n).tolist()
    with tempfile.TemporaryDirectory() as tmp:
        probe = Index.create(f"{tmp}/probe", dim=dim)
        table: pa.Table = video_rows(ids, vectors, dim, probe.category_map, cats, None)
        del vectors
        counter = iter(range(10**6))

        def raw() -> tuple[float, float]:
            target = lancedb.connect(f"{tmp}/raw{next(counter)}").create_table(
                "videos", schema=table.schema
            )
            start = _clock()
            target.add(table)
            return _since(start)

        def ours(stream: bool) -> tuple[float, float]:
            index = Index.create(f"{tmp}/idx{next(counter)}", dim=dim)
            data = table.to_batches(max_chunksize=20_000) if stream else table
            start = _clock()
            assert index.add_videos(data) == n
            return _since(start)

        runs: dict[str, list[tuple[float, float]]] = {"raw": [], "table": [], "stream": []}
        for _ in range(repeats):  # interleaved, so load changes hit all three alike
            runs["raw"].append(raw())
            runs["table"].append(ours(False))
            runs["stream"].append(ours(True))
        index = Index.create(f"{tmp}/again", dim=dim)
        index.add_videos(table)
        for _ in range(repeats):
            start = _clock()
            index.add_videos(table)  # every key stored: merge_insert
            runs.setdefault("re-add", []).append(_since(start))
        assert index.store.count("videos") == n
    wall = {k: float(np.median([w for w, _ in v])) for k, v in runs.items()}
    cpu = {k: float(np.median([c for _, c in v])) for k, v in runs.items()}
    return [
        n,
        f"{wall['raw']:.3f} / {cpu['raw']:.3f}",
        f"{wall['table']:.3f} / {cpu['table']:.3f}",
        f"{wall['stream']:.3f} / {cpu['stream']:.3f}",
        f"{wall['re-add']:.3f} / {cpu['re-add']:.3f}",
        f"{wall['raw'] / wall['table']:.2f} / {cpu['raw'] / cpu['table']:.2f}",
        f"{wall['raw'] / wall['stream']:.2f} / {cpu['raw'] / cpu['stream']:.2f}",
        f"{n / wall['table']:,.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="videos to ingest")
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=20_000, help="rows per add_videos batch")
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(DEFAULT_STORES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--vs-raw",
        type=int,
        nargs="*",
        default=None,
        metavar="N",
        help="only the add_videos vs raw LanceDB append table, for these sizes",
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs per size (median)")
    args = parser.parse_args()
    sizes = args.vs_raw if args.vs_raw else [10_000, 100_000]
    print(f"add_videos vs raw LanceDB append, {args.dim}-d, {os.cpu_count()} CPUs, ", end="")
    print(f"load {os.getloadavg()[0]:.1f}, median of {args.repeats}")
    print("each cell: wall / CPU seconds (median run); ratio = raw / add_videos (target >= 0.7)")
    headers = ["N", "raw append", "add_videos", "stream", "re-add", "ratio", "ratio stream"]
    headers.append("rows/s")
    print(format_table(headers, [vs_raw(n, args.dim, args.repeats, args.seed) for n in sizes]))
    if args.vs_raw is not None:
        return
    rows = [bench_store(s, args.n, args.dim, args.batch_size, args.seed) for s in args.stores]
    print(f"Index.add_videos, {args.n} x {args.dim} random vectors, {os.cpu_count()} CPUs")
    headers = ["store", "N", "batch", "write s", "videos/s", "CPU s", "reopen+load s", "loadavg"]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
