"""Ingest videos from media: keyframe folders or video files, encoded by an OpenCLIP image tower.

Layouts under ``ROOT`` (searched in this order for each video):

* ``ROOT/keyframes/<video_id>/*.jpg|*.png`` (or ``ROOT/<video_id>/`` with images),
* ``ROOT/videos/<video_id>.<ext>`` or ``ROOT/<video_id>.<ext>`` (mp4, webm, avi, mkv, mov),
  decoded with PyAV, ``num_frames`` frames sampled uniformly.

Each video's frame embeddings are mean-pooled and L2-normalised. Metadata (category, split,
times, url, captions) comes from an MSR-VTT annotation file when one is given; otherwise every
video gets ``category``. Videos already in the index are skipped unless ``overwrite`` is set, so
an interrupted run resumes; each chunk is one atomic upsert. A corrupt or unreadable video is
reported by name and skipped (``on_error="skip"``) or stops the run (``"fail"``) after the
chunks before it were written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vtrsearch.encoders.space import same_space
from vtrsearch.errors import IngestError, SpaceMismatchError
from vtrsearch.index.index import Index

from .annotations import Annotations, VideoInfo, parse_annotations

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".webm", ".avi", ".mkv", ".mov", ".m4v")


@dataclass
class FramesReport:
    """What a frames ingest run did."""

    index_uri: str
    videos: int
    skipped_existing: int
    failed: dict[str, str] = field(default_factory=dict)  # video id -> reason
    captions: int = 0

    def summary(self) -> str:
        """One human-readable line."""
        text = f"encoded and wrote {self.videos} videos into {self.index_uri}"
        if self.skipped_existing:
            text += f" ({self.skipped_existing} already there)"
        if self.failed:
            text += f"; {len(self.failed)} unreadable: " + ", ".join(sorted(self.failed)[:10])
        return text


def discover_media(root: Path) -> dict[str, Path]:
    """Video id -> keyframe folder or video file found under ``root``."""
    if not root.is_dir():
        raise IngestError(f"media folder not found: {root}")
    found: dict[str, Path] = {}
    for base in (root / "keyframes", root / "videos", root):
        if not base.is_dir():
            continue
        for path in sorted(base.iterdir()):
            if path.is_dir() and path.name not in ("keyframes", "videos"):
                if any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
                    found.setdefault(path.name, path)
            elif path.suffix.lower() in VIDEO_SUFFIXES:
                found.setdefault(path.stem, path)
    return found


def load_frames(path: Path, num_frames: int) -> list:
    """PIL frames of one video: its keyframe images (evenly subsampled) or decoded frames."""
    if path.is_dir():
        from PIL import Image, UnidentifiedImageError

        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if len(images) > num_frames:
            picks = np.linspace(0, len(images) - 1, num_frames).round().astype(int)
            images = [images[i] for i in picks]
        frames = []
        for p in images:
            try:
                with Image.open(p) as img:
                    frames.append(img.convert("RGB"))
            except (UnidentifiedImageError, OSError) as exc:
                raise IngestError(f"{p}: unreadable image ({exc})") from None
        if not frames:
            raise IngestError(f"{path}: no images")
        return frames
    from vtrsearch.encoders import sample_video_frames

    return sample_video_frames(path, num_frames)


def ingest_frames(
    root: str | Path,
    index: Index | str | Path,
    *,
    image_encoder: str,
    annotations: str | Path | None = None,
    category: int | str | None = None,
    split: str | None = None,
    num_frames: int = 8,
    batch_size: int = 32,
    chunk_size: int = 16,
    on_error: str = "skip",
    overwrite: bool = False,
    progress: bool = True,
    on_chunk: Callable[[int, int], None] | None = None,
) -> FramesReport:
    """Encode the media under ``root`` and upsert the videos (and captions) into ``index``.

    Args:
        root: folder with keyframe folders and/or video files (see the module docstring).
        index: an open :class:`Index` or a URI (created with the encoder's dim when new; its
            ``feature_model`` is ``image_encoder``).
        image_encoder: an ``open_clip:`` spec for the image tower.
        annotations: MSR-VTT annotation JSON giving category, split, times, url and captions.
        category: category for every video when there are no annotations.
        split: split label when there are no annotations.
        num_frames: frames sampled per video.
        batch_size: images per forward pass.
        chunk_size: videos per atomic write.
        on_error: ``"skip"`` unreadable videos (listed in the report) or ``"fail"``.
        overwrite: re-encode videos already in the index.
        progress: show a progress bar.
        on_chunk: called as ``on_chunk(done, total)`` after each written chunk.
    """
    from vtrsearch.encoders import load_image_encoder

    if on_error not in ("skip", "fail"):
        raise ValueError(f"on_error must be 'skip' or 'fail', got {on_error!r}")
    root = Path(root)
    media, ann = _select_media(root, annotations, category, split)
    info: dict[str, VideoInfo] = {v.video_id: v for v in ann.videos} if ann else {}
    encoder = load_image_encoder(image_encoder)
    target = _target_index(index, encoder)
    existing = set() if overwrite else set(target.gallery().ids.tolist())
    todo = [vid for vid in sorted(media) if vid not in existing]
    report = FramesReport(target.uri, 0, len(media) - len(todo))
    _encode_and_write(
        target,
        encoder,
        media,
        todo,
        report,
        _Labels(info, category, split),
        num_frames=num_frames,
        batch_size=batch_size,
        chunk_size=chunk_size,
        on_error=on_error,
        progress=progress,
        on_chunk=on_chunk,
    )
    if ann is not None:
        report.captions = _write_captions(target, ann)
    return report


def _select_media(
    root: Path, annotations: str | Path | None, category: int | str | None, split: str | None
) -> tuple[dict[str, Path], Annotations | None]:
    """The media to ingest (of ``split`` when annotated) and the parsed annotations.

    Raises:
        IngestError: no media, media missing from the annotations, an empty split, or
            neither annotations nor a category.
    """
    media = discover_media(root)
    if not media:
        raise IngestError(f"{root}: no keyframe folders or video files found")
    ann: Annotations | None = parse_annotations(Path(annotations)) if annotations else None
    if ann is not None:
        info = {v.video_id: v for v in ann.videos}
        unknown = sorted(set(media) - set(info))
        if unknown:
            raise IngestError(
                f"{len(unknown)} video(s) are not in {annotations}: " + ", ".join(unknown[:10])
            )
        if split is not None:  # with annotations, --split selects that split's videos
            media = {vid: p for vid, p in media.items() if info[vid].split == split}
            if not media:
                raise IngestError(f"no media of split {split!r} under {root}")
    elif category is None:
        raise IngestError("without --annotations, give the videos' --category")
    return media, ann


def _target_index(index: Index | str | Path, encoder: Any) -> Index:
    """The open index (created in the encoder's space when new), checked against that space."""
    if isinstance(index, Index):
        target = index
    else:
        try:
            target = Index.open(index)
        except FileNotFoundError:
            target = Index.create(index, dim=int(encoder.dim), feature_model=encoder.spec)
    if target.feature_model is not None and not same_space(encoder.spec, target.feature_model):
        raise SpaceMismatchError(
            f"the index's video vectors come from {target.feature_model!r}; encoding more "
            f"videos with {encoder.spec!r} would mix two spaces"
        )
    return target


@dataclass
class _Labels:
    """Where each video's category, split, times and url come from."""

    info: dict[str, VideoInfo]  # from the annotations (empty without)
    category: int | str | None  # for videos without annotations
    split: str | None

    def rows(self, ids: list[str], vectors: np.ndarray) -> dict[str, Any]:
        """The :meth:`Index.add_videos` frame of ``ids``."""
        info = [self.info.get(v) for v in ids]
        return {
            "video_id": ids,
            "vector": vectors,
            "category": [r.category if r else self.category for r in info],
            "split": [r.split if r else (self.split or "") for r in info],
            "start": [r.start if r else None for r in info],
            "end": [r.end if r else None for r in info],
            "url": [r.url if r else None for r in info],
        }


def _encode_and_write(
    target: Index,
    encoder: Any,
    media: dict[str, Path],
    todo: list[str],
    report: FramesReport,
    labels: _Labels,
    *,
    num_frames: int,
    batch_size: int,
    chunk_size: int,
    on_error: str,
    progress: bool,
    on_chunk: Callable[[int, int], None] | None,
) -> None:
    """Encode ``todo`` chunk by chunk, one atomic upsert per chunk; failures go to ``report``."""
    from tqdm.auto import tqdm

    with tqdm(total=len(todo), desc="encoding videos", unit="video", disable=not progress) as bar:
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            ids, vecs = _encode_chunk(
                encoder, media, chunk, report, num_frames, batch_size, on_error, bar
            )
            if ids:
                target.add_videos(labels.rows(ids, np.stack(vecs)))
                report.videos += len(ids)
            if on_chunk is not None:
                on_chunk(start + len(chunk), len(todo))


def _encode_chunk(
    encoder: Any,
    media: dict[str, Path],
    chunk: list[str],
    report: FramesReport,
    num_frames: int,
    batch_size: int,
    on_error: str,
    bar: Any,
) -> tuple[list[str], list[np.ndarray]]:
    """Mean frame embedding of each readable video of ``chunk``."""
    from vtrsearch.encoders import VideoDecodeError

    ids, vecs = [], []
    for vid in chunk:
        try:
            frames = load_frames(media[vid], num_frames)
        except (VideoDecodeError, IngestError) as exc:
            if on_error == "fail":
                raise IngestError(f"video {vid}: {exc}") from None
            report.failed[vid] = str(exc)
            bar.update(1)
            continue
        emb = encoder.encode_images(frames, batch_size=batch_size)
        ids.append(vid)
        vecs.append(emb.mean(axis=0))
        bar.update(1)
    return ids, vecs


def _write_captions(target: Index, ann: Annotations) -> int:
    """Upsert the annotated captions of the videos now in the index; returns rows written."""
    stored = set(target.gallery().ids.tolist())
    caps = [c for c in ann.captions if c[1] in stored]
    if not caps:
        return 0
    sen_ids, vids, texts = (list(col) for col in zip(*caps, strict=True))
    return target.add_captions(sen_ids, vids, texts)
