"""Exploratory figures of an index: categories, captions, vector norms, video similarities.

Each function reads the index (videos of ``split``, or every video when ``split`` is ``None``)
and writes one PNG; see :mod:`vtrsearch.plots` for the conventions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .figure import finish, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..index.index import Index

BAR = "#4C72B0"


def _videos(index: Index, split: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, vectors, category ids)`` of the videos of ``split``."""
    if split is not None:
        from ..eval.inputs import check_split

        check_split(index, split, "split")
    m = index.gallery()
    rows = np.arange(len(m)) if split is None else m.rows(None, frozenset([split]))
    return m.ids[rows], m.vectors[rows], m.category[rows]


def _captions(index: Index, split: str | None) -> tuple[list[str], list[str]]:
    """``(video ids, texts)`` of the captions of ``split``'s videos."""
    ids = set(_videos(index, split)[0].tolist())
    table = index.caption_table(columns=["video_id", "text"])
    pairs = [
        (v, t)
        for v, t in zip(table["video_id"].to_pylist(), table["text"].to_pylist(), strict=True)
        if v in ids
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _where(split: str | None) -> str:
    return "all videos" if split is None else f"split '{split}'"


def _label_bars(ax, bars, values, horizontal: bool = False) -> None:
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=8, padding=2)
    if horizontal:
        ax.set_xlim(0, max(max(values, default=1), 1) * 1.12)
    else:
        ax.set_ylim(0, max(max(values, default=1), 1) * 1.12)


def plot_category_distribution(
    index: Index, path: str | Path | None = None, *, split: str | None = "test"
) -> Figure:
    """Number of videos per category (every category of the index, largest on top)."""
    _, _, cats = _videos(index, split)
    counts = np.bincount(cats.clip(min=0), minlength=1)
    items = [
        (name, int(counts[cid]) if cid < len(counts) else 0)
        for cid, name in index.category_map.items()
    ]
    items.sort(key=lambda x: (x[1], x[0]))
    fig = new_figure(8.5, 1.4 + 0.3 * len(items))
    ax = fig.add_subplot()
    bars = ax.barh([n for n, _ in items], [c for _, c in items], color=BAR)
    _label_bars(ax, bars, [c for _, c in items], horizontal=True)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_xlabel("number of videos")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(f"Videos per category — {_where(split)} ({len(cats):,} videos)")
    return finish(fig, path)


def plot_caption_length_histogram(
    index: Index, path: str | Path | None = None, *, split: str | None = "test"
) -> Figure:
    """Words per caption, with the query-length bucket boundaries (10 and 20 words) marked."""
    _, texts = _captions(index, split)
    lengths = np.array([len(t.split()) for t in texts], dtype=np.int64)
    fig = new_figure(8.0, 4.4)
    ax = fig.add_subplot()
    if lengths.size:
        edges = np.arange(0.5, lengths.max() + 1.5)
        counts, _, _ = ax.hist(lengths, bins=edges, color=BAR, edgecolor="white")
        ax.set_ylim(0, counts.max() * 1.25)
        for cut in (10.5, 20.5):
            ax.axvline(cut, color="#C44E52", linestyle="--", linewidth=1)
        buckets = (
            ("1-10", 5.5, lengths <= 10),
            ("11-20", 15.5, (lengths > 10) & (lengths <= 20)),
            ("21+", max(24.5, lengths.max() - 3.0), lengths > 20),
        )
        for label, x, mask in buckets:
            ax.text(
                x,
                0.97,
                f"{label} words: {int(mask.sum()):,} captions",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize=8,
                color="#C44E52",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1},
            )
        stats = f"mean {lengths.mean():.1f}, median {np.median(lengths):g}, max {lengths.max()}"
    else:
        stats = "no captions"
    ax.set_xlabel("caption length (words)")
    ax.set_ylabel("number of captions")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(f"Caption length — {_where(split)} ({lengths.size:,} captions; {stats})")
    return finish(fig, path)


def plot_captions_per_video(
    index: Index, path: str | Path | None = None, *, split: str | None = "test"
) -> Figure:
    """How many captions each video has (videos without captions included, at 0)."""
    ids, _, _ = _videos(index, split)
    cap_vids, _ = _captions(index, split)
    row = {v: i for i, v in enumerate(ids.tolist())}
    per_video = np.bincount([row[v] for v in cap_vids], minlength=len(ids))
    values, counts = np.unique(per_video, return_counts=True)
    fig = new_figure(7.5, 4.4)
    ax = fig.add_subplot()
    bars = ax.bar(values, counts, color=BAR, width=0.7)
    _label_bars(ax, bars, counts.tolist())
    ax.set_xticks(values)
    ax.set_xlim(values.min() - 1.5, values.max() + 1.5)
    ax.set_xlabel("captions per video")
    ax.set_ylabel("number of videos")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(
        f"Captions per video — {_where(split)} ({len(ids):,} videos, {len(cap_vids):,} captions; "
        f"mean {per_video.mean():.2f})",
        fontsize=11,
    )
    return finish(fig, path)


def plot_feature_norm_distribution(
    index: Index,
    path: str | Path | None = None,
    *,
    split: str | None = "test",
    encoder: str | None = None,
) -> Figure:
    """L2 norms of the stored video vectors and of the cached caption vectors of ``encoder``.

    The index stores L2-normalised video vectors, so their norms are 1 by construction (the
    raw feature norms are not kept); caption vectors are shown as the encoder cached them.
    """
    _, vectors, _ = _videos(index, split)
    panels = [("stored video vectors", np.linalg.norm(vectors, axis=1))]
    spec = encoder or index.encoder_spec
    caption_note = ""
    if spec is not None:
        from ..errors import MissingCaptionVectorsError
        from ..index.caption_cache import caption_vectors

        try:
            cached = caption_vectors(index, spec, split=split)
            panels.append(
                (f"cached caption vectors ({cached.spec})", np.linalg.norm(cached.vectors, axis=1))
            )
        except MissingCaptionVectorsError:
            caption_note = f"; no cached caption vectors for {spec}"
    fig = new_figure(5.0 * len(panels) + 1.0, 4.4)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, norms) in zip(axes, panels, strict=True):
        lo, hi = float(norms.min()), float(norms.max())
        pad = max(1e-3, (hi - lo) * 0.1)
        ax.hist(norms, bins=np.linspace(lo - pad, hi + pad, 41), color=BAR, edgecolor="white")
        spread = "all equal to 1 up to float32 rounding" if hi - lo < 1e-5 else ""
        ax.set_title(
            f"{title}\n{len(norms):,} vectors, min {lo:.6f}, max {hi:.6f}"
            + (f"\n({spread})" if spread else ""),
            fontsize=10,
        )
        ax.set_xlabel("L2 norm")
        ax.ticklabel_format(axis="x", useOffset=False)
        ax.tick_params(axis="x", labelsize=8, labelrotation=30)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("count")
    fig.suptitle(
        f"Vector norms — {_where(split)}: video vectors are L2-normalised at ingest (norm 1 by "
        f"construction; raw feature norms are not stored){caption_note}",
        fontsize=10,
    )
    return finish(fig, path)


def plot_pairwise_similarity(
    index: Index,
    path: str | Path | None = None,
    *,
    split: str | None = "test",
    sample: int = 1500,
    seed: int = 0,
) -> Figure:
    """Cosine similarities between video vectors (a sample), same vs different category."""
    _, vectors, cats = _videos(index, split)
    rng = np.random.default_rng(seed)
    n = len(vectors)
    pick = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    v, c = vectors[pick], cats[pick]
    sims = v @ v.T
    iu = np.triu_indices(len(pick), k=1)
    values, same = sims[iu], (c[:, None] == c[None, :])[iu]
    fig = new_figure(8.0, 4.6)
    ax = fig.add_subplot()
    if values.size:
        bins = np.linspace(float(values.min()), float(values.max()), 61)
        for mask, colour, label in (
            (~same, "#8c8c8c", "different category"),
            (same, "#DD8452", "same category"),
        ):
            if mask.any():
                ax.hist(
                    values[mask],
                    bins=bins,
                    density=True,
                    alpha=0.55,
                    color=colour,
                    label=f"{label} (n={int(mask.sum()):,} pairs, mean {values[mask].mean():.3f})",
                )
        ax.legend(fontsize=8)
    ax.set_xlabel("cosine similarity between two videos")
    ax.set_ylabel("density (area = 1 per histogram)")
    ax.grid(alpha=0.3)
    sampled = f"{len(pick):,} of {n:,} videos sampled" if len(pick) < n else f"all {n:,} videos"
    ax.set_title(f"Video-video similarity — {_where(split)} ({sampled})")
    return finish(fig, path)
