"""Ingest throughput: videos/s through ``Index.add_videos`` into each store.

Usage::

    python bench/ingest_throughput.py                          # 10,000 x 1024, every store
    python bench/ingest_throughput.py --n 2000 --stores lance qdrant-memory --batch-size 500

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

from vtrsearch import Index
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="videos to ingest")
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=2000, help="rows per add_videos batch")
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(DEFAULT_STORES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = [bench_store(s, args.n, args.dim, args.batch_size, args.seed) for s in args.stores]
    print(f"Index.add_videos, {args.n} x {args.dim} random vectors, {os.cpu_count()} CPUs")
    headers = ["store", "N", "batch", "write s", "videos/s", "CPU s", "reopen+load s", "loadavg"]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
