"""Moment search and MaxSim pooling vs a plain exact search over the same segment vectors.

Usage: python bench/moment_search.py [--videos 10000] [--segments 16] [--dim 1024]
       [--queries 200] [--seed 0]

Builds an index with ``videos x segments`` segment vectors (clustered per video, like frames of
one clip) in embedded LanceDB, then times, in one run and on the same queries:

* ``flat exact top-k``: ``matrix @ q`` + ``argpartition`` over all segment vectors as one flat
  matrix (the reference cost of scanning them);
* ``Index.search(pool="max")``: each video scored by its best segment (MaxSim);
* ``Index.search_moments``: the k best segments, at most one per video;
* ``Index.search`` (mean pool) for scale.

Both vtrsearch results are checked against a numpy brute-force reference. Target: p50 of the
two moment paths <= 1.3x the flat exact top-k.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

import numpy as np

from vtrsearch import Index
from vtrsearch.index.gallery import top_k_of_scores
from vtrsearch.tables import format_table

K = 10


def _time(fn: Callable[[np.ndarray], object], queries: np.ndarray) -> tuple[float, float]:
    fn(queries[0])
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--videos", type=int, default=10_000)
    ap.add_argument("--segments", type=int, default=16)
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "float32", "float16", "int8"],
        help="gallery precision (auto: float16 above 512 MiB of vectors, i.e. at 10k x 16)",
    )
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n, s, d = args.videos, args.segments, args.dim
    centres = rng.normal(size=(n, 1, d)).astype(np.float32)
    seg = (centres + 0.7 * rng.normal(size=(n, s, d)).astype(np.float32)).reshape(n * s, d)
    seg /= np.linalg.norm(seg, axis=1, keepdims=True)
    pooled = seg.reshape(n, s, d).mean(axis=1)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    queries = rng.normal(size=(args.queries, d)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ids = [f"video{i}" for i in range(n)]
    seg_video = np.repeat(np.arange(n), s)
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.create(f"{tmp}/idx", dim=d, precision=args.precision)
        index.add_videos(ids, pooled, categories=rng.integers(0, 20, n).tolist(), batch_size=5000)
        start = time.perf_counter()
        index.add_segments(
            np.repeat(np.array(ids, dtype=object), s).tolist(),
            np.tile(np.arange(s) * 2.0, n),
            np.tile(np.arange(s) * 2.0 + 2.0, n),
            seg,
            batch_size=20_000,
        )
        ingest_s = time.perf_counter() - start
        index.refresh()
        flat = np.ascontiguousarray(seg)

        def flat_top_k(q: np.ndarray) -> object:
            return top_k_of_scores(flat @ q, K)

        # exactness against numpy brute force
        mismatches = 0
        for q in queries[:20]:
            sc = flat @ q
            best = np.full(n, -np.inf, dtype=np.float32)
            np.maximum.at(best, seg_video, sc)
            ref_videos = np.lexsort((np.arange(n), -best))[:K]
            got = [h.video_id for h in index.search(q, k=K, pool="max")]
            mismatches += got != [ids[i] for i in ref_videos]
            order = np.lexsort((np.arange(len(sc)), -sc))
            seen, ref_moments = set(), []
            for r in order:
                if seg_video[r] not in seen:
                    seen.add(seg_video[r])
                    ref_moments.append((ids[seg_video[r]], float(2.0 * (r % s))))
                if len(ref_moments) == K:
                    break
            moments = index.search_moments(q, k=K)
            mismatches += [(m.video_id, m.start) for m in moments] != ref_moments
        rows = []
        base_p50, base_p99 = _time(flat_top_k, queries)
        rows.append(["flat exact top-k (numpy)", n * s, base_p50, base_p99, 1.0, "reference"])
        for label, fn in (
            ("Index.search(pool='max')", lambda q: index.search(q, k=K, pool="max")),
            ("Index.search_moments", lambda q: index.search_moments(q, k=K)),
            ("Index.search (mean pool)", lambda q: index.search(q, k=K)),
        ):
            p50, p99 = _time(fn, queries)
            rows.append([label, n * s if "mean" not in label else n, p50, p99, p50 / base_p50, ""])
        print(
            f"{n} videos x {s} segments x {d}-d, top-{K}, {len(queries)} queries; "
            f"segments ingested in {ingest_s:.1f} s; "
            f"brute-force check: {'identical' if mismatches == 0 else f'{mismatches} MISMATCHES'}"
        )
        print(format_table(["method", "vectors", "p50 ms", "p99 ms", "x flat", "note"], rows))
        worst = max(r[4] for r in rows[1:3])
        print(f"target: moment paths p50 <= 1.3x flat -> {'PASS' if worst <= 1.3 else 'MISS'}")
        return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
