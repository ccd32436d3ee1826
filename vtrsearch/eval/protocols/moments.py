"""ActivityNet Captions moment retrieval: each sentence searches for the moment it describes.

Every caption of the split that has times (``caption_times``) is a query; its ground truth is
``[start, end]`` in its video. It searches twice through :meth:`vtrsearch.Index.search_moments`
(the serving path), taking the top ``max(ks)`` moments with no per-video limit:

* **within its video** (``video_ids=[its video]``): where in the video is it? (the single-video
  moment-retrieval setting of TALL / Charades-STA / ActivityNet Captions papers);
* **across the corpus** (every segment of the split): which video, and where? A moment of
  another video has IoU 0 (the video-corpus moment-retrieval setting).

Reported: R@1 and R@5 at temporal IoU >= 0.3 / 0.5 / 0.7 and the mean top-1 IoU (see
:mod:`vtrsearch.eval.metrics.iou`). Predictions are the stored segments as they are (no
proposal merging), so a moment longer than a segment can reach at most IoU =
segment length / moment length: the notes give the median of both.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...errors import NoSegmentsError
from ..inputs import load_split, query_vectors
from ..metrics.iou import IOU_THRESHOLDS, MOMENT_KS, moment_metrics, temporal_iou
from ..plan import plan_evaluation
from ..progress import ProgressCallback, StepReporter, progress_callback
from .common import protocol_settings, size_note
from .moment_report import MomentReport, MomentRow
from .paragraphs import VAL1_VIDEOS

if TYPE_CHECKING:
    from ...index.index import Index
    from ...results import Moment

NAME = "activitynet-moments"
DEFAULT_SPLIT = "val_1"


def _ious(moments: list[Moment], video_id: str, gt: np.ndarray, k: int) -> np.ndarray:
    """IoU of each of the top ``k`` moments with ``gt`` (0: other video, or no moment)."""
    out = np.zeros(k, dtype=np.float64)
    for i, m in enumerate(moments[:k]):
        if m.video_id == video_id:
            out[i] = float(temporal_iou(np.array([m.start, m.end]), gt))
    return out


def evaluate_moments(
    index: Index,
    *,
    split: str = DEFAULT_SPLIT,
    encoder: str | None = None,
    heads: Sequence[str | Path] | str | Path = (),
    baseline: bool = True,
    ks: Sequence[int] = MOMENT_KS,
    thresholds: Sequence[float] = IOU_THRESHOLDS,
    progress: ProgressCallback | bool | None = True,
) -> MomentReport:
    """Moment-retrieval metrics of the encoder and each head, within videos and corpus-wide.

    Args:
        index: An index with segments and caption times (``vtrsearch ingest activitynet``
            with frame-level features).
        split: Split whose timed captions are the queries and whose segments are searched.
        encoder: Baseline text encoder spec (default: the index's).
        heads: Projection heads; one row each.
        baseline: Evaluate the bare encoder as the ``"baseline"`` row.
        ks: Recall cut-offs ``n`` of R@n (default 1 and 5).
        thresholds: IoU thresholds (default 0.3, 0.5, 0.7).
        progress: As for :func:`vtrsearch.eval.evaluate_index`.

    Raises:
        UnknownSplitError: ``split`` is not in the index.
        NoSegmentsError: the index has no segments.
        ValueError: no caption of the split has times, or bad options.
    """
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"recall cut-offs must be positive ints, got {list(ks)!r}")
    plan = plan_evaluation(
        index, split=split, encoder=encoder, heads=heads, baseline=baseline, directions="t2v"
    )
    if not index.has_segments():
        raise NoSegmentsError(
            "moment retrieval needs segments: ingest frame-level (T, D) features "
            "(vtrsearch ingest activitynet with one (T, D) array per video)"
        )
    data = load_split(index, split)
    times = index.caption_times(data.ids.tolist())
    span = {
        s: (a, b)
        for s, a, b in zip(
            times["sen_id"].to_pylist(),
            times["start"].to_pylist(),
            times["end"].to_pylist(),
            strict=True,
        )
    }
    queries = np.array([i for i, s in enumerate(data.sen_ids) if s in span], dtype=np.intp)
    if queries.size == 0:
        raise ValueError(
            f"no caption of split {split!r} has start/end times: moment retrieval needs "
            "sentences with timestamps (vtrsearch ingest activitynet)"
        )
    gts = np.array([span[data.sen_ids[i]] for i in queries.tolist()], dtype=np.float64)
    vids = [str(data.ids[data.cv[i]]) for i in queries.tolist()]
    k = max(ks)
    rows: list[MomentRow] = []
    notes = list(plan.notes)
    cache: dict = {}
    with progress_callback(progress) as cb:
        reporter = StepReporter(cb, len(plan.models))
        for model in plan.models:
            q = query_vectors(
                index, model.spec, split, model.head, data, cache, reporter, model.label
            )[queries]
            update = reporter.begin(
                "rank",
                model.label,
                len(q),
                f"{model.label}: {len(q)} sentences search moments in their video and the corpus",
            )
            found = {scope: np.zeros((len(q), k)) for scope in ("video", "corpus")}
            for i, (vec, vid, gt) in enumerate(zip(q, vids, gts, strict=True)):
                own = index.search_moments(vec, k=k, per_video=k, video_ids=[vid])
                found["video"][i] = _ious(own, vid, gt, k)
                every = index.search_moments(vec, k=k, per_video=k, split=split)
                found["corpus"][i] = _ious(every, vid, gt, k)
                if (i + 1) % 256 == 0 or i + 1 == len(q):
                    update(i + 1, len(q))
            rows.append(
                MomentRow(
                    label=model.label,
                    encoder=model.spec,
                    head=None if model.head is None else str(model.head.path),
                    metrics={s: moment_metrics(a, ks, thresholds) for s, a in found.items()},
                )
            )
    notes += _notes(index, split, data.ids.tolist(), vids, gts)
    settings = protocol_settings(
        index,
        plan,
        NAME,
        len(data.ids),
        {"t2v": len(queries)},
        ks=list(ks),
        iou_thresholds=[float(t) for t in thresholds],
        searches=["within its video", "across the corpus"],
    )
    return MomentReport(settings=settings, rows=rows, notes=notes)


def _notes(
    index: Index, split: str, gallery: list[str], vids: list[str], gts: np.ndarray
) -> list[str]:
    """Caveats: standard size, queries without segments, segment vs moment lengths."""
    notes = []
    note = size_note("ActivityNet Captions val_1", len(gallery), VAL1_VIDEOS)
    if note and split == DEFAULT_SPLIT:
        notes.append(note)
    block = index.gallery().segments if not index.searches_on_store else None
    if block is not None:
        m = index.gallery()
        has = {str(m.ids[r]) for r in np.flatnonzero(block.videos_with_segments).tolist()}
        bare = sum(1 for v in vids if v not in has)
        if bare:
            notes.append(
                f"{bare} of {len(vids)} queries are about videos without segments (clip-level "
                "features): IoU 0 for them"
            )
        rows = np.isin(block.video_row, [m.row(v) for v in set(gallery) & has])
        seg = float(np.median(block.end[rows] - block.start[rows])) if rows.any() else 0.0
        notes.append(
            f"median segment {seg:.1f} s, median ground-truth moment "
            f"{float(np.median(gts[:, 1] - gts[:, 0])):.1f} s; predictions are single segments"
        )
    return notes
