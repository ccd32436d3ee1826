"""Data for the server tests: 24 captioned videos in 6 categories and two splits (one caption is
an XSS payload), the five real clips' captions, and an index builder (MiniLM vectors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vtrsearch import Index, load_encoder

MINILM = "hf:minilm"
XSS = "<img src=x onerror=alert(1)>"
SUBJECTS = ("a man", "a woman", "a child", "two friends")
ACTIONS = {
    "music": ("sings a song on stage", "plays the guitar", "plays the drums in a band"),
    "cooking": ("cooks pasta in a kitchen", "chops vegetables", "bakes a cake in an oven"),
    "sports/actions": ("scores a goal in soccer", "runs on a track", "throws a basketball"),
    "vehicles/autos": ("drives a red car fast", "repairs a motorbike", "washes a truck"),
    "animals/pets": ("plays with a dog in the park", "feeds a cat", "rides a horse"),
    "travel": ("walks on a sunny beach", "visits an old castle", "hikes up a mountain"),
}


def _videos() -> dict[str, tuple[str, list[str], str]]:
    """video id -> (category, captions, split): 4 videos per category, 3 captions each."""
    out = {}
    for c, (category, actions) in enumerate(ACTIONS.items()):
        for i, subject in enumerate(SUBJECTS):
            caps = [f"{subject} {actions[(i + j) % 3]}" for j in range(3)]
            out[f"video{c * 4 + i}"] = (category, caps, "test" if i % 2 else "train")
    out["video23"][1][1] = XSS  # a stored caption that must never run as HTML
    return out


VIDEOS = _videos()


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (32, 24)) -> bytes:
    """A small solid-colour JPEG (a stand-in thumbnail)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG")
    return buf.getvalue()


def add_caption_segments(index: Index, videos: dict[str, tuple[str, list[str], str]]) -> None:
    """Segment ``j`` of every video spans ``[2j, 2j + 2)`` s and holds the MiniLM vector of its
    caption ``j`` (so a query matching a caption finds its moment), with a JPEG thumbnail
    except for the last segment."""
    enc = load_encoder(MINILM)
    ids, starts, ends, vectors, thumbs = [], [], [], [], []
    for n, (vid, (_, caps, _)) in enumerate(videos.items()):
        for j, vec in enumerate(enc.encode(caps)):
            ids.append(vid)
            starts.append(2.0 * j)
            ends.append(2.0 * j + 2.0)
            vectors.append(vec)
            last = j == len(caps) - 1
            thumbs.append(None if last else jpeg(((40 * n) % 256, 80 * j, 120)))
    index.add_segments(ids, starts, ends, np.stack(vectors), thumbnails=thumbs)


def build_index(path: Path, videos: dict[str, tuple[str, list[str], str]], **create) -> Index:
    """An index whose video vectors are the mean MiniLM embedding of their captions."""
    enc = load_encoder(MINILM)
    index = Index.create(path, dim=384, feature_model=MINILM, encoder=MINILM, **create)
    ids = list(videos)
    vectors = np.stack([enc.encode(videos[v][1]).mean(axis=0) for v in ids])
    index.add_videos(
        ids,
        vectors,
        categories=[videos[v][0] for v in ids],
        splits=[videos[v][2] for v in ids],
    )
    # numeric sen_ids, written out of order: captions must come back in sen_id order
    rows = [(str(10 * n + j), v, t) for n, v in enumerate(ids) for j, t in enumerate(videos[v][1])]
    rows.reverse()
    index.add_captions(*(list(c) for c in zip(*rows, strict=True)))
    return index


CLIPS: dict[str, tuple[str, list[str], str]] = {
    "video1085": (
        "sports/actions",
        ["a triple jump athlete talks to the camera in an interview", "a young man talks"],
        "test",
    ),
    "video1672": (
        "sports/actions",
        ["basketball players shoot free throws in a crowded arena", "a basketball game"],
        "test",
    ),
    "video3696": (
        "music",
        ["an orchestra plays classical music while a conductor leads", "violins on stage"],
        "test",
    ),
    "video740": (
        "music",
        ["dancers perform with drums on a dark stage", "a dance show with drums"],
        "test",
    ),
    "video7595": (
        "science/technology",
        [XSS, "a man gives a talk on a stage in front of an audience"],
        "test",
    ),
}
"""The five real MSR-VTT sample clips with captions written for them (the first caption of
video7595 is the XSS payload, so the result grid shows it)."""


def make_head(path: Path) -> Path:
    """A 384 -> 384 MiniLM head with perturbed weights (it ranks differently from the
    baseline), saved to ``path``."""
    import torch

    from vtrsearch.heads import HeadConfig, build_head, save_head

    torch.manual_seed(0)
    cfg = HeadConfig(384, 384, hidden_dim=32, depth=2, dropout=0.0)
    cfg.base_encoder, cfg.feature_model = MINILM, MINILM
    head = build_head(cfg)
    with torch.no_grad():
        for p in head.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return save_head(head, cfg, path)


CLIP_SEGMENTS: dict[str, list[tuple[float, float, str]]] = {
    "video1085": [
        (0.0, 6.0, "a name and a title card on screen"),
        (6.0, 19.5, "a triple jump athlete talks to the camera in an interview"),
    ],
    "video1672": [(0.0, 13.5, "basketball players shoot free throws in a crowded arena")],
    "video3696": [
        (0.0, 4.0, "people sit in a dark concert hall"),
        (4.0, 8.0, "an orchestra plays classical music while a conductor leads"),
        (8.0, 11.5, "violins on stage"),
    ],
    "video740": [(0.0, 10.5, "dancers perform with drums on a dark stage")],
    "video7595": [(0.0, 13.5, "a man gives a talk on a stage in front of an audience")],
}
"""Moments of the real clips: the orchestra is video3696's second segment (4-8 s), so the
page must seek there."""


def clip_thumbnail(path: Path, at: float, width: int = 160) -> bytes:
    """A JPEG of the frame shown at ``at`` seconds into the clip (PyAV), ``width`` px wide."""
    import io

    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frame = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= at:
                break
        assert frame is not None, f"no frames in {path}"
        image = frame.to_image()
    image = image.resize((width, round(width * image.height / image.width)))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def add_clip_segments(index: Index, clips_dir: Path) -> None:
    """:data:`CLIP_SEGMENTS` with MiniLM vectors and real thumbnails (the middle frame)."""
    enc = load_encoder(MINILM)
    ids, starts, ends, texts, thumbs = [], [], [], [], []
    for vid, segments in CLIP_SEGMENTS.items():
        for start, end, text in segments:
            ids.append(vid)
            starts.append(start)
            ends.append(end)
            texts.append(text)
            thumbs.append(clip_thumbnail(clips_dir / f"{vid}.mp4", (start + end) / 2))
    index.add_segments(ids, starts, ends, enc.encode(texts), thumbnails=thumbs)
