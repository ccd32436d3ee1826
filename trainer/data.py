"""Training data: video-level splits and one-caption-per-video batches.

Inputs are plain arrays (the base text encoder never runs here): ``caption_vectors (N, in)``
cached caption vectors, ``caption_video (N,)`` index of each caption's video in
``video_vectors (V, out)``, and optionally ``video_split (V,)`` split names.

All randomness derives from ``(seed, epoch)`` so that an epoch can be regenerated exactly
(which is what makes resuming bitwise-exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "TRAIN_SPLITS",
    "VAL_SPLITS",
    "PairData",
    "epoch_batches",
    "epoch_rng",
    "prepare_data",
    "split_videos",
]

TRAIN_SPLITS = frozenset({"train", "training"})
VAL_SPLITS = frozenset({"val", "valid", "validate", "validation", "dev"})

_STREAM_BATCHES = 0x62617463  # domain separators for the per-epoch generators
_STREAM_SPLIT = 0x73706C74


def epoch_rng(seed: int, epoch: int, stream: int = _STREAM_BATCHES) -> np.random.Generator:
    """Return the numpy generator for ``(seed, epoch, stream)``."""
    return np.random.default_rng([int(stream), int(seed) & 0xFFFFFFFF, int(epoch)])


@dataclass
class PairData:
    """Validated training data, split by video.

    Attributes:
        caption_vectors: ``(N, in_dim)`` float32.
        caption_video: ``(N,)`` int64 video index of each caption.
        video_vectors: ``(V, out_dim)`` float32, L2-normalised.
        train_videos: Sorted indices of training videos (the global mining pool).
        val_videos: Sorted indices of validation videos (the validation gallery).
        train_captions: Indices of captions whose video is a training video.
        val_captions: Indices of captions whose video is a validation video.
        split_source: ``"split"`` (from ``video_split``) or ``"holdout"`` (seeded fraction).
    """

    caption_vectors: np.ndarray
    caption_video: np.ndarray
    video_vectors: np.ndarray
    train_videos: np.ndarray
    val_videos: np.ndarray
    train_captions: np.ndarray
    val_captions: np.ndarray
    split_source: str


def split_videos(
    n_videos: int,
    video_split: Sequence[str] | np.ndarray | None,
    val_fraction: float = 0.1,
    seed: int = 0,
    has_captions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Split videos (never captions) into train and validation sets.

    Uses ``video_split`` when given: ``"train"`` videos train, ``"val"``/``"validate"``
    videos validate, anything else (e.g. ``"test"``) is unused. Without a split field, or
    when it names no validation videos, a seeded ``val_fraction`` of the training videos
    that have captions is held out.

    Args:
        n_videos: Number of videos ``V``.
        video_split: ``(V,)`` split names or ``None``.
        val_fraction: Hold-out fraction when needed (0 disables validation).
        seed: Seed of the hold-out draw.
        has_captions: ``(V,)`` bool; only captioned videos are held out.

    Returns:
        ``(train_videos, val_videos, source)``, sorted int64 index arrays.
    """
    if video_split is None:
        train = np.arange(n_videos, dtype=np.int64)
        val = np.empty(0, dtype=np.int64)
        source = "holdout"
    else:
        names = np.char.lower(np.asarray(video_split, dtype=str))
        if names.shape != (n_videos,):
            raise ValueError(f"video_split must have shape ({n_videos},), got {names.shape}")
        train = np.flatnonzero(np.isin(names, sorted(TRAIN_SPLITS))).astype(np.int64)
        val = np.flatnonzero(np.isin(names, sorted(VAL_SPLITS))).astype(np.int64)
        source = "split"
    if val.size == 0 and val_fraction > 0:
        cand = train if has_captions is None else train[has_captions[train]]
        n_val = int(round(val_fraction * cand.size))
        if 0 < n_val < cand.size:
            rng = epoch_rng(seed, 0, _STREAM_SPLIT)
            val = np.sort(rng.choice(cand, size=n_val, replace=False)).astype(np.int64)
            train = np.setdiff1d(train, val, assume_unique=True)
            source = "holdout"
    return train, val, source


def prepare_data(
    caption_vectors: np.ndarray,
    caption_video: np.ndarray,
    video_vectors: np.ndarray,
    video_split: Sequence[str] | np.ndarray | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> PairData:
    """Validate the arrays and split them by video; see :func:`split_videos`."""
    cap = np.ascontiguousarray(caption_vectors, dtype=np.float32)
    cv = np.asarray(caption_video)
    vid = np.asarray(video_vectors, dtype=np.float32)
    if cap.ndim != 2 or vid.ndim != 2:
        raise ValueError("caption_vectors and video_vectors must be 2-D")
    if cv.shape != (cap.shape[0],) or not np.issubdtype(cv.dtype, np.integer):
        raise ValueError(f"caption_video must be an int array of shape ({cap.shape[0]},)")
    cv = cv.astype(np.int64)
    if cv.size and (cv.min() < 0 or cv.max() >= vid.shape[0]):
        raise ValueError(f"caption_video indices must be in [0, {vid.shape[0]})")
    if not (np.isfinite(cap).all() and np.isfinite(vid).all()):
        raise ValueError("caption_vectors and video_vectors must be finite")
    norms = np.linalg.norm(vid, axis=1, keepdims=True)
    vid = np.ascontiguousarray(vid / np.maximum(norms, 1e-12), dtype=np.float32)
    has_caps = np.bincount(cv, minlength=vid.shape[0]) > 0
    train_v, val_v, source = split_videos(vid.shape[0], video_split, val_fraction, seed, has_caps)
    in_train = np.zeros(vid.shape[0], dtype=bool)
    in_train[train_v] = True
    in_val = np.zeros(vid.shape[0], dtype=bool)
    in_val[val_v] = True
    train_c = np.flatnonzero(in_train[cv]).astype(np.int64)
    val_c = np.flatnonzero(in_val[cv]).astype(np.int64)
    if train_c.size == 0:
        raise ValueError("no training captions (no caption belongs to a training video)")
    return PairData(cap, cv, vid, train_v, val_v, train_c, val_c, source)


def epoch_batches(video_of: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Shuffle one epoch of captions into batches with at most one caption per video.

    Every caption appears exactly once. Each video's captions are put in a random order
    (its "rank"); the stream is round 0 (every video's rank-0 caption, videos in random
    order), then round 1, ...; a round never repeats a video, and at each round boundary the
    videos already in the open (partially filled) batch are moved to the end of the next
    round. Cutting the stream every ``batch_size`` gives duplicate-free batches unless some
    round is too short to avoid them (very unbalanced caption counts); from the first such
    batch on, batches are cut greedily before a repeated video (a few smaller batches), so
    no batch ever holds two captions of one video (the loss also masks them defensively).
    Batch order is then shuffled. Vectorised except one loop over rounds (the maximum number
    of captions of a video) and the rare greedy tail.

    Args:
        video_of: ``(n,)`` video id of each caption.
        batch_size: Captions per batch (the last batch may be smaller).
        seed: Run seed.
        epoch: Epoch number (the shuffle is a pure function of ``(seed, epoch)``).

    Returns:
        List of index arrays into ``video_of``.
    """
    n = int(video_of.shape[0])
    if n == 0:
        return []
    rng = epoch_rng(seed, epoch)
    order = np.lexsort((rng.random(n), video_of))  # by video, random within video
    vs = video_of[order]
    starts = np.flatnonzero(np.r_[True, vs[1:] != vs[:-1]])
    counts = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, counts)
    # Random video order inside each round: one key per video, shared by all its captions.
    vkey = np.repeat(rng.random(starts.size), counts)
    perm = np.lexsort((vkey, rank))
    stream = order[perm]
    bounds = np.searchsorted(rank[perm], np.arange(int(counts.max()) + 1))
    pieces: list[np.ndarray] = []
    tail = np.empty(0, dtype=np.int64)  # video ids in the open batch
    for r in range(len(bounds) - 1):
        seg = stream[bounds[r] : bounds[r + 1]]
        if tail.size:
            clash = np.isin(video_of[seg], tail)
            if clash.any():
                seg = seg[np.argsort(clash, kind="stable")]
        pieces.append(seg)
        fill = int(bounds[r + 1]) % batch_size  # size of the open batch after this round
        if fill == 0:
            tail = tail[:0]
        elif fill <= seg.size:
            tail = video_of[seg[seg.size - fill :]]
        else:  # the open batch spans several (short) rounds
            so_far = np.concatenate(pieces)
            tail = video_of[so_far[so_far.size - fill :]]
    full = np.concatenate(pieces)
    cuts = list(range(batch_size, n, batch_size))
    bad = _first_batch_with_duplicates(video_of[full], batch_size)
    if bad is not None:  # rare (short rounds): cut batches early instead of repeating a video
        cuts = cuts[: bad // batch_size] + _greedy_cuts(video_of[full], batch_size, bad)
    batches = np.split(full, cuts)
    return [batches[i] for i in rng.permutation(len(batches))]


def _first_batch_with_duplicates(videos: np.ndarray, batch_size: int) -> int | None:
    """Start position of the first fixed-size batch that repeats a video, or None."""
    key = np.arange(videos.size) // batch_size
    order = np.lexsort((videos, key))
    same = (key[order][1:] == key[order][:-1]) & (videos[order][1:] == videos[order][:-1])
    if not same.any():
        return None
    return int(key[order][1:][same].min()) * batch_size


def _greedy_cuts(videos: np.ndarray, batch_size: int, start: int) -> list[int]:
    """Cut positions from ``start`` on: a batch ends when full or before a repeated video."""
    last: dict[int, int] = {}
    cuts: list[int] = []
    begin = start
    for pos in range(start, videos.size):
        v = int(videos[pos])
        if pos - begin == batch_size or last.get(v, -1) >= begin:
            cuts.append(pos)
            begin = pos
        last[v] = pos
    return cuts
