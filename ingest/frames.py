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
    from tqdm.auto import tqdm

    from vtrsearch.encoders import VideoDecodeError, load_image_encoder

    if on_error not in ("skip", "fail"):
        raise ValueError(f"on_error must be 'skip' or 'fail', got {on_error!r}")
    root = Path(root)
    media = discover_media(root)
    if not media:
        raise IngestError(f"{root}: no keyframe folders or video files found")
    ann: Annotations | None = parse_annotations(Path(annotations)) if annotations else None
    info: dict[str, VideoInfo] = {v.video_id: v for v in ann.videos} if ann else {}
    if ann is not None:
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
    encoder = load_image_encoder(image_encoder)
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
    existing = set() if overwrite else set(target.gallery().ids.tolist())
    todo = [vid for vid in sorted(media) if vid not in existing]
    report = FramesReport(target.uri, 0, len(media) - len(todo))
    with tqdm(total=len(todo), desc="encoding videos", unit="video", disable=not progress) as bar:
        for start in range(0, len(todo), chunk_size):
            ids, vecs = [], []
            for vid in todo[start : start + chunk_size]:
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
            if ids:
                rows = [info.get(v) for v in ids]
                target.add_videos(
                    {
                        "video_id": ids,
                        "vector": np.stack(vecs),
                        "category": [r.category if r else category for r in rows],
                        "split": [r.split if r else (split or "") for r in rows],
                        "start": [r.start if r else None for r in rows],
                        "end": [r.end if r else None for r in rows],
                        "url": [r.url if r else None for r in rows],
                    }
                )
                report.videos += len(ids)
            if on_chunk is not None:
                on_chunk(start + len(todo[start : start + chunk_size]), len(todo))
    if ann is not None:
        stored = set(target.gallery().ids.tolist())
        caps = [c for c in ann.captions if c[1] in stored]
        if caps:
            sen_ids, vids, texts = (list(col) for col in zip(*caps, strict=True))
            report.captions = target.add_captions(sen_ids, vids, texts)
    return report
