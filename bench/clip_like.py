"""Synthetic vectors shaped like CLIP video features, for scale and ANN benchmarks.

Isotropic random unit vectors have no near neighbours (every pair is at cosine ~0), so every
ANN index looks broken on them; tight, well-separated clusters make every ANN index look
perfect. Real CLIP features are in between, and this generator imitates what matters:

* a shared mean direction (the "cone" of CLIP embeddings): unrelated items sit at cosine
  ~0.2-0.35 instead of 0;
* a few thousand clusters (topics) of uneven tightness, grouped in super-clusters, so
  neighbouring clusters overlap;
* anisotropic within-cluster noise (a decaying spectrum over a shared low-rank basis, plus a
  little isotropic noise), like the few dominant directions of real features;
* queries drawn from the same clusters with more noise, never near-copies of stored items.

Everything is a pure function of ``seed`` and the row range, so a 1M-row gallery is streamed
in batches (flat memory) and two runs build the same data. :func:`neighbour_profile` prints
the similarity of the 1st, 10th and 100th neighbour so a reader can judge how hard it is.

Usage: python bench/clip_like.py [--n 100000] [--dim 1024] [--clusters 5000]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ClipLike:
    """A deterministic CLIP-like distribution (see the module docstring)."""

    dim: int = 1024
    clusters: int = 5000
    seed: int = 0
    mean_weight: float = 0.5
    noise_weight: float = 0.65
    noise_rank: int = 256
    super_clusters: int = 100
    query_noise: float = 1.2  # queries carry this times the items' noise
    _state: dict = field(default_factory=dict, repr=False, compare=False)

    def _parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self._state:
            rng = np.random.default_rng([self.seed, 7])
            mean = _unit(rng.standard_normal(self.dim))
            supers = _unit(rng.standard_normal((self.super_clusters, self.dim)))
            own = _unit(rng.standard_normal((self.clusters, self.dim)))
            centres = _unit(0.55 * supers[np.arange(self.clusters) % self.super_clusters] + own)
            centres = _unit(centres - np.outer(centres @ mean, mean))  # orthogonal to the cone
            tightness = rng.uniform(0.45, 0.75, self.clusters)  # cluster weight per cluster
            rank = min(self.noise_rank, self.dim)
            basis, _ = np.linalg.qr(rng.standard_normal((self.dim, rank)))
            spectrum = 1.0 / np.sqrt(np.arange(1, rank + 1))
            spectrum /= np.sqrt((spectrum**2).sum())
            self._state.update(
                mean=mean.astype(np.float32),
                centres=centres.astype(np.float32),
                tightness=tightness.astype(np.float32),
                basis=basis.T.astype(np.float32),  # (rank, dim)
                spectrum=spectrum.astype(np.float32),
            )
        s = self._state
        return s["mean"], s["centres"], s["tightness"], s["basis"], s["spectrum"]

    def _sample(self, rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, ...]:
        mean, centres, tightness, basis, spectrum = self._parts()
        cluster = rng.integers(0, self.clusters, n)
        low = (rng.standard_normal((n, len(spectrum)), dtype=np.float32) * spectrum) @ basis
        iso = rng.standard_normal((n, self.dim), dtype=np.float32) / np.sqrt(self.dim)
        x = self.mean_weight * mean + tightness[cluster, None] * centres[cluster]
        x += noise * (np.sqrt(0.8) * low + np.sqrt(0.2) * iso)
        return _unit(x).astype(np.float32), cluster.astype(np.int32)

    def items(self, start: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``start .. start + n`` of the gallery: (unit float32 vectors, cluster ids).

        Rows are generated in blocks of 10,000 seeded by their block number, so any
        ``start``/``n`` gives the same rows as one big call.
        """
        vectors, clusters = [], []
        block = 10_000
        for b in range(start // block, (start + n - 1) // block + 1 if n > 0 else 0):
            rng = np.random.default_rng([self.seed, 1, b])
            v, c = self._sample(rng, block, self.noise_weight)
            lo, hi = max(start, b * block) - b * block, min(start + n, (b + 1) * block) - b * block
            vectors.append(v[lo:hi])
            clusters.append(c[lo:hi])
        if not vectors:
            return np.zeros((0, self.dim), np.float32), np.zeros(0, np.int32)
        return np.concatenate(vectors), np.concatenate(clusters)

    def batches(self, n: int, batch: int = 50_000) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(start, vectors, clusters)`` for the first ``n`` rows, ``batch`` rows at a time."""
        for start in range(0, n, batch):
            v, c = self.items(start, min(batch, n - start))
            yield start, v, c

    def queries(self, n: int) -> np.ndarray:
        """``n`` query vectors from the same clusters, noisier than the items (unit float32)."""
        rng = np.random.default_rng([self.seed, 2])
        return self._sample(rng, n, self.noise_weight * self.query_noise)[0]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def neighbour_profile(gallery: np.ndarray, queries: np.ndarray, ranks=(1, 10, 100)) -> dict:
    """Mean similarity of each query's ``ranks``-th neighbour, and of a random pair."""
    scores = queries @ gallery.T
    top = -np.sort(-scores, axis=1)[:, : max(ranks)]
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(gallery), (2, 2000))
    profile = {f"neighbour {r}": float(top[:, r - 1].mean()) for r in ranks if r <= top.shape[1]}
    profile["random pair"] = float(np.einsum("ij,ij->i", gallery[a], gallery[b]).mean())
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--clusters", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    data = ClipLike(dim=args.dim, clusters=args.clusters)
    gallery, _ = data.items(0, args.n)
    for name, value in neighbour_profile(gallery, data.queries(args.queries)).items():
        print(f"{name:<14} cosine {value:.3f}")


if __name__ == "__main__":
    main()
