"""Writing a read and validated dataset into an index: shared by every feature-based ingest.

``ingest msrvtt``, ``ingest msvd`` and ``ingest activitynet`` read and check everything first
(annotations, features, segment times), then call these helpers. Writes are upserts in
batches, so a killed run can be run again and ends with every video, caption and segment
exactly once; each batch of frame-level videos replaces their stored segments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vtrsearch.categories import CategoryMap
from vtrsearch.encoders.space import same_space
from vtrsearch.errors import (
    DimensionMismatchError,
    IndexNotFoundError,
    IngestError,
    SpaceMismatchError,
)
from vtrsearch.index.index import Index

from .annotations import Annotations, VideoInfo
from .feature_segments import SegmentTimes
from .features import Features


@dataclass
class IngestReport:
    """What an ingest run wrote (and what it left out, in ``notes``)."""

    index_uri: str
    annotation_file: str
    videos: int
    captions: int
    skipped_missing: list[str] = field(default_factory=list)
    segments: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One human-readable line (then one line per note)."""
        text = f"ingested {self.videos} videos and {self.captions} captions into {self.index_uri}"
        if self.segments:
            text += f", with {self.segments} frame segments"
        if self.skipped_missing:
            text += f" (skipped {len(self.skipped_missing)} videos without features)"
        return "\n".join([text, *(f"note: {n}" for n in self.notes)])


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar (hidden when ``enabled`` is false)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="row", disable=not enabled, leave=False)


def try_open(uri: str | Path) -> Index | None:
    """The index at ``uri``, or ``None`` when there is none yet."""
    try:
        return Index.open(uri)
    except IndexNotFoundError:
        return None


def check_features(feats: Features, allow_missing: bool) -> None:
    """Refuse missing feature files (unless allowed) and an input without any features."""
    if feats.missing and not allow_missing:
        shown = ", ".join(feats.missing[:20]) + (" ..." if len(feats.missing) > 20 else "")
        raise IngestError(
            f"{len(feats.missing)} video(s) have no feature file: {shown}; "
            "add the files or pass --allow-missing to skip them"
        )
    if not feats.ids:
        raise IngestError("no video has features; nothing to ingest")


def check_categories(index_map: CategoryMap, file_map: CategoryMap) -> None:
    """The input's categories must be the index's (same id, same name)."""
    if index_map.has_categories != file_map.has_categories:
        raise IngestError(
            "this dataset has "
            + ("categories" if file_map.has_categories else "no categories")
            + " but the index's videos "
            + ("have" if index_map.has_categories else "have none")
            + "; ingest it into an index of its own"
        )
    for cid, name in file_map.items():
        if cid in index_map and index_map.name(cid) != name:
            raise IngestError(
                f"category {cid} is {name!r} in the input but {index_map.name(cid)!r} in the index"
            )
        if cid not in index_map:
            raise IngestError(f"category {cid} ({name!r}) is not one of the index's categories")


def target_index(
    index: Index | str | Path,
    existing: Index | None,
    feats: Features,
    cmap: CategoryMap,
    feature_model: str | None,
    encoder: str | None,
) -> Index:
    """The index to write: ``existing`` checked against the input, or a new one at ``index``."""
    if existing is None:
        return Index.create(
            index,
            dim=feats.dim,
            feature_model=feature_model,
            encoder=encoder,
            categories=dict(cmap.items()),
        )
    if existing.dim != feats.dim:  # pragma: no cover - checked while reading
        raise DimensionMismatchError(f"index dim {existing.dim}, features dim {feats.dim}")
    if (
        feature_model is not None
        and existing.feature_model is not None
        and not same_space(feature_model, existing.feature_model)
    ):
        raise SpaceMismatchError(
            f"the index's video vectors come from {existing.feature_model!r}, these features "
            f"are declared as {feature_model!r}; ingest them into another index"
        )
    check_categories(existing.category_map, cmap)
    return existing


def write_videos(
    target: Index,
    info: dict[str, VideoInfo],
    feats: Features,
    times: SegmentTimes,
    batch_size: int,
    progress: bool,
    on_batch: Callable[[int, int], None] | None,
    report: IngestReport,
) -> None:
    """Upsert the videos that have features in batches, each followed by its segments.

    A frame-level video's stored segments are replaced by its frames; a clip-level video's
    stored segments (from an earlier frame-level ingest) are deleted, so none is left stale.
    """
    ids = feats.ids
    index_of = {vid: i for i, vid in enumerate(ids)}
    step = max(1, batch_size)
    may_be_stale = target.has_segments()  # else there is nothing to delete
    with progress_bar(len(ids), "writing videos", progress) as bar:
        for start in range(0, len(ids), step):
            chunk = ids[start : start + step]
            rows = [info[vid] for vid in chunk]
            report.videos += target.add_videos(
                {
                    "video_id": chunk,
                    "category": [v.category for v in rows],
                    "split": [v.split for v in rows],
                    "start": [v.start for v in rows],
                    "end": [v.end for v in rows],
                    "url": [v.url for v in rows],
                    "vector": feats.vectors[start : start + step],
                },
                batch_size=step,
            )
            segments = times.rows(chunk, feats, index_of)
            if segments:
                report.segments += target.add_segments(segments, replace=True)
            clip_level = [vid for vid in chunk if vid not in times.edges]
            if clip_level and may_be_stale:
                target.delete_segments(clip_level)
            bar.update(len(chunk))
            if on_batch is not None:
                on_batch(start + len(chunk), len(ids))


def write_captions(
    target: Index, ann: Annotations, kept: set[str], batch_size: int, progress: bool
) -> int:
    """Upsert the captions (with their times, if any) of the written videos; returns the
    rows written."""
    captions = [c for c in ann.captions if c[1] in kept]
    if not captions:
        return 0
    sen_ids, vids, texts = (list(col) for col in zip(*captions, strict=True))
    times: dict[str, object] = {}
    if ann.caption_times:
        starts = [ann.caption_times.get(s, (None, None))[0] for s in sen_ids]
        ends = [ann.caption_times.get(s, (None, None))[1] for s in sen_ids]
        times = {"starts": starts, "ends": ends}
    step = max(batch_size, 5000)
    written = 0
    with progress_bar(len(captions), "writing captions", progress) as bar:
        for start in range(0, len(captions), step):
            part = slice(start, start + step)
            written += target.add_captions(
                sen_ids[part],
                vids[part],
                texts[part],
                batch_size=step,
                **{k: v[part] for k, v in times.items()},  # type: ignore[index]
            )
            bar.update(len(sen_ids[part]))
    return written
