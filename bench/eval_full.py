"""Benchmark: full MSR-VTT-test-shaped evaluation vs one bare similarity product.

Target: both directions in <= 1.3x the time of one float32 ``text @ video.T`` of the same shape
(same process), with <= 1 GB extra memory beyond the inputs.

Usage:
    python bench/eval_full.py --captions 59800 --videos 2990 --dim 1024 --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vtrsearch.eval.metrics import evaluate  # noqa: E402

TARGET_RATIO = 1.3
TARGET_MEMORY = 1 << 30


def _unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--captions", type=int, default=59800)
    p.add_argument("--videos", type=int, default=2990)
    p.add_argument("--dim", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk-size", type=int, default=4096)
    p.add_argument("--repeat", type=int, default=3, help="best-of-N timings")
    a = p.parse_args(argv)

    rng = np.random.default_rng(a.seed)
    text = _unit_rows(rng, a.captions, a.dim)
    video = _unit_rows(rng, a.videos, a.dim)
    cv = np.arange(a.captions) % a.videos  # every video gets captions round-robin

    def bare() -> None:
        (text @ video.T).shape  # noqa: B018 - the product is the work

    def full() -> dict:
        return evaluate(text, video, cv, chunk_size=a.chunk_size)

    bare()  # warm up BLAS threads and page cache
    t_bare, t_eval = float("inf"), float("inf")
    for _ in range(a.repeat):  # interleave so drift affects both alike
        t_bare = min(t_bare, _time(bare, 1)[0])
        t_e, res = _time(full, 1)
        t_eval = min(t_eval, t_e)

    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    full()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()

    ratio = t_eval / t_bare
    ok = ratio <= TARGET_RATIO and peak <= TARGET_MEMORY
    print(f"shape: {a.captions} captions x {a.videos} videos x {a.dim} dims, float32")
    print(f"{'measure':<36}{'value':>14}")
    print(f"{'bare text @ video.T (s, best of ' + str(a.repeat) + ')':<36}{t_bare:>14.3f}")
    print(f"{'evaluate t2v+v2t (s, best of ' + str(a.repeat) + ')':<36}{t_eval:>14.3f}")
    print(f"{'ratio (target <= 1.3)':<36}{ratio:>14.3f}")
    print(f"{'peak extra memory (MiB, <= 1024)':<36}{peak / 2**20:>14.1f}")
    print(f"{'t2v R@1 / v2t R@1 (random: ~0)':<36}{res['t2v'].r1:>7.3f}{res['v2t'].r1:>7.3f}")
    print(f"{'target':<36}{'PASS' if ok else 'FAIL':>14}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
