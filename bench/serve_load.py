"""HTTP load on ``vtrsearch serve``: a bounded number of ``like:`` (vector) searches.

Usage: python bench/serve_load.py [--videos 10000] [--captions 20] [--dim 512]
       [--requests 2000] [--concurrency 16] [--k 10] [--url http://127.0.0.1:PORT]

Builds a synthetic index (random unit vectors, MSR-VTT-like 20 captions per video) in a
temporary folder, starts ``vtrsearch serve`` on a free 127.0.0.1 port as its own process,
then sends ``--requests`` GET /api/search?q=like:<random id> with ``--concurrency`` requests
in flight, and prints p50/p90/p99/max latency (client side, milliseconds), throughput and
errors. Target at 10k videos: 0 errors, p99 <= 50 ms. ``--url`` loads an already running
server instead; only 127.0.0.1 / localhost / ::1 are accepted (this is not a load tool for
other people's machines). The client and server share this machine's cores: the load average
is printed with the table, and figures taken under load say so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np

from vtrsearch import Index
from vtrsearch.tables import format_table

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def build_index(path: Path, n: int, dim: int, captions: int, seed: int = 0) -> Index:
    """A synthetic index: ``n`` random unit vectors, 20 categories, ``captions`` per video."""
    rng = np.random.default_rng(seed)
    index = Index.create(path, dim=dim, feature_model="synthetic")
    ids = [f"video{i}" for i in range(n)]
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    splits = ["test" if i % 10 == 0 else "train" for i in range(n)]
    index.add_videos(
        ids, vectors, categories=rng.integers(0, 20, n).tolist(), splits=splits, batch_size=20000
    )
    if captions:
        sen = [str(i * captions + j) for i in range(n) for j in range(captions)]
        vids = [ids[i] for i in range(n) for _ in range(captions)]
        texts = [f"synthetic caption {s} of a video" for s in sen]
        index.add_captions(sen, vids, texts, batch_size=100_000)
    return index


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, port: int, log: Path, threads: int | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "vtrsearch", "serve", str(index_dir), "--port", str(port)]
    cmd += ["--log-level", "warning"]
    if threads:
        cmd += ["--threads", str(threads)]
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


class Connection:
    """One keep-alive HTTP/1.1 connection, just enough for GET + JSON answers.

    Deliberately not httpx: the client shares the machine's cores with the server, and httpx
    spent about 2 ms of CPU per request here, as much as the server; this costs a tenth.
    """

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def search_target(video_id: str, k: int) -> str:
    return "/api/search?" + urlencode({"q": f"like:{video_id}", "k": k})


async def wait_ready(host: str, port: int, proc: subprocess.Popen | None, log: Path | None):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text() if log else ''}")
        conn = Connection(host, port)
        try:
            if (await conn.get("/api/health"))[0] == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        await asyncio.sleep(0.2)
    raise SystemExit("server did not start within 120 s")


async def run_load(
    host: str, port: int, ids: list[str], requests: int, concurrency: int, k: int, seed: int
) -> tuple[list[float], dict[str, int], float]:
    """Latencies (ms) of successful requests, error counts by kind, wall seconds."""
    rng = np.random.default_rng(seed)
    picks = [ids[i] for i in rng.integers(0, len(ids), requests)]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for vid in picks:
        queue.put_nowait(vid)

    async def worker() -> None:
        conn = Connection(host, port)
        try:
            while True:
                try:
                    vid = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                try:
                    status, body = await conn.get(search_target(vid, k))
                    ok = status == 200 and json.loads(body)["results"][0]["video_id"] == vid
                    kind = None if ok else f"HTTP {status}"
                except Exception as exc:  # counted, not raised: this is a load test
                    kind = type(exc).__name__
                    conn.close()
                    conn = Connection(host, port)
                if kind is None:
                    latencies.append((time.perf_counter() - start) * 1000)
                else:
                    errors[kind] = errors.get(kind, 0) + 1
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    return latencies, errors, wall


async def warm(host: str, port: int, ids: list[str], k: int) -> None:
    conn = Connection(host, port)
    try:
        for vid in ids[:50]:  # not counted
            await conn.get(search_target(vid, k))
    finally:
        conn.close()


def timed_load(
    host: str, port: int, ids: list[str], args: argparse.Namespace, server_pid: int | None
) -> tuple[list[float], dict[str, int], float, float | None, float]:
    """:func:`run_load` plus the CPU seconds the server and this client spent on it."""
    asyncio.run(warm(host, port, ids, args.k))
    server_cpu = cpu_seconds(server_pid) if server_pid else None
    client_cpu = time.process_time()
    latencies, errors, wall = asyncio.run(
        run_load(host, port, ids, args.requests, args.concurrency, args.k, args.seed)
    )
    client_cpu = time.process_time() - client_cpu
    if server_pid:
        server_cpu = cpu_seconds(server_pid) - server_cpu
    return latencies, errors, wall, server_cpu, client_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--captions", type=int, default=20, help="captions per video")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="the server's --threads (default: its own)")
    parser.add_argument("--url", help="load this running server (127.0.0.1 only) instead")
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 256:
        raise SystemExit("--requests must be in 1..100000 and --concurrency in 1..256")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        proc = None
        if args.url:
            host = urlsplit(args.url).hostname or ""
            if host not in LOCAL_HOSTS:
                raise SystemExit(f"--url must point at this machine (127.0.0.1), not {host!r}")
            port = urlsplit(args.url).port or 80
            ids = [f"video{i}" for i in range(args.videos)]
            asyncio.run(wait_ready(host, port, None, None))
        else:
            t = time.perf_counter()
            index = build_index(Path(tmp) / "index", args.videos, args.dim, args.captions)
            ids = index.gallery().ids.tolist()
            print(
                f"built {len(ids)} videos x {args.captions} captions, dim {args.dim} "
                f"in {time.perf_counter() - t:.1f} s"
            )
            port = free_port()
            log = Path(tmp) / "serve.log"
            proc = start_server(Path(tmp) / "index", port, log, args.threads)
            host = "127.0.0.1"
            asyncio.run(wait_ready(host, port, proc, log))
        try:
            pid = proc.pid if proc is not None else None
            latencies, errors, wall, server_cpu, client_cpu = timed_load(host, port, ids, args, pid)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    load_after = os.getloadavg()
    lat = np.asarray(latencies) if latencies else np.zeros(1)
    rows = [
        [
            f"like: k={args.k}",
            args.videos,
            args.requests,
            args.concurrency,
            sum(errors.values()),
            f"{np.percentile(lat, 50):.1f}",
            f"{np.percentile(lat, 90):.1f}",
            f"{np.percentile(lat, 99):.1f}",
            f"{lat.max():.1f}",
            f"{len(latencies) / wall:.0f}",
        ]
    ]
    head = ["query", "videos", "requests", "conc.", "errors"]
    head += ["p50 ms", "p90 ms", "p99 ms", "max ms", "req/s"]
    print(format_table(head, rows))
    if errors:
        print("errors: " + ", ".join(f"{k} x{v}" for k, v in sorted(errors.items())))
    print(
        f"cpus: {os.cpu_count()}; load average before {load_before[0]:.2f}, "
        f"after {load_after[0]:.2f} (1 min)"
    )
    # CPU per request is what the latency figures cannot show on a busy machine: the
    # throughput ceiling of N idle cores is about N / (server + client CPU per request).
    n = max(1, args.requests)
    if server_cpu is not None:
        print(f"server CPU per request: {server_cpu / n * 1000:.2f} ms")
    print(f"client CPU per request: {client_cpu / n * 1000:.2f} ms (this process)")
    p99 = float(np.percentile(lat, 99))
    verdict = "met" if not errors and p99 <= 50 else "NOT met"
    print(f"target (0 errors, p99 <= 50 ms): {verdict}")


if __name__ == "__main__":
    main()
