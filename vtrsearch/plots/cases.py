"""Success and failure example figures: queries, their ground truth and top-5 results.

When the index has segments, every video of an example shows its matched moment (the best
segment for the query, ``mm:ss–mm:ss``) and that segment's stored thumbnail (pass ``index``).
Otherwise keyframe thumbnails are shown when ``keyframes_dir`` holds a folder of images per video
(``keyframes/<video_id>/`` or ``<video_id>/`` directly under it, as ``vtrsearch ingest frames``
reads them); with neither the figure is text only.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from ..paths import child_path
from ..tables import moment_span
from .figure import finish, new_figure

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from ..eval.report import EvalReport, EvalRow, QueryExample
    from ..index.index import Index

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
HIT = "#c7e9c0"  # background of the ground truth in a result list
GT_EDGE = "#2ca02c"
LINE_PT = 12.5  # spacing of text lines, points


def keyframe_path(keyframes_dir: str | Path | None, video_id: str) -> Path | None:
    """The middle keyframe image of ``video_id`` under ``keyframes_dir``, if any.

    The folder is ``keyframes/<video_id>/`` or ``<video_id>/``, looked up by
    :func:`vtrsearch.paths.child_path`: an id such as ``/etc`` or ``../x`` (or a symlink out of
    the folder) finds nothing, and so does an id too long for the file system.
    """
    if keyframes_dir is None:
        return None
    root = Path(keyframes_dir)
    for base in (root / "keyframes", root):
        folder = child_path(base, video_id, kind="dir")
        if folder is None:
            continue
        try:
            images = sorted(
                p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            )
        except OSError:
            continue
        if images:
            return images[len(images) // 2]
    return None


def _thumbnail(source: Path | bytes, size: int = 200) -> np.ndarray:
    """RGB pixels of an image file or of JPEG bytes, at most ``size`` pixels wide and high."""
    import io

    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
        img = img.convert("RGB")
        img.thumbnail((size, size))
        return np.asarray(img)


def moment_thumbnail(index: Index | None, ex: QueryExample, video_id: str) -> bytes | None:
    """The stored thumbnail of ``video_id``'s matched segment for ``ex`` (``None``: none)."""
    moment = ex.moments.get(video_id)
    if index is None or moment is None:
        return None
    return index.thumbnail(video_id, moment[0])


def plot_case_examples(
    report: EvalReport,
    path: str | Path | None = None,
    *,
    kind: str = "success",
    row: EvalRow | None = None,
    keyframes_dir: str | Path | None = None,
    n: int = 4,
    index: Index | None = None,
) -> Figure | None:
    """A few t2v queries with their ground truth and top-5 results (ground truth highlighted).

    Each video's matched moment (``mm:ss–mm:ss``) is written beside it when the evaluation
    found segments; its tiles show that segment's stored thumbnail (read from ``index``), else
    a keyframe from ``keyframes_dir``, else a blank tile.

    Args:
        report: The evaluation (its rows carry the examples picked during evaluation).
        path: Also write the figure there as a PNG (parent folders created).
        kind: ``"success"`` (ground truth ranked first) or ``"failure"`` (ranked below 5, or
            below 1 when no query ranks that low).
        row: The row whose examples to show (default: the last head row, else the baseline).
        keyframes_dir: Folder with ``keyframes/<video_id>/`` images for thumbnails.
        n: At most this many queries.
        index: The evaluated index, for the stored thumbnails of the matched segments.

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
    tiles_of = [[ex.video_id, *(t[0] for t in ex.top)] for ex in examples]
    frames = {vid: keyframe_path(keyframes_dir, vid) for vids in tiles_of for vid in vids}
    images = [
        {vid: moment_thumbnail(index, ex, vid) or frames[vid] for vid in vids}
        for ex, vids in zip(examples, tiles_of, strict=True)
    ]
    thumbs = any(img is not None for per in images for img in per.values())
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
                _thumb_panel(fig.add_subplot(grid[i, j + 1]), images[i].get(vid), title, vid, ex)
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
        text = _result(str(r), vid, score, cat, hit, _when(ex, vid))
        _line(ax, row, text, **mono, **_hit_style(hit))
        row += 1
    if not found:
        _line(ax, row, "  …", **mono)
        _line(
            ax,
            row + 1,
            _result(rank, ex.video_id, ex.score, ex.category, True, _when(ex, ex.video_id)),
            **mono,
            **_hit_style(True),
        )


def _when(ex: QueryExample, vid: str) -> str:
    """The matched moment of ``vid`` for ``ex`` as ``mm:ss–mm:ss`` (empty: none)."""
    moment = ex.moments.get(vid)
    return "" if moment is None else moment_span(moment[1], moment[2])


def _result(rank: str, vid: str, score: float, cat: str, hit: bool, when: str = "") -> str:
    cat = textwrap.shorten(cat, 22, placeholder="…")
    when = f"  {when}" if when else ""
    return f"#{rank:<3} {vid:<11} {score:6.3f}  {cat:<22}{when}" + (
        "  ← ground truth" if hit else ""
    )


def _hit_style(hit: bool) -> dict:
    if not hit:
        return {}
    return {"fontweight": "bold", "bbox": {"facecolor": HIT, "edgecolor": "none", "pad": 1.5}}


def _thumb_panel(ax, image: Path | bytes | None, title: str, vid: str, ex: QueryExample) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    is_gt = vid == ex.video_id
    picture, note = None, "no image"
    if image is not None:
        try:
            picture = _thumbnail(image)
        except (OSError, ValueError, SyntaxError):  # unreadable or not an image (PIL)
            note = "unreadable image"
    if picture is not None:
        ax.imshow(picture)
    else:  # a blank 4:3 tile keeps the row aligned with the thumbnails
        import numpy as np

        ax.imshow(np.full((120, 160, 3), 242, dtype=np.uint8))
        ax.text(80, 60, note, ha="center", va="center", fontsize=8, color="#777777")
    for spine in ax.spines.values():
        spine.set_edgecolor(GT_EDGE if is_gt else "#bbbbbb")
        spine.set_linewidth(3 if is_gt else 0.8)
    when = _when(ex, vid)
    label = f"{title}\n{vid}" + (f"\n{when}" if when else "")
    ax.set_xlabel(label, fontsize=8, color=GT_EDGE if is_gt else "black")
