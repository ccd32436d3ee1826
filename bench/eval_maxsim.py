"""Benchmark: MaxSim evaluation (eval --pool max) at the MSR-VTT 1k-A scale.

Times :func:`vtrsearch.eval.metrics.maxsim_ranks` (both directions) against the bare work it
cannot avoid, one float32 ``text @ segments.T`` product, and against the naive way (the full
caption x segment matrix, ``np.maximum.reduceat`` to videos, then ranks from that matrix); the
ranks of the two must be identical. Memory: peak traced allocations beyond the inputs.

Usage:
    python bench/eval_maxsim.py --captions 1000 --videos 1000 --segments 12 --dim 1024
    python bench/eval_maxsim.py --captions 20000 --videos 1000 --segments 12   # all captions
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vtrsearch.eval.metrics import maxsim_ranks, similarity_ranks  # noqa: E402
from vtrsearch.tables import format_table  # noqa: E402


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _timed(fn, repeat: int) -> tuple[float, int, object]:
    """Best wall time of ``repeat`` runs and the peak traced bytes of one run."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--captions", type=int, default=1000)
    p.add_argument("--videos", type=int, default=1000)
    p.add_argument("--segments", type=int, default=12, help="segments per video")
    p.add_argument("--dim", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="best-of-N timings")
    a = p.parse_args(argv)

    rng = np.random.default_rng(a.seed)
    clip = rng.standard_normal((a.videos, a.dim), dtype=np.float32)
    frames = clip[:, None, :] + 0.7 * rng.standard_normal(
        (a.videos, a.segments, a.dim), dtype=np.float32
    )
    segments = _unit_rows(frames.reshape(-1, a.dim))
    segment_video = np.repeat(np.arange(a.videos), a.segments)
    cv = np.arange(a.captions) % a.videos
    text = _unit_rows(clip[cv] + 8.0 * rng.standard_normal((a.captions, a.dim), dtype=np.float32))
    starts = np.arange(a.videos) * a.segments

    def bare() -> None:
        (text @ segments.T).shape  # noqa: B018 - the product is the work

    def engine() -> dict:
        return maxsim_ranks(text, segments, segment_video, cv)

    def naive() -> dict:
        sim = np.maximum.reduceat(text @ segments.T, starts, axis=1)
        return similarity_ranks(sim, cv)

    t_bare, m_bare, _ = _timed(bare, a.repeat)
    t_engine, m_engine, got = _timed(engine, a.repeat)
    t_naive, m_naive, ref = _timed(naive, a.repeat)
    same = all(np.array_equal(got[k], ref[k]) for k in ("t2v", "v2t", "v2t_video_index"))
    mb = 1 << 20
    print(
        f"{a.captions} captions x {a.videos} videos x {a.segments} segments x {a.dim}-d "
        f"({len(segments)} segment rows; inputs {(text.nbytes + segments.nbytes) / mb:.0f} MB)"
    )
    print(
        format_table(
            ["what", "seconds", "x bare product", "peak extra MB"],
            [
                ["bare text @ segments.T", t_bare, 1.0, m_bare / mb],
                ["maxsim_ranks (t2v + v2t)", t_engine, t_engine / t_bare, m_engine / mb],
                ["naive full matrix + ranks", t_naive, t_naive / t_bare, m_naive / mb],
            ],
        )
    )
    t2v = got["t2v"]
    print(f"identical ranks: {same}; t2v R@1 {np.mean(t2v <= 1) * 100:.1f}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
