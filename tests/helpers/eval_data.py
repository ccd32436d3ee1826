"""Evaluation fixtures' builders: a real 1k-A subset index with MiniLM features, a tiny head."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from vtrsearch import Index
from vtrsearch.index.caption_cache import encode_captions
from vtrsearch.ingest import ingest_msrvtt

MINILM = "hf:minilm"


class _MemoEncoder:
    """MiniLM vectors computed once per test module and served to the caption cache."""

    def __init__(self, encoder, table: dict[str, np.ndarray]):
        self.spec, self.dim, self._table = encoder.spec, encoder.dim, table

    def encode(self, texts, batch_size: int = 64) -> np.ndarray:
        return np.stack([self._table[t] for t in texts])


def build_onek_index(
    json_path: Path,
    tmp: Path,
    minilm,
    *,
    per_category: int,
    train_per_category: int = 0,
    long_captions: int = 4,
    noise: float = 5.0,
    seed: int = 0,
) -> Index:
    """A subset of the real 1k-A file (split 'test', optional 'train') ingested with features.

    Every category gets ``per_category`` test videos, plus ``long_captions`` videos whose
    caption has more than 20 words; features = MiniLM(caption) + noise.
    """
    entries = json.loads(json_path.read_text(encoding="utf-8"))
    by_cat: dict[int, list[dict]] = defaultdict(list)
    for e in entries:
        by_cat[e["category"]].append(e)
    test = [e for c in sorted(by_cat) for e in by_cat[c][:per_category]]
    taken = {e["video_id"] for e in test}
    longs = [e for e in entries if len(e["caption"].split()) > 20 and e["video_id"] not in taken]
    test += longs[:long_captions]
    taken |= {e["video_id"] for e in test}
    train = [
        e
        for c in sorted(by_cat)
        for e in by_cat[c][per_category : per_category + train_per_category]
        if e["video_id"] not in taken
    ]
    texts = sorted({e["caption"] for e in test + train})
    table = dict(zip(texts, minilm.encode(texts, batch_size=64), strict=True))
    root = tmp / "data"
    (root / "features").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for e in test + train:
        vec = table[e["caption"]] + rng.normal(size=minilm.dim) * noise / np.sqrt(minilm.dim)
        np.save(root / "features" / f"{e['video_id']}.npy", vec.astype(np.float32))
    (root / "test.json").write_text(json.dumps(test), encoding="utf-8")
    uri = tmp / "index"
    ingest_msrvtt(
        root,
        uri,
        annotations=root / "test.json",
        encoder=MINILM,
        feature_model=MINILM,
        progress=False,
    )
    if train:
        (root / "train.json").write_text(json.dumps(train), encoding="utf-8")
        ingest_msrvtt(root, uri, annotations=root / "train.json", split="train", progress=False)
    index = Index.open(uri)
    encode_captions(index, _MemoEncoder(minilm, table), progress=False)
    return index


def make_head(path: Path, *, in_dim: int = 384, out_dim: int = 384, seed: int = 0) -> Path:
    """A residual head near the identity (small random last layer), base encoder MiniLM."""
    import torch

    from vtrsearch.heads import HeadConfig, build_head, save_head

    torch.manual_seed(seed)
    cfg = HeadConfig(
        in_dim, out_dim, hidden_dim=64, depth=2, base_encoder=MINILM, feature_model=MINILM
    )
    head = build_head(cfg)
    with torch.no_grad():
        head.mlp[-1].weight.normal_(0.0, 0.05)
    return save_head(head, cfg, path)


