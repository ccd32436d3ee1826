"""Ingest ActivityNet Captions: sentences with the moment each one describes, and features.

The annotation files are ``train.json``, ``val_1.json`` and ``val_2.json`` (in ``ROOT`` or
``ROOT/captions``), each ``{video_id: {"duration": s, "timestamps": [[start, end], ...],
"sentences": [...]}}``. The file name is the split. ``val_1`` and ``val_2`` annotate the same
validation videos, so one index holds one of them (by default ``train`` and ``val_1``, the
files of the standard protocols); a video listed in two chosen files is refused.

Each sentence becomes a caption ``<video_id>#<position>`` with its ``[start, end]`` kept (see
:mod:`vtrsearch.index.caption_times`). Timestamps are clipped to ``[0, duration]`` (annotators
often run past the end); a sentence whose moment is empty (or reversed) after clipping stays a
caption without times; blank sentences are left out; all three are counted in the report's notes.

Features per video as for MSR-VTT: ``(T, D)`` frame features become ``T`` segments spread
uniformly over ``[0, duration]`` (or ``[j/fps, (j+1)/fps)`` with ``fps``), ``(D)`` a pooled vector
without segments. No categories: the index gets the single category ``uncategorised``.
Same guarantees as ``ingest msrvtt``: checked before writing, batched upserts (idempotent,
resumable), progress bars, no unpickling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vtrsearch.categories import CategoryMap
from vtrsearch.errors import IngestError
from vtrsearch.index.index import Index

from .annotations import Annotations, VideoInfo, read_json
from .feature_datasets import ingest_features
from .writing import IngestReport

__all__ = ["ACTIVITYNET_SPLITS", "DEFAULT_SPLITS", "ingest_activitynet", "load_activitynet"]

#: The annotation files of ActivityNet Captions, by split name.
ACTIVITYNET_SPLITS = ("train", "val_1", "val_2")
#: Splits ingested by default: training data and the standard evaluation file.
DEFAULT_SPLITS = ("train", "val_1")


@dataclass
class _Counts:
    empty: int = 0
    clipped: int = 0
    emptied: int = 0


def find_split_file(root: Path, split: str) -> Path | None:
    """``<split>.json`` in ``root`` or ``root/captions``."""
    for folder in (root, root / "captions"):
        path = folder / f"{split}.json"
        if path.is_file():
            return path
    return None


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IngestError(f"{where} is not a number: {value!r}")
    out = float(value)
    if out != out or out in (float("inf"), float("-inf")):
        raise IngestError(f"{where} is not finite: {value!r}")
    return out


def _read_file(path: Path, split: str, ann: Annotations, counts: _Counts) -> None:
    data = read_json(path)
    if not isinstance(data, dict):
        raise IngestError(f"{path}: expected an object {{video_id: {{duration, timestamps, ...}}}}")
    for vid, entry in data.items():
        where = f"{path}: video {vid}"
        if not isinstance(entry, dict):
            raise IngestError(f"{where}: expected an object with duration, timestamps, sentences")
        for key in ("duration", "timestamps", "sentences"):
            if key not in entry:
                raise IngestError(f"{where} has no {key!r} field")
        duration = _number(entry["duration"], f"{where}: duration")
        if duration <= 0:
            raise IngestError(f"{where}: duration must be positive, got {duration}")
        stamps, sentences = entry["timestamps"], entry["sentences"]
        if not isinstance(stamps, list) or not isinstance(sentences, list):
            raise IngestError(f"{where}: timestamps and sentences must be lists")
        if len(stamps) != len(sentences):
            raise IngestError(f"{where}: {len(stamps)} timestamps but {len(sentences)} sentences")
        url = f"https://www.youtube.com/watch?v={vid[2:]}" if vid.startswith("v_") else None
        ann.videos.append(VideoInfo(str(vid), 0, split, 0.0, duration, url))
        for i, (stamp, text) in enumerate(zip(stamps, sentences, strict=True)):
            _add_sentence(ann, counts, str(vid), i, stamp, text, duration, f"{where}, sentence {i}")


def _add_sentence(
    ann: Annotations,
    counts: _Counts,
    vid: str,
    i: int,
    stamp: object,
    text: object,
    duration: float,
    where: str,
) -> None:
    if not isinstance(text, str):
        raise IngestError(f"{where}: not text: {text!r}")
    if not isinstance(stamp, (list, tuple)) or len(stamp) != 2:
        raise IngestError(f"{where}: timestamp must be [start, end], got {stamp!r}")
    start = _number(stamp[0], f"{where}: start")
    end = _number(stamp[1], f"{where}: end")
    if not text.strip():
        counts.empty += 1
        return
    sen_id = f"{vid}#{i}"
    ann.captions.append((sen_id, vid, text.strip()))
    lo, hi = min(max(start, 0.0), duration), min(max(end, 0.0), duration)
    if (lo, hi) != (start, end):
        counts.clipped += 1
    if lo < hi:
        ann.caption_times[sen_id] = (lo, hi)
    else:
        counts.emptied += 1


def load_activitynet(
    root: Path, splits: Sequence[str] | None = None
) -> tuple[Annotations, list[str]]:
    """Read and check the annotation files of ``splits`` (default: those of
    :data:`DEFAULT_SPLITS` that exist).

    Returns:
        The annotations (videos, sentences, their times) and notes on what was changed or
        left out.
    """
    if not root.is_dir():
        raise IngestError(f"ActivityNet Captions root not found: {root}")
    chosen = list(splits) if splits else list(DEFAULT_SPLITS)
    unknown = [s for s in chosen if s not in ACTIVITYNET_SPLITS]
    if unknown:
        raise IngestError(
            f"unknown split(s) {', '.join(unknown)}; ActivityNet Captions has "
            + ", ".join(ACTIVITYNET_SPLITS)
        )
    files = {s: find_split_file(root, s) for s in chosen}
    if splits and any(p is None for p in files.values()):
        absent = [f"{s}.json" for s, p in files.items() if p is None]
        raise IngestError(f"{root}: {', '.join(absent)} not found (looked in . and captions/)")
    found = {s: p for s, p in files.items() if p is not None}
    if not found:
        raise IngestError(
            f"{root}: none of {', '.join(f'{s}.json' for s in chosen)} found (looked in . and "
            "captions/); the files come in captions.zip of ActivityNet Captions"
        )
    first = next(iter(found.values()))
    ann, counts = Annotations(path=first), _Counts()
    owner: dict[str, str] = {}
    for split, path in found.items():
        before = len(ann.videos)
        _read_file(path, split, ann, counts)
        for video in ann.videos[before:]:
            if video.video_id in owner:
                raise IngestError(
                    f"video {video.video_id} is in both {owner[video.video_id]}.json and "
                    f"{split}.json: one index holds one split per video (val_1 and val_2 "
                    "annotate the same videos; ingest val_2 into an index of its own)"
                )
            owner[video.video_id] = split
    notes = [f"read {', '.join(str(p) for p in found.values())}"]
    if counts.empty:
        notes.append(f"{counts.empty} blank sentences were left out")
    if counts.clipped:
        notes.append(f"{counts.clipped} timestamps outside [0, duration] were clipped to it")
    if counts.emptied:
        notes.append(
            f"{counts.emptied} sentences have no moment left after clipping (empty or "
            "reversed): kept as captions without times (no moment-retrieval query)"
        )
    return ann, notes


def _check_splits_unchanged(target: Index, ann: Annotations) -> None:
    """Refuse to move a stored video to another split (val_1 vs val_2 in one index)."""
    if len(target) == 0:
        return
    m = target.gallery()
    for video in ann.videos:
        row = m.row(video.video_id)
        if row is not None and str(m.split[row]) != video.split:
            raise IngestError(
                f"video {video.video_id} is already in split {m.split[row]!r} of {target.uri}, "
                f"the input puts it in {video.split!r}; val_1 and val_2 annotate the same "
                "videos: ingest the other file into an index of its own"
            )


def ingest_activitynet(
    root: str | Path,
    index: Index | str | Path,
    *,
    splits: Sequence[str] | None = None,
    features: str | Path | None = None,
    feature_ids: str | Path | None = None,
    allow_missing: bool = False,
    feature_model: str | None = None,
    encoder: str | None = None,
    fps: float | None = None,
    batch_size: int = 1000,
    progress: bool = True,
    on_batch: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingest ActivityNet Captions annotations and features into ``index`` (created when new).

    Args:
        root: the folder with ``train.json``/``val_1.json``/``val_2.json`` (or ``captions/``)
            and one ``*feat*`` features folder.
        index: an open :class:`Index` or a URI; a new URI is created with the features' dim.
        splits: annotation files to ingest (default: ``train`` and ``val_1``, those present).
        features: a features folder or matrix file (default: the ``*feat*`` folder in root).
        feature_ids: id list for a matrix file without ids inside.
        allow_missing: skip videos without features (many ActivityNet videos are gone from
            YouTube, so feature releases often lack some).
        feature_model: the space of the features, recorded when the index is created.
        encoder: query encoder spec recorded when the index is created.
        fps: frame rate of frame-level features (default: frames spread over the duration).
        batch_size: videos per atomic upsert.
        progress: show progress bars.
        on_batch: called as ``on_batch(done, total)`` after each video batch is written.
    """
    root = Path(root)
    ann, notes = load_activitynet(root, splits)
    return ingest_features(
        index,
        ann,
        CategoryMap.uncategorised(),
        feature_root=root,
        features=features,
        feature_ids=feature_ids,
        allow_missing=allow_missing,
        feature_model=feature_model,
        encoder=encoder,
        fps=fps,
        batch_size=batch_size,
        progress=progress,
        on_batch=on_batch,
        notes=notes,
        check_existing=_check_splits_unchanged,
    )
