"""ANN recall vs latency on CLIP-like data, like ann-benchmarks: one row per setting.

Usage: nice -n 5 python bench/ann_recall.py [--n 200000] [--dim 1024] [--clusters 5000]
       [--queries 200] [--raw-queries 30] [--nprobe 8 16 32 64 128] [--rescore 0 2]
       [--kinds faiss-ivf-fp16 faiss-ivf-sq8] [--nlist N] [--train-size N]

Builds a vtrsearch index (embedded LanceDB) of ``ClipLike(dim, clusters)`` vectors (see
bench/clip_like.py; its neighbour profile is printed first), then for each setting prints
recall@10 against the exact float32 answer (``Index.search(mode="exact")``), p50/p99
milliseconds of single-query ``Index.search`` and the build seconds, unfiltered and with a
category filter keeping ~15% of the videos (categories drawn independently of the clusters,
so a query's nearest matches are not its nearest neighbours). The exact float32 path and a raw
LanceDB flat search (``table.search``, no vector index) run in the same process on the same
queries.

Add a store ANN kind by appending to :data:`SETTINGS` (a kind registered with
:func:`vtrsearch.index.ann.register_backend`, its build parameters and the per-query
parameters to sweep).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from clip_like import ClipLike, neighbour_profile  # noqa: E402

from vtrsearch import Index  # noqa: E402
from vtrsearch.tables import format_table  # noqa: E402

K = 10
N_CATEGORIES = 20
FILTER_CATEGORIES = [3, 7, 11]  # 3 of 20 uniform categories: ~15% of the videos

#: One entry per ANN kind: its build parameters and the per-query parameters swept (each a
#: dict passed as ``ann_params``). Filled from the command line by :func:`default_settings`;
#: store kinds (LanceDB IVF_HNSW_SQ, Qdrant HNSW) append theirs here.
SETTINGS: list[dict] = []


def default_settings(args: argparse.Namespace) -> list[dict]:
    build = {}
    if args.nlist:
        build["nlist"] = args.nlist
    if args.train_size:
        build["train_size"] = args.train_size
    if args.niter:
        build["niter"] = args.niter
    rescores = args.rescore or [None]
    sweep = [
        {"nprobe": p} if r is None else {"nprobe": p, "rescore": r}
        for r in rescores
        for p in args.nprobe
    ]
    return [{"kind": kind, "build": dict(build), "sweep": sweep} for kind in args.kinds]


def timed(fn: Callable[[np.ndarray], object], queries: np.ndarray) -> tuple[float, float, list]:
    fn(queries[0])  # warm-up
    times, out = [], []
    for q in queries:
        start = time.perf_counter()
        out.append(fn(q))
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99)), out


def recall(found: list, truth: list) -> float:
    hits = [
        len({h.video_id for h in f} & {h.video_id for h in t}) / K
        for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits))


def build_index(path: str, data: ClipLike, n: int) -> tuple[Index, float]:
    index = Index.create(path, dim=data.dim, categories=[f"c{i}" for i in range(N_CATEGORIES)])
    started = time.perf_counter()
    rng = np.random.default_rng(99)
    for start, vectors, _clusters in data.batches(n):
        cats = rng.integers(0, N_CATEGORIES, len(vectors))
        ids = [f"v{i}" for i in range(start, start + len(vectors))]
        index.add_videos(ids, vectors, categories=cats.tolist(), batch_size=50_000)
        print(f"  ingested {start + len(vectors):,} / {n:,}", file=sys.stderr, flush=True)
    return index, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--raw-queries", type=int, default=30)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument(
        "--rescore", type=int, nargs="+", help="rescore factors swept (default: the kind's)"
    )
    parser.add_argument("--exact-queries", type=int, default=50, help="timed exact queries")
    parser.add_argument("--kinds", nargs="+", default=["faiss-ivf-fp16", "faiss-ivf-sq8"])
    parser.add_argument("--nlist", type=int, help="default: the kind's (2 x sqrt(n))")
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--niter", type=int, help="k-means iterations (default 10)")
    parser.add_argument(
        "--reuse-ann",
        action="store_true",
        help="with --dir: keep an ANN index of the same kind built by an earlier run",
    )
    parser.add_argument(
        "--dir", help="keep the index here, or reuse it when it exists (default: a temp folder)"
    )
    args = parser.parse_args()
    SETTINGS[:0] = default_settings(args)

    data = ClipLike(dim=args.dim, clusters=args.clusters)
    queries = data.queries(args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.dir or f"{tmp}/idx"
        if args.dir and os.path.exists(args.dir):  # reuse an index from an earlier run
            index, ingest_s = Index.open(args.dir), float("nan")
            if len(index) != args.n:
                raise SystemExit(f"{args.dir} holds {len(index)} videos, not --n {args.n}")
        else:
            index, ingest_s = build_index(path, data, args.n)
        started = time.perf_counter()
        gallery = index.gallery()
        open_s = time.perf_counter() - started
        sample = gallery.vectors[: min(len(gallery), 200_000)]
        print(
            f"ClipLike(dim={args.dim}, clusters={args.clusters}), n={args.n:,}, "
            f"{args.queries} queries; neighbour profile (first {len(sample):,} rows):"
        )
        for name, value in neighbour_profile(sample, queries[:100]).items():
            print(f"  {name:<14} cosine {value:.3f}")
        print(
            f"ingest {ingest_s:.1f} s, gallery load {open_s:.1f} s, "
            f"filter keeps {np.isin(gallery.category, FILTER_CATEGORIES).mean():.1%}"
        )
        rows: list[list] = []

        class _Rows(list):
            def append(self, row):  # every row also goes to stderr at once (long runs)
                super().append(row)
                print("  row: " + " | ".join(map(str, row)), file=sys.stderr, flush=True)

        rows = _Rows()
        truth = {}
        for label, cats in (("all", None), ("filtered", FILTER_CATEGORIES)):
            truth[label] = index.search_many(queries, K, categories=cats, mode="exact")
            few = queries[: args.exact_queries]
            p50, p99, found = timed(
                lambda q, c=cats: index.search(q, K, categories=c, mode="exact"), few
            )
            rows.append(
                [
                    label,
                    "exact float32 Index.search",
                    "-",
                    recall(found, truth[label][: len(few)]),
                    p50,
                    p99,
                    "-",
                ]
            )
        table = index.store._table("videos")  # raw LanceDB, for the baseline only
        from lancedb.expr import col

        for label, cats in (("all", None), ("filtered", FILTER_CATEGORIES)):

            def lance(q, c=cats):
                query = table.search(q).distance_type("dot").limit(K)
                if c is not None:
                    query = query.where(col("category").isin(c))
                return query.select(["video_id", "_distance"]).to_arrow()

            few = queries[: args.raw_queries]
            p50, p99, found = timed(lance, few)

            class _H:  # hits-like rows for recall()
                def __init__(self, v):
                    self.video_id = v

            got = [[_H(v) for v in t["video_id"].to_pylist()] for t in found]
            rows.append(
                [
                    label,
                    "raw LanceDB flat table.search",
                    "-",
                    recall(got, truth[label][: len(few)]),
                    p50,
                    p99,
                    "-",
                ]
            )
        for setting in SETTINGS:
            kind = setting["kind"]
            current = index.ann_info()
            if args.reuse_ann and current and current["kind"] == kind and not current["stale"]:
                info = current  # built by an earlier run on the same index (--dir)
                build_s = float("nan")
            else:
                started = time.perf_counter()
                info = index.build_ann(kind, **setting["build"])
                build_s = time.perf_counter() - started
            built = ", ".join(
                f"{k}={v}"
                for k, v in info["params"].items()
                if k in ("nlist", "train_size", "m", "rescore")
            )
            print(f"built {kind} ({built}) in {build_s:.1f} s", file=sys.stderr, flush=True)
            for params in setting["sweep"]:
                shown = ", ".join(f"{k}={v}" for k, v in params.items())
                for label, cats in (("all", None), ("filtered", FILTER_CATEGORIES)):
                    p50, p99, found = timed(
                        lambda q, c=cats, p=params: index.search(
                            q, K, categories=c, mode="ann", ann_params=p
                        ),
                        queries,
                    )
                    r = recall(found, truth[label])
                    short = min(len(f) for f in found)
                    rows.append(
                        [
                            label,
                            f"{kind} ({built})",
                            shown,
                            r,
                            p50,
                            p99,
                            f"{build_s:.0f}" + ("" if short == K else f" SHORT {short}"),
                        ]
                    )
                print(f"  {kind} {shown} done", file=sys.stderr, flush=True)
        headers = ["filter", "method", "query params", "recall@10", "p50 ms", "p99 ms", "build s"]
        body = [[r[0], r[1], r[2], f"{r[3]:.3f}", f"{r[4]:.2f}", f"{r[5]:.2f}", r[6]] for r in rows]
        print(format_table(headers, body))


if __name__ == "__main__":
    main()
