"""Ingest an MSR-VTT style dataset (annotations + features) into an :class:`~vtrsearch.Index`.

Everything is read and validated before the first write, so a bad input leaves the index as it
was. Writes are upserts in batches: a run that is killed halfway can be run again and ends with
every video and caption exactly once. Frame-level features ``(T, D)`` also become the video's
``T`` segments (see :mod:`.feature_segments`); each batch replaces the stored segments of its
videos, so a re-run never duplicates segments or leaves stale ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vtrsearch.categories import CategoryMap
from vtrsearch.encoders.space import same_space
from vtrsearch.errors import DimensionMismatchError, IngestError, SpaceMismatchError
from vtrsearch.index.index import Index

from .annotations import Annotations, find_annotation_file, parse_annotations, read_category_file
from .feature_segments import SegmentTimes, plan_segment_times
from .features import Features, find_features, load_feature_folder, load_feature_matrix


@dataclass
class IngestReport:
    """What an ingest run wrote."""

    index_uri: str
    annotation_file: str
    videos: int
    captions: int
    skipped_missing: list[str] = field(default_factory=list)
    segments: int = 0

    def summary(self) -> str:
        """One human-readable line."""
        text = f"ingested {self.videos} videos and {self.captions} captions into {self.index_uri}"
        if self.segments:
            text += f", with {self.segments} frame segments"
        if self.skipped_missing:
            text += f" (skipped {len(self.skipped_missing)} videos without features)"
        return text


def _progress_bar(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="row", disable=not enabled, leave=False)


def load_dataset(
    root: Path,
    annotations: Path | None = None,
    split: str | None = None,
    category_file: Path | None = None,
) -> tuple[Annotations, CategoryMap]:
    """Read and cross-check annotations and categories (no features)."""
    ann_path = annotations or find_annotation_file(root)
    ann = parse_annotations(ann_path, split=split)
    cat_path = category_file or (root / "category.txt" if root.is_dir() else None)
    cmap = read_category_file(cat_path) if cat_path and cat_path.exists() else CategoryMap.msrvtt()
    unknown = sorted({v.category for v in ann.videos if v.category not in cmap})
    if unknown:
        raise IngestError(
            f"{ann_path}: category ids {unknown} are not in the category list "
            f"({cat_path if cat_path and cat_path.exists() else 'the 20 MSR-VTT defaults'})"
        )
    return ann, cmap


def load_features(
    root: Path,
    ann: Annotations,
    features: Path | None,
    feature_ids: Path | None,
    expected_dim: int | None,
    progress: bool,
) -> Features:
    """Read the features of every annotated video from a folder or a matrix file."""
    source = features or find_features(root)
    if source is None:
        raise IngestError(
            f"{root}: no features folder found (expected one '*feat*' directory); "
            "pass --features DIR (one file per video) or --features FILE --feature-ids IDS"
        )
    ids = ann.video_ids()
    if source.is_dir():
        with _progress_bar(len(ids), "reading features", progress) as bar:
            return load_feature_folder(source, ids, expected_dim, progress=bar.update)
    return load_feature_matrix(source, ids, feature_ids, expected_dim)


def ingest_msrvtt(
    root: str | Path,
    index: Index | str | Path,
    *,
    features: str | Path | None = None,
    feature_ids: str | Path | None = None,
    annotations: str | Path | None = None,
    category_file: str | Path | None = None,
    split: str | None = None,
    allow_missing: bool = False,
    feature_model: str | None = None,
    encoder: str | None = None,
    fps: float | None = None,
    batch_size: int = 1000,
    progress: bool = True,
    on_batch: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Ingest MSR-VTT annotations and features into ``index`` (created when it is a new path).

    Args:
        root: the dataset folder (annotation JSON, optional ``category.txt``, features folder).
        index: an open :class:`Index` or a URI; a new URI is created with the features' dim.
        features: a features folder or matrix file (default: the one ``*feat*`` folder in root).
        feature_ids: id list for a matrix file without ids inside.
        annotations: the annotation JSON (default: found in ``root``).
        category_file: ``name<TAB>id`` file (default: ``root/category.txt`` or MSR-VTT names).
        split: ingest only this split (``videodatainfo``), or the label for a 1k-A list.
        allow_missing: skip videos without a feature file instead of failing.
        feature_model: the space of the features, recorded when the index is created.
        encoder: query encoder spec recorded when the index is created.
        fps: frame rate of frame-level features: frame ``j`` becomes the segment
            ``[j/fps, (j+1)/fps)``; by default the frames are spread uniformly over the video's
            annotated ``start``..``end``.
        batch_size: videos per atomic upsert.
        progress: show progress bars.
        on_batch: called as ``on_batch(done, total)`` after each video batch is written.
    """
    root = Path(root)
    ann, cmap = load_dataset(
        root,
        Path(annotations) if annotations else None,
        split,
        Path(category_file) if category_file else None,
    )
    existing = index if isinstance(index, Index) else _try_open(index)
    feats = load_features(
        root,
        ann,
        Path(features) if features else None,
        Path(feature_ids) if feature_ids else None,
        existing.dim if existing is not None else None,
        progress,
    )
    _check_features(feats, allow_missing)
    info = {v.video_id: v for v in ann.videos}
    times = plan_segment_times(feats, info, fps, str(ann.path))
    target = _target_index(index, existing, feats, cmap, feature_model, encoder)
    report = IngestReport(
        index_uri=target.uri,
        annotation_file=str(ann.path),
        videos=0,
        captions=0,
        skipped_missing=feats.missing,
    )
    _write_videos(target, info, feats, times, batch_size, progress, on_batch, report)
    report.captions = _write_captions(target, ann, set(feats.ids), batch_size, progress)
    return report


def _check_features(feats: Features, allow_missing: bool) -> None:
    """Refuse missing feature files (unless allowed) and an input without any features."""
    if feats.missing and not allow_missing:
        shown = ", ".join(feats.missing[:20]) + (" ..." if len(feats.missing) > 20 else "")
        raise IngestError(
            f"{len(feats.missing)} video(s) have no feature file: {shown}; "
            "add the files or pass --allow-missing to skip them"
        )
    if not feats.ids:
        raise IngestError("no video has features; nothing to ingest")


def _target_index(
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
    _check_categories(existing.category_map, cmap)
    return existing


def _write_videos(
    target: Index,
    info: dict,
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
    with _progress_bar(len(ids), "writing videos", progress) as bar:
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


def _write_captions(
    target: Index, ann: Annotations, kept: set[str], batch_size: int, progress: bool
) -> int:
    """Upsert the captions of the written videos; returns the rows written."""
    captions = [c for c in ann.captions if c[1] in kept]
    if not captions:
        return 0
    sen_ids, vids, texts = (list(col) for col in zip(*captions, strict=True))
    with _progress_bar(len(captions), "writing captions", progress) as bar:
        return target.add_captions(
            sen_ids,
            vids,
            texts,
            batch_size=max(batch_size, 5000),
            progress=lambda done, total: bar.update(done - bar.n),
        )


def _try_open(uri: str | Path) -> Index | None:
    from vtrsearch.errors import IndexNotFoundError

    try:
        return Index.open(uri)
    except IndexNotFoundError:
        return None


def _check_categories(index_map: CategoryMap, file_map: CategoryMap) -> None:
    for cid, name in file_map.items():
        if cid in index_map and index_map.name(cid) != name:
            raise IngestError(
                f"category {cid} is {name!r} in the input but {index_map.name(cid)!r} in the index"
            )
        if cid not in index_map:
            raise IngestError(f"category {cid} ({name!r}) is not one of the index's categories")
