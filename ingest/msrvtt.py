"""Ingest an MSR-VTT style dataset (annotations + features) into an :class:`~vtrsearch.Index`.

Everything is read and validated before the first write, so a bad input leaves the index as it
was. Writes are upserts in batches: a run that is killed halfway can be run again and ends with
every video and caption exactly once. Frame-level features ``(T, D)`` also become the video's
``T`` segments (see :mod:`.feature_segments`); each batch replaces the stored segments of its
videos, so a re-run never duplicates segments or leaves stale ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vtrsearch.categories import CategoryMap
from vtrsearch.index.index import Index

from .annotations import (
    Annotations,
    find_annotation_file,
    parse_annotations,
    read_category_file,
    resolve_categories,
)
from .feature_datasets import ingest_features, load_features
from .writing import IngestReport

__all__ = ["IngestReport", "ingest_msrvtt", "load_dataset", "load_features"]


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
    source = str(cat_path) if cat_path and cat_path.exists() else "the 20 MSR-VTT defaults"
    resolve_categories(ann, cmap, source)
    return ann, cmap


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
    return ingest_features(
        index,
        ann,
        cmap,
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
    )
