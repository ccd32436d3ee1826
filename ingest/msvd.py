"""Ingest MSVD (the MSR Video Description Corpus) with its standard splits and features.

Clips are ``<VideoID>_<Start>_<End>``; their captions are the corpus rows in one language
(English by default); their splits come from the split lists (see :mod:`.msvd_files`);
features are read per clip exactly as for MSR-VTT (a folder of ``<clip id>.npy``/``.pt`` files,
clip-level ``(D)`` or frame-level ``(T, D)``, or one matrix with its ids). MSVD has no
categories: the index gets the single category ``uncategorised`` and evaluations omit the
per-category breakdown.

Same guarantees as ``ingest msrvtt``: everything is read and checked before the first write,
writes are batched upserts (re-running after a kill completes the job without duplicates),
progress bars, and no file is ever unpickled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vtrsearch.categories import CategoryMap
from vtrsearch.errors import IngestError
from vtrsearch.index.index import Index

from .annotations import Annotations, VideoInfo
from .feature_datasets import ingest_features
from .msvd_files import (
    STANDARD_SPLITS,
    CaptionFile,
    find_caption_file,
    read_captions,
    read_split_lists,
)
from .writing import IngestReport

__all__ = ["ingest_msvd", "load_msvd"]


def load_msvd(
    root: Path,
    captions: Path | None = None,
    language: str = "English",
    split: str | None = None,
    allow_missing: bool = False,
) -> tuple[Annotations, list[str]]:
    """Read and cross-check the captions and split lists (no features).

    Returns:
        The annotations (clips of the selected split(s), their captions) and notes on what
        was left out.

    Raises:
        IngestError: no caption file, a pickle, a malformed row or list, a listed clip absent
            from the captions (unless ``allow_missing``), an unknown ``split``, no clip left.
    """
    path = captions or find_caption_file(root)
    corpus = read_captions(path, language)
    lists, list_files = read_split_lists(root if root.is_dir() else path.parent)
    notes = _caption_notes(corpus, language)
    if lists:
        wanted = _listed_clips(lists, split, corpus, allow_missing, notes)
        unlisted = len(set(corpus.clips) - {c for ids in lists.values() for c in ids})
        if unlisted:
            notes.append(f"{unlisted} clips of {path.name} are in no split list: not ingested")
        for name, ids in lists.items():
            standard = STANDARD_SPLITS.get(name)
            if standard is not None and len(ids) != standard:
                notes.append(
                    f"split {name!r} lists {len(ids)} clips; the standard MSVD split has {standard}"
                )
    else:
        if split is not None:
            raise IngestError(
                f"--split {split} needs split lists ({', '.join(STANDARD_SPLITS)}_list.txt or "
                f"splits.json) next to {path.name}; none found"
            )
        wanted = [(clip, "") for clip in corpus.clips]
        notes.append("no split lists found: every clip is ingested without a split")
    ann = Annotations(path=path)
    for clip_id, split_name in wanted:
        clip = corpus.clips[clip_id]
        url = (
            None
            if clip.youtube_id is None
            else f"https://www.youtube.com/watch?v={clip.youtube_id}"
        )
        ann.videos.append(VideoInfo(clip_id, 0, split_name, clip.start, clip.end, url))
        ann.captions.extend((sen, clip_id, text) for sen, text in clip.captions)
    if not ann.videos:
        raise IngestError(f"{path}: no clips to ingest" + (f" in split {split!r}" if split else ""))
    bare = sum(1 for clip_id, _ in wanted if not corpus.clips[clip_id].captions)
    if bare:
        notes.append(
            f"{bare} clips have no {language} caption: they stay in the gallery but query nothing"
        )
    return ann, notes


def _caption_notes(corpus: CaptionFile, language: str) -> list[str]:
    notes = []
    if corpus.other_language:
        langs = ", ".join(f"{k or '?'} {v}" for k, v in sorted(corpus.languages.items()))
        notes.append(
            f"{corpus.other_language} rows not in {language} were left out (rows per language: "
            f"{langs}; --language to choose)"
        )
    if corpus.empty:
        notes.append(f"{corpus.empty} empty descriptions were left out")
    return notes


def _listed_clips(
    lists: dict[str, list[str]],
    split: str | None,
    corpus: CaptionFile,
    allow_missing: bool,
    notes: list[str],
) -> list[tuple[str, str]]:
    """``(clip id, split)`` of the listed clips to ingest, in list order."""
    if split is not None and split not in lists:
        raise IngestError(f"unknown split {split!r}; the split lists have: {', '.join(lists)}")
    chosen = [split] if split is not None else list(lists)
    wanted = [(clip, name) for name in chosen for clip in lists[name]]
    absent = [clip for clip, _ in wanted if clip not in corpus.clips]
    if absent and not allow_missing:
        more = f" ... ({len(absent)} in all)" if len(absent) > 10 else ""
        shown = ", ".join(absent[:10]) + more
        raise IngestError(
            f"{len(absent)} listed clip(s) are not in {corpus.path.name}: {shown}; check that "
            "the lists name clips as <VideoID>_<Start>_<End>, or pass --allow-missing to skip them"
        )
    if absent:
        notes.append(f"{len(absent)} listed clips are not in {corpus.path.name}: skipped")
    return [(clip, name) for clip, name in wanted if clip in corpus.clips]


def ingest_msvd(
    root: str | Path,
    index: Index | str | Path,
    *,
    captions: str | Path | None = None,
    language: str = "English",
    split: str | None = None,
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
    """Ingest MSVD captions, splits and features into ``index`` (created when new).

    Args:
        root: the dataset folder: the corpus CSV, split lists, one ``*feat*`` features folder.
        index: an open :class:`Index` or a URI; a new URI is created with the features' dim.
        captions: the corpus CSV or a JSON caption map (default: found in ``root``).
        language: the captions' language (``Language`` column; ``"all"`` keeps every row).
        split: ingest only this split (``train``, ``val`` or ``test``).
        features: a features folder or matrix file (default: the ``*feat*`` folder in root).
        feature_ids: id list for a matrix file without ids inside.
        allow_missing: skip clips without features (or listed but absent from the captions).
        feature_model: the space of the features, recorded when the index is created.
        encoder: query encoder spec recorded when the index is created.
        fps: frame rate of frame-level features (default: frames spread over Start..End).
        batch_size: videos per atomic upsert.
        progress: show progress bars.
        on_batch: called as ``on_batch(done, total)`` after each video batch is written.
    """
    root = Path(root)
    ann, notes = load_msvd(
        root, Path(captions) if captions else None, language, split, allow_missing
    )
    return ingest_features(
        index,
        ann,
        CategoryMap.uncategorised(),
        feature_root=root if root.is_dir() else root.parent,
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
    )
