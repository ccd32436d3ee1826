"""Scale bench: one index of N x 1024 CLIP-like videos, streamed in, then searched every way.

Usage::

    python bench/scale.py --n 1000000                       # the issue-13 figures
    python bench/scale.py --n 100000 --json scale.json      # also write the figures as JSON
    python bench/scale.py --n 100000 --precisions float32 --ann ""   # exact float32 only

Builds the index with ``Index.add_videos`` from a stream of Arrow batches of
:class:`clip_like.ClipLike` vectors (category = cluster % 20, so filtering on 3 categories
keeps ~15% of the videos), and times a raw LanceDB append of the same batches (generation time
excluded from both). Then each search path runs in a fresh child process, so its memory is its
own: ``Index.open(uri, precision=...)`` for each ``--precisions`` entry and
``build_ann(kind)`` + ``search(..., mode="ann")`` for each ``--ann`` kind (default
``faiss-ivf-pq4fs``). Paths this checkout does not have (no
``precision=``/``build_ann`` yet) print "not available" rows. Raw LanceDB flat search of the
same table runs on fewer queries (it is slow).

Columns: p50/p99 of single-query ``Index.search(q, k=10)`` latency, unfiltered and filtered
(~15%); ``top-10 vs f32``: the fraction of top-10 ids equal to the float32 exact answer (1.000
for the exact paths; recall@10 for ANN); ``open cold``: first ``Index.open`` + gallery load in
a new process (the OS page cache may hold the files), ``open warm``: a second open in the same
process; RSS/HWM: the child's VmRSS after its searches and its peak (VmHWM), from
``/proc/self/status`` (no psutil). Run with ``nice -n 5`` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
from clip_like import ClipLike

from vtrsearch import Index
from vtrsearch.categories import CategoryMap
from vtrsearch.index.schema import vector_array, videos_schema
from vtrsearch.tables import format_table

N_CATEGORIES = 20
FILTER = [0, 1, 2]  # 3 of 20 categories: ~15% of the videos


def machine() -> dict:
    """CPU count and model, memory, Python and OS of this machine."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 2**20
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem, 1) if mem else None,
        "python": platform.python_version(),
        "os": platform.platform(),
        "load": round(os.getloadavg()[0], 1),
    }


def status() -> dict:
    """VmRSS and VmHWM of this process in MB (``/proc/self/status``)."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


class TimedBatches:
    """Arrow batches of the first ``n`` CLIP-like rows, each made once; with ``raw`` (a LanceDB
    table) each batch is also appended there with a raw ``table.add`` (timed in
    :attr:`raw_seconds`). :attr:`seconds` counts all the time spent in here, so the ingest
    figure of the consumer excludes data generation and the raw append."""

    def __init__(self, data: ClipLike, n: int, batch: int, raw=None):
        self.data, self.n, self.batch, self.raw = data, n, batch, raw
        self.seconds = 0.0
        self.raw_seconds = 0.0
        self.names = CategoryMap.msrvtt()

    def __iter__(self) -> Iterator[pa.Table]:
        batches = self.data.batches(self.n, self.batch)
        while True:
            start_t = time.perf_counter()
            try:
                start, vectors, clusters = next(batches)
            except StopIteration:
                return
            table = self._table(start, vectors, clusters)
            if self.raw is not None:
                full = self._full(table)
                raw_t = time.perf_counter()
                self.raw.add(full)
                self.raw_seconds += time.perf_counter() - raw_t
            self.seconds += time.perf_counter() - start_t
            yield table

    @staticmethod
    def _table(start: int, vectors: np.ndarray, clusters: np.ndarray) -> pa.Table:
        return pa.table(
            {
                "video_id": [f"v{start + i}" for i in range(len(vectors))],
                "category": pa.array(clusters % N_CATEGORIES, pa.int32()),
                "vector": vector_array(vectors),
            }
        )

    def _full(self, table: pa.Table) -> pa.Table:
        """``table`` with every column of the videos schema (what ``add_videos`` stores)."""
        n = table.num_rows
        cats = table["category"].to_pylist()
        full = {
            **{name: table[name] for name in table.column_names},
            "category_name": [self.names.name(c) for c in cats],
            "split": [""] * n,
            "start": pa.nulls(n, pa.float64()),
            "end": pa.nulls(n, pa.float64()),
            "url": pa.nulls(n, pa.string()),
        }
        return pa.table(full).select(videos_schema(self.data.dim).names)


def ingest(folder: str, data: ClipLike, n: int, batch: int, quiet: bool, raw: bool) -> dict:
    """Stream ``n`` rows into a new index at ``folder/index`` (and, with ``raw``, the same
    batches into a plain LanceDB table, dropped afterwards); seconds and rows/s of each,
    without data generation. Both are warmed up on a few rows first."""
    import lancedb

    dim = data.dim
    warm = TimedBatches(ClipLike(dim=dim, clusters=10), 100, 100)
    Index.create(f"{folder}/warm", dim=dim).add_videos(list(warm))
    db = lancedb.connect(f"{folder}/raw")
    db.create_table("warm", schema=videos_schema(dim)).add(warm._full(next(iter(warm))))
    table = db.create_table("videos", schema=videos_schema(dim)) if raw else None
    index = Index.create(f"{folder}/index", dim=dim)
    stream = TimedBatches(data, n, batch, raw=table)
    start = time.perf_counter()
    written = index.add_videos(stream, total=n, progress=not quiet)
    seconds = time.perf_counter() - start - stream.seconds
    assert written == n, (written, n)
    out = {"seconds": seconds, "rows_per_s": n / seconds}
    if table is not None:
        assert table.count_rows() == n
        out["raw_seconds"] = stream.raw_seconds
        out["raw_rows_per_s"] = n / stream.raw_seconds
        out["ratio"] = stream.raw_seconds / seconds
        db.drop_table("videos")
    return out


# child: one search path in a fresh process ------------------------------------------------
def _open(uri: str, precision: str) -> Index:
    try:
        return Index.open(uri, gallery="memory", precision=precision)
    except TypeError:  # no precision= in this checkout
        if precision != "float32":
            raise
        return Index.open(uri, gallery="memory")


def _search(index: Index, q: np.ndarray, mode: str, categories=None) -> list[str]:
    try:
        hits = index.search(q, k=10, categories=categories, mode=mode)
    except TypeError:  # no mode= in this checkout: exact is the only path
        if mode != "exact":
            raise
        hits = index.search(q, k=10, categories=categories)
    return [h.video_id for h in hits]


def child(args: argparse.Namespace) -> dict:
    """Open, (build ANN,) search; the figures as a dict (printed as JSON by ``main``)."""
    import lancedb  # noqa: F401 - imported before the clock: open times exclude imports

    out: dict = {}
    start = time.perf_counter()
    try:
        index = _open(args.child, args.precision)
        index.gallery()
    except (TypeError, ValueError) as exc:
        return {"error": f"precision={args.precision}: {type(exc).__name__}: {exc}"}
    out["open_cold_s"] = time.perf_counter() - start
    del index
    start = time.perf_counter()
    index = _open(args.child, args.precision)
    index.gallery()
    out["open_warm_s"] = time.perf_counter() - start
    mode = "exact"
    if args.ann_kind:
        mode = "ann"
        start = time.perf_counter()
        try:
            out["ann"] = index.build_ann(args.ann_kind)
        except AttributeError as exc:
            return {"error": f"build_ann: {exc}"}
        out["build_s"] = time.perf_counter() - start
    data = ClipLike(dim=args.dim, clusters=args.clusters, seed=args.seed)
    queries = data.queries(args.queries)
    try:
        _search(index, queries[0], mode)  # warm-up (kernels, caches)
    except (TypeError, ValueError) as exc:
        return {"error": f"search(mode={mode!r}): {type(exc).__name__}: {exc}"}
    for name, cats in (("all", None), ("filtered", FILTER)):
        ids, seconds = [], []
        for q in queries:
            start = time.perf_counter()
            ids.append(_search(index, q, mode, cats))
            seconds.append(time.perf_counter() - start)
        out[name] = {"ids": ids, "seconds": seconds}
    if args.profile:  # similarity of the 1st, 10th and 100th neighbour: how hard the data is
        hits = [index.search(q, k=100) for q in queries[:50]]
        out["profile"] = {
            f"neighbour {r}": float(np.mean([h[r - 1].score for h in hits])) for r in (1, 10, 100)
        }
    out.update(status())
    return out


def raw_flat(uri: str, queries: np.ndarray, nq: int) -> dict:
    """Raw LanceDB flat (brute-force) search of the index's videos table."""
    import lancedb

    table = lancedb.connect(uri).open_table("videos")
    ids, seconds = [], []
    for q in queries[:nq]:
        start = time.perf_counter()
        hits = (
            table.search(q, vector_column_name="vector")
            .distance_type("dot")
            .select(["video_id", "_distance"])
            .limit(10)
            .to_arrow()
        )
        seconds.append(time.perf_counter() - start)
        ids.append(hits["video_id"].to_pylist())
    return {"all": {"ids": ids, "seconds": seconds}}


def run_child(args: argparse.Namespace, uri: str, precision: str, ann: str = "") -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", uri]
    cmd += ["--precision", precision, "--dim", str(args.dim), "--clusters", str(args.clusters)]
    cmd += ["--seed", str(args.seed), "--queries", str(args.queries)]
    if ann:
        cmd += ["--ann-kind", ann]
    if precision == "float32" and not ann:
        cmd += ["--profile"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"child failed: {tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def agreement(got: list[list[str]], truth: list[list[str]]) -> float:
    """Mean fraction of each true top-10 found in ``got`` (recall@10)."""
    shared = [len(set(g) & set(t)) / max(1, len(t)) for g, t in zip(got, truth, strict=False)]
    return float(np.mean(shared)) if shared else float("nan")


def _row(name: str, result: dict, truth: dict | None) -> list:
    if "error" in result:
        return [name, "not available", *[""] * 8, result["error"][:90]]
    cells = [name]
    for part in ("all", "filtered"):
        if part in result:
            cells += [f"{v:.1f}" for v in percentiles(result[part]["seconds"])]
        else:
            cells += ["-", "-"]
    recall = "-"
    if truth is not None:
        recall = f"{agreement(result['all']['ids'], truth['all']['ids']):.3f}"
        if "filtered" in result:
            recall += f" / {agreement(result['filtered']['ids'], truth['filtered']['ids']):.3f}"
    cells.append(recall)
    for key in ("open_cold_s", "open_warm_s"):
        cells.append(f"{result[key]:.2f}" if key in result else "-")
    for key in ("VmRSS", "VmHWM"):
        cells.append(f"{result[key]:,.0f}" if key in result else "-")
    note = f"build {result['build_s']:.0f} s" if "build_s" in result else ""
    return [*cells, note]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="videos in the index")
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=50_000, help="rows per streamed batch")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--raw-queries", type=int, default=20, help="raw LanceDB flat queries")
    parser.add_argument("--precisions", default="float32,float16,int8")
    parser.add_argument("--ann", default="faiss-ivf-pq4fs", help="comma-separated ANN kinds")
    parser.add_argument("--no-raw-append", action="store_true", help="skip the raw append")
    parser.add_argument("--dir", help="where the temporary index goes (1M x 1024: ~5 GB)")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--ann-kind", default="", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    data = ClipLike(dim=args.dim, clusters=args.clusters, seed=args.seed)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        report(args, data, tmp)


def report(args: argparse.Namespace, data: ClipLike, tmp: str) -> None:
    figures: dict = {"n": args.n, "dim": args.dim, "clusters": args.clusters, "machine": machine()}
    uri = f"{tmp}/index"
    raw = not args.no_raw_append
    figures["ingest"] = ingest(tmp, data, args.n, args.batch, args.quiet, raw)
    figures["ingest"].update(status())  # the builder's peak memory: flat when streamed
    paths: dict[str, dict] = {}
    for precision in [p for p in args.precisions.split(",") if p]:
        paths[f"exact {precision}"] = run_child(args, uri, precision)
    for kind in [k for k in args.ann.split(",") if k]:
        paths[f"ann {kind}"] = run_child(args, uri, "float32", kind)
    queries = data.queries(args.queries)  # the children's queries (a pure function of n)
    paths["raw LanceDB flat"] = raw_flat(uri, queries, args.raw_queries)
    truth = paths.get("exact float32")
    truth = truth if truth and "error" not in truth else None
    rows = [_row(name, result, truth) for name, result in paths.items()]
    print_report(figures, rows, truth)
    if args.json:
        figures["paths"] = {
            name: {k: v for k, v in result.items() if k not in ("all", "filtered")}
            | {
                f"{part} p50/p99 ms": percentiles(result[part]["seconds"])
                for part in ("all", "filtered")
                if part in result
            }
            for name, result in paths.items()
        }
        figures["table"] = rows
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))


def print_report(figures: dict, rows: list[list], truth: dict | None) -> None:
    m = figures["machine"]
    print(f"bench/scale.py: {figures['n']:,} x {figures['dim']} CLIP-like videos")
    print(f"machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['mem_gib']} GiB, load {m['load']}")
    ing = figures["ingest"]
    line = (
        f"ingest (add_videos, streamed): {ing['rows_per_s']:,.0f} rows/s ({ing['seconds']:.1f} s)"
    )
    if "raw_seconds" in ing:
        line += f"; raw LanceDB append of the same batches: {ing['raw_rows_per_s']:,.0f} rows/s"
        line += f" ({ing['raw_seconds']:.1f} s); ratio raw/add_videos {ing['ratio']:.2f}"
    print(line)
    rss, hwm = ing.get("VmRSS", 0), ing.get("VmHWM", 0)
    print(f"ingest process memory: VmRSS {rss:,.0f} MB, VmHWM {hwm:,.0f} MB")
    if truth and "profile" in truth:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in truth["profile"].items())
        print(f"mean cosine of the {shown}")
    headers = ["path", "p50 ms", "p99 ms", "filt p50", "filt p99", "top-10 vs f32 (all / filt)"]
    headers += ["open cold s", "open warm s", "RSS MB", "HWM MB", "note"]
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
