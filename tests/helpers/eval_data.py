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


PLANTED_SUBJECTS = ("a man", "a woman", "a child", "an old dog", "two friends", "a robot")
PLANTED_ACTIONS = (
    "rides a red bicycle down a hill",
    "plays the piano in a quiet room",
    "paints a large mural on a wall",
    "swims across a cold lake at dawn",
    "juggles three oranges at a market and laughs loudly with the crowd around",
)
PLANTED_SEGMENTS = 8
PLANTED_BARE = ("v05", "v17")  # videos without segments


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def thumbnail_jpeg(video_row: int, segment: int) -> bytes:
    """A small JPEG whose colour says which video and segment it belongs to."""
    import io

    from PIL import Image

    pixels = np.zeros((24, 32, 3), dtype=np.uint8)
    pixels[..., 0] = 8 * video_row
    pixels[..., 1] = 30 * segment
    pixels[:12, :16, 2] = 255
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def build_planted_moments_index(uri: Path, minilm, *, thumbnails: bool = False) -> Index:
    """30 videos of 2-s segments, one segment planted near the video's caption (real MiniLM).

    Each pooled vector is the mean of the video's segments pulled toward the *next* video's
    caption, so mean pooling confuses neighbours while the best segment finds the right video.
    The videos in ``PLANTED_BARE`` have no segments (their pooled vector is their caption's).
    With ``thumbnails`` every segment stores :func:`thumbnail_jpeg` of its video and number.
    """
    rng = np.random.default_rng(7)
    texts = [f"{s} {a}" for s in PLANTED_SUBJECTS for a in PLANTED_ACTIONS]
    ids = [f"v{i:02d}" for i in range(len(texts))]
    emb = _unit(minilm.encode(texts))
    index = Index.create(uri, dim=384, feature_model=MINILM, encoder=MINILM)
    segs, pooled = {}, []
    for i, vid in enumerate(ids):
        vecs = _unit(rng.normal(size=(PLANTED_SEGMENTS, 384)))
        vecs[int(rng.integers(PLANTED_SEGMENTS))] = _unit(emb[i] + 0.02 * rng.normal(size=384))
        segs[vid] = vecs
        lean = emb[(i + 1) % len(ids)]
        pooled.append(emb[i] if vid in PLANTED_BARE else _unit(vecs.mean(axis=0) + 0.5 * lean))
    index.add_videos(ids, np.array(pooled), categories=[i % 4 for i in range(len(ids))])
    index.add_captions([f"{v}#0" for v in ids], ids, texts)
    rows = [(v, j) for v in ids if v not in PLANTED_BARE for j in range(PLANTED_SEGMENTS)]
    index.add_segments(
        [v for v, _ in rows],
        [2.0 * j for _, j in rows],
        [2.0 * j + 2.0 for _, j in rows],
        np.concatenate([segs[v] for v in ids if v not in PLANTED_BARE]),
        thumbnails=[thumbnail_jpeg(ids.index(v), j) for v, j in rows] if thumbnails else None,
    )
    return index
