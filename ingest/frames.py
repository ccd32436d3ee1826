"""Ingest videos from media: keyframe folders or video files, encoded by an OpenCLIP image tower.

Layouts under ``ROOT`` (searched in this order for each video):

* ``ROOT/keyframes/<video_id>/*.jpg|*.png`` (or ``ROOT/<video_id>/`` with images; image ``i``
  is taken to be at ``i / keyframe_fps`` seconds),
* ``ROOT/videos/<video_id>.<ext>`` or ``ROOT/<video_id>.<ext>`` (mp4, webm, avi, mkv, mov),
  decoded with PyAV.

Each video is cut into segments (``fixed:2s`` by default, ``fixed:<n>frames`` or ``shots``; see
:mod:`.segmenting`), frames are sampled at ``sample_fps`` (at least one per segment), a
segment's vector is the mean of its frames' embeddings, the video's vector the mean of its
segments, and each segment stores a 160-px-wide JPEG thumbnail of its middle frame. Metadata
(category, split, times, url, captions) comes from an MSR-VTT annotation file when one is
given; otherwise every video gets ``category``.

Videos already stored with their segments are skipped unless ``overwrite`` is set, so an
interrupted run resumes; each chunk writes its videos, then replaces their segments, so a
re-run never duplicates rows. A corrupt or unreadable video is reported by name and skipped
(``on_error="skip"``) or stops the run (``"fail"``) after the chunks before it were written.
With ``ray=`` the decoding runs as Ray Data tasks and the image tower in Ray actors
(:mod:`.ray_frames`); the vectors and the guarantees are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from vtrsearch.categories import CategoryMap
from vtrsearch.encoders.space import same_space
from vtrsearch.errors import IngestError, SpaceMismatchError
from vtrsearch.index.index import Index

from .annotations import Annotations, VideoInfo, parse_annotations, resolve_categories
from .media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, FrameOptions, try_segment_media
from .segment_encoding import EncodedVideo, encode_segmented
from .segmenting import SegmentedVideo, parse_segments


@dataclass
class FramesReport:
    """What a frames ingest run did."""

    index_uri: str
    videos: int
    skipped_existing: int
    failed: dict[str, str] = field(default_factory=dict)  # video id -> reason
    captions: int = 0
    segments: int = 0

    def summary(self) -> str:
        """One human-readable line."""
        text = (
            f"encoded and wrote {self.videos} videos ({self.segments} segments) "
            f"into {self.index_uri}"
        )
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


def ingest_frames(
    root: str | Path,
    index: Index | str | Path,
    *,
    image_encoder: str,
    annotations: str | Path | None = None,
    category: int | str | None = None,
    split: str | None = None,
    segments: str = "fixed:2s",
    sample_fps: float = 1.0,
    keyframe_fps: float = 1.0,
    shot_threshold: float = 30.0,
    min_shot: float = 0.6,
    batch_size: int = 32,
    chunk_size: int = 16,
    on_error: str = "skip",
    overwrite: bool = False,
    progress: bool = True,
    on_chunk: Callable[[int, int], None] | None = None,
    ray: str | None = None,
    ray_options: Any = None,
) -> FramesReport:
    """Encode the media under ``root`` and upsert the videos, segments and captions.

    Args:
        root: folder with keyframe folders and/or video files (see the module docstring).
        index: an open :class:`Index` or a URI (created with the encoder's dim when new; its
            ``feature_model`` is ``image_encoder``).
        image_encoder: an ``open_clip:`` spec for the image tower.
        annotations: MSR-VTT annotation JSON giving category, split, times, url and captions.
        category: category for every video when there are no annotations.
        split: split label when there are no annotations.
        segments: ``"fixed:2s"``, ``"fixed:<n>frames"`` or ``"shots"``.
        sample_fps: frames encoded per second of video (at least one per segment).
        keyframe_fps: the rate of a keyframe folder's images (image ``i`` at ``i/fps`` s).
        shot_threshold: ``shots``: mean absolute 64x48 RGB difference (0..255) that is a cut.
        min_shot: ``shots``: shortest shot in seconds.
        batch_size: images per forward pass.
        chunk_size: videos per write.
        on_error: ``"skip"`` unreadable videos (listed in the report) or ``"fail"``.
        overwrite: re-encode videos already in the index.
        progress: show a progress bar.
        on_chunk: called as ``on_chunk(done, total)`` after each written chunk.
        ray: ``None`` runs in this process; ``"auto"`` (the Ray instance this process
            already joined, else a cluster on this machine or at ``$RAY_ADDRESS``, else a new
            local one), ``"local"`` (a new local instance) or a cluster address runs on Ray.
        ray_options: a :class:`~vtrsearch.ingest.ray_frames.RayOptions` (actors, resources).
    """
    if on_error not in ("skip", "fail"):
        raise ValueError(f"on_error must be 'skip' or 'fail', got {on_error!r}")
    if int(chunk_size) < 1 or int(batch_size) < 1:
        raise ValueError(f"chunk_size and batch_size must be >= 1, got {chunk_size}, {batch_size}")
    options = FrameOptions(
        segments=parse_segments(segments, shot_threshold, min_shot),
        sample_fps=sample_fps,
        keyframe_fps=keyframe_fps,
    )
    root = Path(root)
    media, ann = _select_media(root, annotations, category, split)
    check = partial(_check_labels, ann, category)  # run by _target_index, before a create
    info: dict[str, VideoInfo] = {v.video_id: v for v in ann.videos} if ann else {}
    labels = _Labels(info, category, split)
    steps = dict(batch_size=batch_size, chunk_size=chunk_size, progress=progress)
    if ray is None:
        from vtrsearch.encoders import load_image_encoder

        encoder = load_image_encoder(image_encoder)
        target = _target_index(index, encoder.spec, lambda: int(encoder.dim), check)
        todo = _todo(target, media, overwrite)
        report = FramesReport(target.uri, 0, len(media) - len(todo))
        writer = ChunkWriter(target, labels, report, on_error)
        _encode_and_write(encoder, media, todo, options, writer, on_chunk=on_chunk, **steps)
    else:
        from .ray_frames import RayOptions, check_ray_installed, ray_session, run_on_ray

        check_ray_installed()
        spec = _image_spec(image_encoder)
        ray_opts = ray_options or RayOptions()
        with ray_session(ray, ray_opts):  # joined before the index opens: no fork after it
            target = _target_index(index, spec, lambda: _encoder_dim(spec), check)
            todo = _todo(target, media, overwrite)
            report = FramesReport(target.uri, 0, len(media) - len(todo))
            writer = ChunkWriter(target, labels, report, on_error)
            paths = {vid: str(media[vid]) for vid in todo}
            run_on_ray(ray_opts, spec, paths, options, writer, on_chunk=on_chunk, **steps)
    if ann is not None:
        writer.report.captions = _write_captions(writer.target, ann)
    return writer.report


def _image_spec(image_encoder: str) -> str:
    """The canonical ``open_clip:`` spec, with its local files checked (weights not loaded)."""
    from vtrsearch.encoders import load_image_encoder

    return load_image_encoder(image_encoder).spec


def _encoder_dim(spec: str) -> int:
    """The image tower's width from its model config, loading the model only when it must."""
    from vtrsearch.encoders import load_image_encoder
    from vtrsearch.encoders.open_clip_text import open_clip_embed_dim

    return open_clip_embed_dim(spec) or int(load_image_encoder(spec).dim)


def _todo(target: Index, media: dict[str, Path], overwrite: bool) -> list[str]:
    """Videos to encode: all with ``overwrite``, else those not yet stored with segments.

    A video stored without segments (a run killed between its two writes, or an ingest that
    made no segments) is encoded again.
    """
    if overwrite:
        return sorted(media)
    gallery = target.gallery()
    block = gallery.segments
    done = set(gallery.ids[block.videos_with_segments].tolist()) if block is not None else set()
    return [vid for vid in sorted(media) if vid not in done]


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


def _check_labels(
    ann: Annotations | None, category: int | str | None, cmap: CategoryMap, source: str
) -> None:
    """Resolve the annotated categories and ``category`` against ``cmap`` (the categories of
    the index, or of the index about to be created), so a bad one fails before any write.

    Raises:
        IngestError: a category ``cmap`` does not know (``source`` says where it came from).
    """
    if ann is not None:
        resolve_categories(ann, cmap, source)
    if category is not None:
        try:
            cmap.resolve(category)
        except ValueError as exc:
            raise IngestError(f"--category: {exc}") from None


def _target_index(
    index: Index | str | Path,
    spec: str,
    dim: Callable[[], int],
    check_labels: Callable[[CategoryMap, str], None],
) -> Index:
    """The open index (created in the encoder's space when new), checked against that space;
    ``check_labels`` runs against its categories first (a new index: before it is created)."""
    try:
        target = index if isinstance(index, Index) else Index.open(index)
    except FileNotFoundError:
        check_labels(CategoryMap.msrvtt(), "the 20 MSR-VTT categories of a new index")
        target = Index.create(index, dim=dim(), feature_model=spec)
    else:
        check_labels(target.category_map, f"the categories of {target.uri}")
    if target.feature_model is not None and not same_space(spec, target.feature_model):
        raise SpaceMismatchError(
            f"the index's video vectors come from {target.feature_model!r}; encoding more "
            f"videos with {spec!r} would mix two spaces"
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


class ChunkWriter:
    """Writes encoded videos chunk by chunk: their rows, then their segments (replaced).

    Shared by the single-process and the Ray paths. Unreadable videos go to the report, or
    stop the run with ``on_error="fail"`` (after the chunks before were written).
    """

    def __init__(
        self, target: Index, labels: _Labels, report: FramesReport, on_error: str = "skip"
    ) -> None:
        self.target = target
        self.labels = labels
        self.report = report
        self.on_error = on_error

    def failed(self, video_id: str, reason: str) -> None:
        """Record an unreadable video (or raise with ``on_error="fail"``)."""
        if self.on_error == "fail":
            raise IngestError(f"video {video_id}: {reason}")
        self.report.failed[video_id] = reason

    def write(self, encoded: list[EncodedVideo]) -> None:
        """Upsert the videos, then replace their segments (one video's segments never mix runs)."""
        if not encoded:
            return
        ids = [e.video_id for e in encoded]
        self.report.videos += self.target.add_videos(
            self.labels.rows(ids, np.stack([e.vector for e in encoded]))
        )
        self.report.segments += self.target.add_segments(
            {
                "video_id": [e.video_id for e in encoded for _ in e.starts],
                "segment": [i for e in encoded for i in range(len(e.starts))],
                "start": np.concatenate([e.starts for e in encoded]).tolist(),
                "end": np.concatenate([e.ends for e in encoded]).tolist(),
                "vector": np.concatenate([e.segment_vectors for e in encoded]),
                "thumbnail": [t for e in encoded for t in e.thumbnails],
            },
            replace=True,
        )


def _encode_and_write(
    encoder: Any,
    media: dict[str, Path],
    todo: list[str],
    options: FrameOptions,
    writer: ChunkWriter,
    *,
    batch_size: int,
    chunk_size: int,
    progress: bool,
    on_chunk: Callable[[int, int], None] | None,
) -> None:
    """Decode and encode ``todo`` chunk by chunk in this process, one write per chunk."""
    from tqdm.auto import tqdm

    with tqdm(total=len(todo), desc="encoding videos", unit="video", disable=not progress) as bar:
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            decoded: list[SegmentedVideo] = []
            for vid in chunk:
                result = try_segment_media(vid, media[vid], options)
                if isinstance(result, str):
                    writer.failed(vid, result)
                else:
                    decoded.append(result)
            writer.write(encode_segmented(encoder, decoded, batch_size))
            bar.update(len(chunk))  # counted once written, like the Ray path
            if on_chunk is not None:
                on_chunk(start + len(chunk), len(todo))


def _write_captions(target: Index, ann: Annotations) -> int:
    """Upsert the annotated captions of the videos now in the index; returns rows written."""
    stored = set(target.gallery().ids.tolist())
    caps = [c for c in ann.captions if c[1] in stored]
    if not caps:
        return 0
    sen_ids, vids, texts = (list(col) for col in zip(*caps, strict=True))
    return target.add_captions(sen_ids, vids, texts)
