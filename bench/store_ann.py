"""Store-side ANN, measured: LanceDB IVF_HNSW_SQ / IVF_PQ and Qdrant HNSW + int8, against
numpy exact search, on CLIP-like data (bench/clip_like.py).

For each setting: recall@10 against the exact top-10, p50/p99 latency of one
``VectorStore.search(..., ann=...)`` call (what vtrsearch pays, Arrow result included), the
build time, unfiltered and with a ~15% category filter (3 of 20 categories; pre-filter), and
how many filtered queries came back with fewer than 10 rows *before* vtrsearch's exact
fallback (``short``: LanceDB's post/pre-filter under-return; vtrsearch then re-answers those
exactly, which the latency includes). Raw LanceDB flat search (no index) is in the same run.

Usage:
    nice -n 5 python bench/store_ann.py --n 200000                 # LanceDB + Qdrant edge
    nice -n 5 python bench/store_ann.py --n 1000000 --stores lance --quick

Data stays in --work (default /tmp/vtrsearch-store-ann-<n>); --keep reuses it (and the
builds, which are idempotent) across runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from clip_like import ClipLike, neighbour_profile  # noqa: E402

from vtrsearch.filters import Filter  # noqa: E402
from vtrsearch.stores import open_store  # noqa: E402

K = 10
CATEGORIES = 20
FILTER = (0, 1, 2)  # 3 of 20 categories: 15% of the rows


def schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("video_id", pa.string(), nullable=False),
            pa.field("category", pa.int32()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def rows(start: int, vectors: np.ndarray, dim: int) -> pa.Table:
    n = len(vectors)
    ids = [f"v{i:07d}" for i in range(start, start + n)]
    cats = (np.arange(start, start + n) % CATEGORIES).astype(np.int32)
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
    return pa.table(
        {"video_id": ids, "category": cats, "vector": pa.FixedSizeListArray.from_arrays(flat, dim)},
        schema=schema(dim),
    )


def exact_truth(data: ClipLike, n: int, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-K row numbers per query: unfiltered and with the filter (numpy, streamed)."""
    best = [np.full((len(queries), 0), -np.inf, np.float32), np.zeros((len(queries), 0), int)]
    fbest = [best[0].copy(), best[1].copy()]
    for start, v, _ in data.batches(n):
        s = queries @ v.T
        idx = np.arange(start, start + len(v))
        for target, scores in (
            (best, s),
            (fbest, np.where(np.isin(idx % CATEGORIES, FILTER), s, -np.inf)),
        ):
            allv = np.concatenate([target[0], scores], axis=1)
            alli = np.concatenate([target[1], np.broadcast_to(idx, scores.shape)], axis=1)
            top = np.argsort(-allv, axis=1, kind="stable")[:, :K]
            target[0] = np.take_along_axis(allv, top, 1)
            target[1] = np.take_along_axis(alli, top, 1)
    return best[1], fbest[1]


def load(store: Any, data: ClipLike, n: int, dim: int) -> float:
    started = time.perf_counter()
    if store.has_table("videos") and store.count("videos") == n:
        return 0.0
    store.drop_table("videos")
    store.create_table("videos", schema(dim), "video_id", indexed=["category"])
    for start, v, _ in data.batches(n):
        table = rows(start, v, dim)
        if hasattr(store, "_table"):  # LanceDB: a plain append (bench only; upsert is slower)
            store._table("videos").add(table)
        else:
            store.upsert("videos", table, "video_id")
        print(f"  loaded {start + len(v):,}/{n:,}", file=sys.stderr, flush=True)
    return time.perf_counter() - started


def measure(
    store: Any, queries: np.ndarray, truth: np.ndarray, ann: dict | None, where: Filter | None
) -> dict[str, float]:
    times, recalls, short = [], [], 0
    for q, t in zip(queries, truth, strict=True):
        started = time.perf_counter()
        got = store.search("videos", q, K, where, columns=["video_id"], ann=ann)
        times.append(time.perf_counter() - started)
        found = {int(x[1:]) for x in got["video_id"].to_pylist()}
        recalls.append(len(found & set(t.tolist())) / K)
        short += got.num_rows < K
    ms = np.array(times) * 1000
    return {
        "recall": float(np.mean(recalls)),
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "short": short,
    }


def raw_short(store: Any, queries: np.ndarray, ann: dict) -> int:
    """Filtered LanceDB ANN queries returning < K rows before vtrsearch's fallback."""
    from vtrsearch.stores.lance import _expression
    from vtrsearch.stores.lance_ann import configure

    table = store._table("videos")
    expr = _expression(Filter.where(category=list(FILTER)), table.schema)
    short = 0
    for q in queries:
        query = configure(table.search(q, vector_column_name="vector").distance_type("dot"), ann)
        got = query.where(expr, prefilter=True).select(["video_id", "_distance"]).limit(K)
        short += got.to_arrow().num_rows < K
    return short


def row(setting: str, build_s: float | str, unf: dict, fil: dict) -> str:
    b = build_s if isinstance(build_s, str) else f"{build_s:.0f}"
    return (
        f"| {setting} | {b} | {unf['recall']:.3f} | {unf['p50']:.1f} | {unf['p99']:.1f} | "
        f"{fil['recall']:.3f} | {fil['p50']:.1f} | {fil['p99']:.1f} | {fil.get('raw_short', '-')} |"
    )


HEADER = (
    "| setting | build s | recall@10 | p50 ms | p99 ms | filtered recall@10 | p50 ms | p99 ms "
    "| short (raw) |\n|---|---|---|---|---|---|---|---|---|"
)


def lance_settings(n: int, quick: bool) -> list[tuple[str, dict, list[dict]]]:
    parts = max(1, round(n / 4096))
    hnsw = (
        [{"nprobes": p} for p in (5, 10, 20, 40)]
        + [{"nprobes": p, "refine_factor": 5} for p in (5, 10, 20)]
        + [{"nprobes": 20, "ef": 200}, {"nprobes": 20, "ef": 200, "refine_factor": 5}]
    )
    pq = [{"nprobes": p, "refine_factor": r} for p in (10, 20, 40) for r in (5, 20)]
    out = [("lance-ivf-hnsw-sq", {"num_partitions": parts}, hnsw)]
    if not quick:
        out.append(("lance-ivf-hnsw-sq", {"num_partitions": max(1, parts // 4)}, hnsw[:4]))
        out.append(("lance-ivf-pq", {"num_partitions": parts}, pq))
    return out


def qdrant_settings(quick: bool) -> list[tuple[str, dict, list[dict]]]:
    efs = (32, 64, 128, 256)
    sweep = [{"hnsw_ef": ef, "rescore": False} for ef in efs]
    sweep += [{"hnsw_ef": ef, "rescore": True, "oversampling": o} for ef in efs for o in (2, 4)]
    return [("qdrant-hnsw", {"m": 16, "ef_construct": 100}, sweep)]


def run_store(
    uri: str, settings, data, n, dim, queries, truth, ftruth, results: list[dict], flat_queries
) -> list[str]:
    store = open_store(uri)
    lines = []
    print(f"{uri}: load {load(store, data, n, dim):.0f} s", file=sys.stderr, flush=True)
    where = Filter.where(category=list(FILTER))
    lance = hasattr(store, "_table")
    few = slice(0, flat_queries)  # the exact scan is slow: fewer queries
    started = time.perf_counter()
    flat_u = measure(store, queries[few], truth[few], None, None)
    flat_f = measure(store, queries[few], ftruth[few], None, where)
    print(f"exact search in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    name = "LanceDB flat (exact, no index)" if lance else "Qdrant before the build (exact)"
    name += f" [{len(queries[few])} queries]"
    lines.append(row(name, "-", flat_u, flat_f))
    for kind, build, sweep in settings:
        started = time.perf_counter()
        done = store.build_vector_index("videos", kind, build, None)
        seconds = time.perf_counter() - started if done["built"] else float("nan")
        label = ", ".join(
            f"{k}={v}"
            for k, v in done["build"].items()
            if v is not None and k not in ("always_ram", "full_scan_threshold")
        )
        print(f"built {kind} {label} in {seconds:.0f} s", file=sys.stderr, flush=True)
        for ann in sweep:
            unf = measure(store, queries, truth, ann, None)
            fil = measure(store, queries, ftruth, ann, where)
            if lance:
                fil["raw_short"] = raw_short(store, queries, ann)
            setting = f"{kind} ({label}); " + ", ".join(f"{k}={v}" for k, v in ann.items())
            lines.append(row(setting, seconds, unf, fil))
            print(lines[-1], flush=True)
            results.append(
                {
                    "kind": kind,
                    "build": done["build"],
                    "search": ann,
                    "build_s": seconds,
                    "unfiltered": unf,
                    "filtered": fil,
                }
            )
    store.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--stores", default="lance,qdrant")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="reuse --work")
    parser.add_argument("--quick", action="store_true", help="the default setting sweeps only")
    parser.add_argument("--flat-queries", type=int, default=50, help="queries for exact scans")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    work = args.work or Path(f"/tmp/vtrsearch-store-ann-{args.n}")
    if work.exists() and not args.keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    data = ClipLike(dim=args.dim, clusters=args.clusters)
    queries = data.queries(args.queries)
    started = time.perf_counter()
    truth, ftruth = exact_truth(data, args.n, queries)
    print(f"exact truth (numpy) in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    sample, _ = data.items(0, min(args.n, 100_000))
    profile = neighbour_profile(sample, queries)
    print(
        f"n={args.n:,} dim={args.dim} clusters={args.clusters} queries={args.queries}; "
        f"filter: {len(FILTER)}/{CATEGORIES} categories; cosine of neighbours (first "
        f"{len(sample):,} rows): " + ", ".join(f"{k} {v:.3f}" for k, v in profile.items())
    )
    print(HEADER)
    results: list[dict] = []
    lines = []
    stores = {
        "lance": lambda: (str(work / "lance"), lance_settings(args.n, args.quick)),
        "qdrant": lambda: (f"qdrant+local://{work}/qdrant", qdrant_settings(args.quick)),
    }
    for store in (s for s in stores if s in args.stores):
        uri, settings = stores[store]()
        lines += run_store(
            uri,
            settings,
            data,
            args.n,
            args.dim,
            queries,
            truth,
            ftruth,
            results,
            args.flat_queries,
        )
    print("\n" + HEADER + "\n" + "\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
