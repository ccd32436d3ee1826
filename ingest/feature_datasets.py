"""The run every feature-dataset ingest shares, once its annotations are read and checked.

``ingest msrvtt``, ``ingest msvd`` and ``ingest activitynet`` differ in how they read captions,
splits and categories; from there on the steps are the same: read the features of every
annotated video, refuse missing ones (unless allowed), plan the frame segments' times, open or
create the index, then write videos and captions in batches (see :mod:`.writing`). Everything
is read and checked before the first write, so a bad input leaves the index as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vtrsearch.categories import CategoryMap
from vtrsearch.errors import IngestError
from vtrsearch.index.index import Index

from .annotations import Annotations
from .feature_segments import plan_segment_times
from .features import Features, find_features, load_feature_folder, load_feature_matrix
from .writing import (
    IngestReport,
    check_features,
    progress_bar,
    target_index,
    try_open,
    write_captions,
    write_videos,
)

__all__ = ["ingest_features", "load_features"]


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
        with progress_bar(len(ids), "reading features", progress) as bar:
            return load_feature_folder(source, ids, expected_dim, progress=bar.update)
    return load_feature_matrix(source, ids, feature_ids, expected_dim)


def ingest_features(
    index: Index | str | Path,
    ann: Annotations,
    cmap: CategoryMap,
    *,
    feature_root: Path,
    features: str | Path | None,
    feature_ids: str | Path | None,
    allow_missing: bool,
    feature_model: str | None,
    encoder: str | None,
    fps: float | None,
    batch_size: int,
    progress: bool,
    on_batch: Callable[[int, int], None] | None,
    notes: list[str] | None = None,
    check_existing: Callable[[Index, Annotations], None] | None = None,
) -> IngestReport:
    """Read the features of ``ann``'s videos and write videos and captions into ``index``.

    Args:
        index: an open :class:`Index` or a URI; a new URI is created with the features' dim.
        ann: the read and checked annotations (videos, splits, captions).
        cmap: the categories of the input (checked against an existing index's).
        feature_root: where to look for the one ``*feat*`` folder without ``features``.
        features, feature_ids, allow_missing, feature_model, encoder, fps, batch_size,
            progress, on_batch: as the dataset's ``ingest_*`` function takes them.
        notes: what reading the input left out, kept in the report.
        check_existing: called as ``check_existing(index, ann)`` when the index exists
            already, after the features are checked and before anything is written.
    """
    existing = index if isinstance(index, Index) else try_open(index)
    feats = load_features(
        feature_root,
        ann,
        Path(features) if features else None,
        Path(feature_ids) if feature_ids else None,
        existing.dim if existing is not None else None,
        progress,
    )
    check_features(feats, allow_missing)
    info = {v.video_id: v for v in ann.videos}
    times = plan_segment_times(feats, info, fps, str(ann.path))
    if existing is not None and check_existing is not None:
        check_existing(existing, ann)
    target = target_index(index, existing, feats, cmap, feature_model, encoder)
    report = IngestReport(
        index_uri=target.uri,
        annotation_file=str(ann.path),
        videos=0,
        captions=0,
        skipped_missing=feats.missing,
        notes=notes if notes is not None else [],
    )
    write_videos(target, info, feats, times, batch_size, progress, on_batch, report)
    report.captions = write_captions(target, ann, set(feats.ids), batch_size, progress)
    return report
