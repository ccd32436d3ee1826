"""Success and failure example figures: queries, their ground truth and top-5 results.

Keyframe thumbnails are shown when ``keyframes_dir`` holds a folder of images per video
(``keyframes/<video_id>/`` or ``<video_id>/`` directly under it, as ``vtrsearch ingest frames``
reads them); otherwise the figure is text only.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from .figure import finish, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..eval.report import EvalReport, EvalRow, QueryExample

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
HIT = "#c7e9c0"  # background of the ground truth in a result list
GT_EDGE = "#2ca02c"
LINE_PT = 12.5  # spacing of text lines, points


def keyframe_path(keyframes_dir: str | Path | None, video_id: str) -> Path | None:
    """The middle keyframe image of ``video_id`` under ``keyframes_dir``, if any."""
    if keyframes_dir is None:
        return None
    root = Path(keyframes_dir)
    for folder in (root / "keyframes" / video_id, root / video_id):
        if folder.is_dir():
            images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if images:
                return images[len(images) // 2]
    return None


def _thumbnail(path: Path, size: int = 200):
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((size, size))
        return np.asarray(img)


def plot_case_examples(
    report: EvalReport,
    path: str | Path | None = None,
    *,
    kind: str = "success",
    row: EvalRow | None = None,
    keyframes_dir: str | Path | None = None,
    n: int = 4,
) -> Figure | None:
    """A few t2v queries with their ground truth and top-5 results (ground truth highlighted).

    Args:
        report: The evaluation (its rows carry the examples picked during evaluation).
        path: Also write the figure there as a PNG (parent folders created).
        kind: ``"success"`` (ground truth ranked first) or ``"failure"`` (ranked below 5, or
            below 1 when no query ranks that low).
        row: The row whose examples to show (default: the last head row, else the baseline).
        keyframes_dir: Folder with ``keyframes/<video_id>/`` images for thumbnails.
        n: At most this many queries.

    Returns:
        The figure, or ``None`` when the row has no example of that kind (nothing written).
    """
    if kind not in ("success", "failure"):
        raise ValueError(f"kind must be 'success' or 'failure', got {kind!r}")
    if row is None:
        row = report.head_rows[-1] if report.head_rows else report.baseline
    if row is None or row.raw is None:
        return None
    examples = row.raw.examples.get(kind, [])[:n]
    if not examples:
        return None
    frames = {
        vid: keyframe_path(keyframes_dir, vid)
        for ex in examples
        for vid in [ex.video_id, *(t[0] for t in ex.top)]
    }
    thumbs = any(p is not None for p in frames.values())
    n_cols = 7 if thumbs else 1
    n_lines = max(_n_lines(ex, wide=not thumbs) for ex in examples)
    per_example = max(n_lines * LINE_PT / 72 + 0.3, 2.3 if thumbs else 0.0)
    fig = new_figure(17.0 if thumbs else 8.5, per_example * len(examples) + 0.5)
    ratios = [4.2] + [1.0] * (n_cols - 1)
    grid = fig.add_gridspec(len(examples), n_cols, width_ratios=ratios)
    for i, ex in enumerate(examples):
        _text_panel(fig.add_subplot(grid[i, 0]), ex, wide=not thumbs)
        if thumbs:
            tiles = [("ground truth", ex.video_id, None)] + [
                (f"#{r} ({s:.3f})", vid, s) for r, (vid, s, _) in enumerate(ex.top, start=1)
            ]
            for j, (title, vid, _score) in enumerate(tiles):
                _thumb_panel(fig.add_subplot(grid[i, j + 1]), frames.get(vid), title, vid, ex)
    what = "ground truth ranked 1st" if kind == "success" else "ground truth not in the top 5"
    if kind == "failure" and all(ex.rank <= 5 for ex in examples):
        what = "ground truth not ranked 1st"
    fig.suptitle(
        f"{kind.capitalize()} cases ({what}) — {row.label} ({row.encoder}), "
        f"{report.settings.get('split') or 'all videos'}",
        fontsize=12,
    )
    return finish(fig, path)


def _line(ax, row: int, text: str, **style) -> None:
    """Text ``row`` lines below the panel's top-left corner (offsets in points)."""
    ax.annotate(
        text,
        (0.01, 0.97),
        xycoords="axes fraction",
        xytext=(0, -LINE_PT * row),
        textcoords="offset points",
        va="top",
        **style,
    )


def _query_lines(text: str, wide: bool) -> list[str]:
    width = 80 if wide else 58
    lines = textwrap.wrap(f'"{text}"', width)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder=" …")]
    return lines


def _n_lines(ex: QueryExample, wide: bool) -> int:
    found = any(vid == ex.video_id for vid, _, _ in ex.top)
    return len(_query_lines(ex.text, wide)) + 1 + len(ex.top) + (0 if found else 2)


def _text_panel(ax, ex: QueryExample, wide: bool) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#cccccc")
    lines = _query_lines(ex.text, wide)
    for i, text in enumerate(lines):
        _line(ax, i, text, fontsize=10, fontweight="bold")
    row = len(lines)
    rank = f"{ex.rank:g}"
    _line(
        ax,
        row,
        f"ground truth: {ex.video_id} ({ex.category}) — ranked {rank}",
        fontsize=9,
        color=GT_EDGE,
    )
    row += 1
    mono = {"fontsize": 8.5, "family": "monospace"}
    found = False
    for r, (vid, score, cat) in enumerate(ex.top, start=1):
        hit = vid == ex.video_id
        found = found or hit
        _line(ax, row, _result(str(r), vid, score, cat, hit), **mono, **_hit_style(hit))
        row += 1
    if not found:
        _line(ax, row, "  …", **mono)
        _line(
            ax,
            row + 1,
            _result(rank, ex.video_id, ex.score, ex.category, True),
            **mono,
            **_hit_style(True),
        )


def _result(rank: str, vid: str, score: float, cat: str, hit: bool) -> str:
    cat = textwrap.shorten(cat, 22, placeholder="…")
    return f"#{rank:<3} {vid:<11} {score:6.3f}  {cat:<22}" + ("  ← ground truth" if hit else "")


def _hit_style(hit: bool) -> dict:
    if not hit:
        return {}
    return {"fontweight": "bold", "bbox": {"facecolor": HIT, "edgecolor": "none", "pad": 1.5}}


def _thumb_panel(ax, image: Path | None, title: str, vid: str, ex: QueryExample) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    is_gt = vid == ex.video_id
    if image is not None:
        ax.imshow(_thumbnail(image))
    else:  # a blank 4:3 tile keeps the row aligned with the thumbnails
        import numpy as np

        ax.imshow(np.full((120, 160, 3), 242, dtype=np.uint8))
        ax.text(80, 60, "no keyframes", ha="center", va="center", fontsize=8, color="#777777")
    for spine in ax.spines.values():
        spine.set_edgecolor(GT_EDGE if is_gt else "#bbbbbb")
        spine.set_linewidth(3 if is_gt else 0.8)
    ax.set_xlabel(f"{title}\n{vid}", fontsize=8, color=GT_EDGE if is_gt else "black")
