"""Search latency: vtrsearch Index vs raw LanceDB vs bare numpy vs Qdrant local mode.

Usage: python bench/search_latency.py [--sizes 10000 100000] [--dim 1024] [--queries 200]
       [--qdrant-queries 20 | --no-qdrant]

Prints p50/p99 milliseconds per query, and checks that vtrsearch's top-k is identical to
numpy brute force (``exact``). The Qdrant rows use qdrant-client local mode in memory (the same
code as on disk: local mode keeps the vectors in memory and searches by brute force in Python,
so it is slow and gets only ``--qdrant-queries`` queries): "Qdrant local mode (store search)" is
``store.search`` (what ``Index.search_store`` calls), "vtrsearch Index.search on Qdrant" is the
in-memory matrix loaded from Qdrant, which should match the LanceDB-backed numbers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
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
    n: int, dim: int, n_queries: int, raw_queries: int, qdrant_queries: int, seed: int
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
        qindex = None
        if qdrant_queries > 0:
            qindex = Index.create(f"qdrant+local://:memory:/bench{uuid.uuid4().hex[:8]}", dim=dim)
            qindex.add_videos(
                [f"video{i}" for i in range(n)], vectors, categories=categories.tolist()
            )
            len(qindex)  # load the in-memory matrix from Qdrant once
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
            if qindex is not None:
                rows += _qdrant_rows(qindex, queries, qdrant_queries, cats, numpy_search, label)
    if qindex is not None:
        qindex.store.drop_table("videos")  # free the shared in-memory storage
    return rows


def _qdrant_rows(qindex, queries, n_queries, cats, numpy_search, label) -> list[list]:
    n = len(qindex)
    filtered = cats is not None
    where = Filter.where(category=cats)
    few = queries[: max(1, n_queries)]

    def store_search(q: np.ndarray):
        return qindex.store.search("videos", q, K, where, columns=["video_id"])

    exact = all(
        store_search(q)["video_id"].to_pylist() == [f"video{i}" for i in numpy_search(q, filtered)]
        for q in few[:5]
    )
    p50, p99 = _time(store_search, few)
    rows = [[n, label, "Qdrant local mode (store search)", p50, p99, "yes" if exact else "NO"]]
    exact = all(
        [h.video_id for h in qindex.search(q, k=K, categories=cats)]
        == [f"video{i}" for i in numpy_search(q, filtered)]
        for q in queries[:50]
    )
    p50, p99 = _time(lambda q: qindex.search(q, k=K, categories=cats), queries)
    rows.append([n, label, "vtrsearch Index.search on Qdrant", p50, p99, "yes" if exact else "NO"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--raw-queries", type=int, default=30, help="queries for raw LanceDB")
    parser.add_argument(
        "--qdrant-queries", type=int, default=20, help="queries for Qdrant local-mode search"
    )
    parser.add_argument("--no-qdrant", action="store_true", help="skip the Qdrant rows")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    qdrant_queries = 0 if args.no_qdrant else args.qdrant_queries
    rows = []
    for n in args.sizes:
        rows += bench_size(n, args.dim, args.queries, args.raw_queries, qdrant_queries, args.seed)
    print(
        f"top-{K}, dim {args.dim}, {args.queries} queries (raw LanceDB: {args.raw_queries}, "
        f"Qdrant local store search: {qdrant_queries})"
    )
    print(format_table(["N", "filter", "method", "p50 ms", "p99 ms", "exact"], rows))


if __name__ == "__main__":
    main()
