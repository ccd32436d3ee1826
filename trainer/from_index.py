"""Train a projection head from an index: cached caption vectors in, a registered head out.

The frozen base encoder runs once, through the caption cache (:mod:`vtrsearch.index.caption_cache`),
never inside the training loop. Videos are split by their ``split`` field (``train`` trains,
``validate``/``val`` validates, anything else, e.g. ``test``, is never seen); without a
validation split, a seeded hold-out of training videos validates.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from vtrsearch.encoders.space import canonical_spec
from vtrsearch.errors import DimensionMismatchError
from vtrsearch.heads.config import HeadConfig
from vtrsearch.index.caption_cache import caption_vectors, encode_captions
from vtrsearch.index.index import Index

from .config import TrainConfig, TrainResult


def training_arrays(
    index: Index, base_encoder: str, *, encode_missing: bool = True, progress: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(caption vectors, caption -> video row, video vectors, video splits) from ``index``.

    Captions of every split are returned; the trainer itself keeps test videos out.
    """
    spec = canonical_spec(base_encoder)
    if encode_missing:
        encode_captions(index, spec, progress=progress)
    cached = caption_vectors(index, spec)
    gallery = index.gallery()  # one snapshot: ids, vectors and splits stay row-aligned
    rows = [gallery.row(v) for v in cached.video_ids]
    missing = sorted({v for v, r in zip(cached.video_ids, rows, strict=True) if r is None})
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(f"captions refer to {len(missing)} video(s) not in the index: {shown}")
    caption_video = np.asarray(rows, dtype=np.int64)
    splits = np.asarray(gallery.split, dtype=str)
    return cached.vectors, caption_video, np.asarray(gallery.vectors), splits


def train_from_index(
    index: Index | str | Path,
    out_dir: str | Path,
    *,
    base_encoder: str | None = None,
    config: TrainConfig | None = None,
    head_config: HeadConfig | None = None,
    name: str | None = None,
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: Any = None,
) -> TrainResult:
    """Train a head mapping ``base_encoder`` text vectors into ``index``'s video space.

    Args:
        index: the index (or its URI) holding videos, captions and splits.
        out_dir: the head directory to write (``checkpoint/`` inside it for ``resume``).
        base_encoder: frozen text encoder spec (default: the index's query encoder).
        config: training hyper-parameters.
        head_config: architecture (dims and provenance are filled in here).
        name: register the head with the index under this name (default: ``out_dir``'s name).
        resume: continue an interrupted run from ``out_dir/checkpoint``.
        progress: show progress bars.
        on_epoch_end: ``fn(epoch, metrics)`` after each epoch.
    """
    from .train import train_head

    index = index if isinstance(index, Index) else Index.open(index)
    spec = base_encoder or index.encoder_spec
    if spec is None:
        raise ValueError("no base encoder: pass --base-encoder SPEC (the index records none)")
    spec = canonical_spec(spec)
    texts, caption_video, videos, splits = training_arrays(index, spec, progress=progress)
    hc = head_config or HeadConfig(in_dim=int(texts.shape[1]), out_dim=index.dim)
    if hc.in_dim != texts.shape[1]:
        raise DimensionMismatchError(
            f"head in_dim {hc.in_dim}, but {spec!r} makes {texts.shape[1]}-d vectors"
        )
    if hc.out_dim != index.dim:
        raise DimensionMismatchError(f"head out_dim {hc.out_dim}, index dim {index.dim}")
    hc = replace(hc, base_encoder=spec, feature_model=index.feature_model)
    result = train_head(
        texts,
        caption_video,
        videos,
        splits,
        out_dir,
        config=config,
        head_config=hc,
        resume=resume,
        progress=progress,
        on_epoch_end=on_epoch_end,
    )
    index.register_head(name or Path(out_dir).name, result.path)
    return result
