"""Search latency: vtrsearch Index vs raw LanceDB vs bare numpy vs Qdrant (embedded, in memory).

Usage: python bench/search_latency.py [--sizes 10000 100000] [--dim 1024] [--queries 200]
       [--qdrant edge memory] [--qdrant-queries 20] [--no-qdrant] [--no-optimize]

Prints p50/p99 milliseconds per query and checks every exact method's top-k against numpy
brute force (``exact``: yes/NO); approximate rows show their recall@10 instead.

Qdrant rows, per kind (``--qdrant``):

* ``edge`` is ``qdrant+local://`` (the embedded Qdrant engine, qdrant-edge): its store search
  (what ``Index.search_store`` and ``gallery="store"`` use) first as ingested (plain segments,
  an exact scan in Rust), then after ``optimize()`` built HNSW (m=16, ef_construct=100; the
  build time is printed), plus ``Index.search`` with the gallery in memory and on the store;
* ``memory`` is ``qdrant+local://:memory:`` (qdrant-client's in-memory mode, brute force in
  Python, the same code as the old on-disk local mode): slow, so it gets only
  ``--qdrant-queries`` queries.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable

import numpy as np

from vtrsearch import Index
from vtrsearch.filters import Filter
from vtrsearch.tables import format_table

K = 10
FILTER_CATEGORIES = [3, 7, 11]  # about 15% of the videos


def _time(fn: Callable[[np.ndarray], object], queries: np.ndarray) -> tuple[float, float]:
    fn(queries[0])  # warm-up
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def bench_size(
    n: int, dim: int, n_queries: int, raw_queries: int, qdrant: list[str], options: dict, seed: int
) -> list[list]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    categories = rng.integers(0, 20, size=n)
    queries = rng.normal(size=(n_queries, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.create(f"{tmp}/idx", dim=dim)
        index.add_videos(
            [f"video{i}" for i in range(n)],
            vectors,
            categories=categories.tolist(),
            batch_size=20000,
        )
        len(index)  # load the in-memory matrix once
        table = index.store._table("videos")  # raw LanceDB table, for the baseline only
        lance_store = Index(index.store, index.metadata, gallery="store")
        mask = np.isin(categories, FILTER_CATEGORIES)

        def numpy_search(q: np.ndarray, filtered: bool = False) -> np.ndarray:
            scores = vectors @ q
            if filtered:
                scores = np.where(mask, scores, -np.inf)
            return np.argsort(-scores, kind="stable")[:K]

        def lance_search(q: np.ndarray, filtered: bool = False):
            query = table.search(q).distance_type("dot").limit(K)
            if filtered:
                from lancedb.expr import col

                query = query.where(col("category").isin(FILTER_CATEGORIES))
            return query.select(["video_id", "_distance"]).to_arrow()

        for filtered in (False, True):
            cats = FILTER_CATEGORIES if filtered else None
            exact = all(
                [h.video_id for h in index.search(q, k=K, categories=cats)]
                == [f"video{i}" for i in numpy_search(q, filtered)]
                for q in queries[:50]
            )
            label = "filtered" if filtered else "all"
            p50, p99 = _time(lambda q, c=cats: index.search(q, k=K, categories=c), queries)
            rows.append([n, label, "vtrsearch Index.search", p50, p99, "yes" if exact else "NO"])
            p50, p99 = _time(lambda q, f=filtered: numpy_search(q, f), queries)
            rows.append([n, label, "numpy brute force (argsort)", p50, p99, "reference"])
            p50, p99 = _time(lambda q, f=filtered: lance_search(q, f), queries[:raw_queries])
            rows.append([n, label, "raw LanceDB table.search", p50, p99, "-"])
            exact = all(
                [h.video_id for h in lance_store.search(q, k=K, categories=cats)]
                == [f"video{i}" for i in numpy_search(q, filtered)]
                for q in queries[:10]
            )
            few = queries[:raw_queries]
            p50, p99 = _time(lambda q, c=cats: lance_store.search(q, k=K, categories=c), few)
            method = "Index.search, gallery='store' (LanceDB)"
            rows.append([n, label, method, p50, p99, "yes" if exact else "NO"])
        for kind in qdrant:
            rows += qdrant_rows(kind, tmp, vectors, categories, queries, numpy_search, options)
    return rows


def qdrant_rows(kind, tmp, vectors, categories, queries, numpy_search, options) -> list[list]:
    """The rows of one Qdrant kind (``edge`` or ``memory``) at this size."""
    n, dim = vectors.shape
    uri = f"qdrant+local://{tmp}/edge" if kind == "edge" else f"qdrant+local://:memory:/b{n}"
    name = "embedded Qdrant" if kind == "edge" else "qdrant-client in memory"
    index = Index.create(uri, dim=dim, gallery="memory")
    index.add_videos([f"video{i}" for i in range(n)], vectors, categories=categories.tolist())
    on_store = Index(index.store, index.metadata, gallery="store")
    len(index)  # load the in-memory gallery once
    few = queries if kind == "edge" else queries[: max(1, options["qdrant_queries"])]
    rows = []

    def truth(q, cats):
        return [f"video{i}" for i in numpy_search(q, cats is not None)]

    def store_ids(q, cats):
        where = Filter.where(category=cats)
        return index.store.search("videos", q, K, where, columns=["video_id"])["video_id"]

    for cats in (None, FILTER_CATEGORIES):
        label = "all" if cats is None else "filtered"
        exact = all(store_ids(q, cats).to_pylist() == truth(q, cats) for q in few[:10])
        p50, p99 = _time(lambda q, c=cats: store_ids(q, c), few)
        scan = "exact scan" if kind == "edge" else "brute force"
        rows.append([n, label, f"{name}: store search ({scan})", p50, p99, _yes(exact)])
        if kind != "edge":
            continue
        exact = all(
            [h.video_id for h in index.search(q, k=K, categories=cats)] == truth(q, cats)
            for q in queries[:50]
        )
        p50, p99 = _time(lambda q, c=cats: index.search(q, k=K, categories=c), queries)
        rows.append([n, label, f"Index.search, gallery in memory ({name})", p50, p99, _yes(exact)])
        exact = all(
            [h.video_id for h in on_store.search(q, k=K, categories=cats)] == truth(q, cats)
            for q in few[:10]
        )
        p50, p99 = _time(lambda q, c=cats: on_store.search(q, k=K, categories=c), few)
        rows.append([n, label, f"Index.search, gallery='store' ({name})", p50, p99, _yes(exact)])
    if kind == "edge" and options["optimize"]:
        start = time.perf_counter()
        index.store.optimize("videos")
        built = time.perf_counter() - start
        for cats in (None, FILTER_CATEGORIES):
            label = "all" if cats is None else "filtered"
            found = [set(store_ids(q, cats).to_pylist()) for q in queries]
            recall = np.mean(
                [len(f & set(truth(q, cats))) / K for f, q in zip(found, queries, strict=True)]
            )
            p50, p99 = _time(lambda q, c=cats: store_ids(q, c), queries)
            method = f"{name}: store search, HNSW (built in {built:.1f}s)"
            rows.append([n, label, method, p50, p99, f"recall@10 {recall:.3f}"])
    index.store.drop_table("videos")  # free the (shared, in-memory) storage
    index.store.close()
    return rows


def _yes(exact: bool) -> str:
    return "yes" if exact else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--raw-queries", type=int, default=30, help="queries for raw LanceDB")
    parser.add_argument(
        "--qdrant", nargs="*", choices=["edge", "memory"], default=["edge", "memory"]
    )
    parser.add_argument(
        "--qdrant-queries", type=int, default=20, help="queries for qdrant-client in memory"
    )
    parser.add_argument("--no-qdrant", action="store_true", help="skip the Qdrant rows")
    parser.add_argument("--no-optimize", action="store_true", help="no HNSW rows (edge)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    qdrant = [] if args.no_qdrant else args.qdrant
    options = {"qdrant_queries": args.qdrant_queries, "optimize": not args.no_optimize}
    load = os.getloadavg()[0]
    rows = []
    for n in args.sizes:
        rows += bench_size(n, args.dim, args.queries, args.raw_queries, qdrant, options, args.seed)
    print(
        f"top-{K}, dim {args.dim}, {args.queries} queries (raw LanceDB: {args.raw_queries}, "
        f"qdrant-client in memory: {args.qdrant_queries}); {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at the start"
    )
    print(format_table(["N", "filter", "method", "p50 ms", "p99 ms", "exact"], rows))


if __name__ == "__main__":
    main()
