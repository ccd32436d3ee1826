"""``vtrsearch train INDEX`` with its defaults on a small dataset: held-out R@1 of the head.

Usage: python bench/small_data_train.py [--videos 1000] [--test 200] [--noise 0.02] [--seed 0]

The 1k-A test captions of MSR-VTT (``../shared/data/msrvtt/msrvtt_test_1k.json``; synthetic
captions when absent) are encoded with ``hf:minilm`` (384-d); every video vector is a planted
linear map of its caption's vector, ``normalize(A t + noise)`` with a random 384 -> 256 ``A``.
The first ``videos - test`` videos are the train split (one caption each: ~800 training pairs,
of which the trainer holds out 10% for validation), the rest the test split. The head is
trained through the command line with no training options but ``--out``, then evaluated on the
test split (its own gallery): R@1 of the untrained-space baseline is chance, a head that learnt
the map reaches high R@1.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from vtrsearch import Index, load_encoder
from vtrsearch.cli.main import main as cli
from vtrsearch.eval.run import evaluate_index

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "msrvtt"


def captions(n: int, seed: int) -> list[str]:
    path = SHARED / "msrvtt_test_1k.json"
    if path.exists():
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [r["caption"] for r in rows][:n]
    rng = np.random.default_rng(seed)
    who = ["a man", "a woman", "a child", "a dog", "two people", "a band", "a chef", "a car"]
    what = ["runs", "sings", "cooks pasta", "plays guitar", "drives fast", "dances", "talks"]
    where = ["on a beach", "in a kitchen", "on stage", "in a park", "at night", "on a road"]
    return [f"{rng.choice(who)} {rng.choice(what)} {rng.choice(where)} {i}" for i in range(n)]


def build_index(uri: str, n: int, n_test: int, noise: float, seed: int) -> None:
    texts = captions(n, seed)
    t = load_encoder("hf:minilm").encode(texts, batch_size=128)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((t.shape[1], 256)) / np.sqrt(t.shape[1])
    v = t @ a + noise * rng.standard_normal((len(texts), 256))
    ids = [f"video{i}" for i in range(len(texts))]
    splits = ["train"] * (len(texts) - n_test) + ["test"] * n_test
    index = Index.create(uri, dim=256, feature_model="planted:linear-map", categories=["all"])
    index.add_videos(ids, v, categories=[0] * len(ids), splits=splits)
    index.add_captions([f"{i}#0" for i in ids], ids, texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uri, head = f"{tmp}/index", f"{tmp}/head"
        build_index(uri, args.videos, args.test, args.noise, args.seed)
        started = time.perf_counter()
        assert cli(["encode", uri, "--encoder", "hf:minilm"]) == 0
        assert cli(["train", uri, "--base-encoder", "hf:minilm", "--out", head]) == 0
        seconds = time.perf_counter() - started
        config = json.loads(Path(head, "config.json").read_text())
        report = evaluate_index(Index.open(uri), split="test", heads=[head], progress=False)
        row = report.head_rows[-1].metrics["t2v"]
        training = config["training"]
        print(
            f"{args.videos - args.test} train videos (1 caption each), {args.test} test videos; "
            f"train: {training['epochs']} epochs, warm-up {training['warmup_steps']} steps, "
            f"{training['n_train_captions']} training pairs; encode + train {seconds:.1f} s"
        )
        print(
            f"held-out t2v (test split, {args.test} videos): R@1 {row.recall(1):.1f}  "
            f"R@5 {row.recall(5):.1f}  R@10 {row.recall(10):.1f}  MedR {row.medr:.1f}  "
            f"(chance R@1 {100 / args.test:.1f})"
        )


if __name__ == "__main__":
    main()
