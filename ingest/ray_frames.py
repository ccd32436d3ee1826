"""``ingest frames --ray``: decoding as Ray Data tasks, the image tower in Ray actors.

The pipeline is ``from_items(videos) -> map(decode) -> map_batches(EncoderActor) ->
iter_batches`` on the driver, which writes chunk by chunk through the same
:class:`~vtrsearch.ingest.frames.ChunkWriter` as the single-process path:

* decode tasks run :func:`~vtrsearch.ingest.media.try_segment_media` (one video per row; an
  unreadable video comes back as a row with an ``error`` and is listed, not fatal);
* each actor builds the image tower once and runs
  :func:`~vtrsearch.ingest.segment_encoding.encode_segmented` on a few videos per call; with
  GPUs in the cluster each actor takes ``gpus_per_actor`` of one (default 1);
* the driver streams the encoded videos back and writes them as they come.

Resources are checked before anything starts: Ray waits forever when actors hold every CPU and
no decode task can be scheduled, so the actors' CPUs must leave ``decode_cpus`` free.

Every node must have vtrsearch installed (same version) and the image tower's files at the path
the spec names. Ray itself is the optional extra ``vtrsearch[distributed]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from vtrsearch.errors import IngestError
from vtrsearch.extras import require_extra

from .media import FrameOptions, try_segment_media
from .segment_encoding import EncodedVideo, encode_segmented
from .segmenting import SegmentedVideo

#: Columns of the rows the actors send back to the driver.
ENCODED_COLUMNS = (
    "video_id",
    "error",
    "vector",
    "segment_vectors",
    "starts",
    "ends",
    "thumbs",
    "thumb_ends",
)


@dataclass(frozen=True)
class RayOptions:
    """How the Ray pipeline uses the cluster (``None`` means: derived from its resources).

    Attributes:
        actors: image-tower actors (default: one per GPU, else half the CPUs, at least 1).
        gpus_per_actor: GPUs each actor takes (default 1 when the cluster has GPUs, else 0).
        cpus_per_actor: CPUs each actor takes (default: at most 1, leaving ``decode_cpus``).
        decode_cpus: CPUs each decode task takes.
        videos_per_call: videos an actor encodes per call (their frames share batches).
        local_cpus: CPUs of a local Ray instance started by this call (default: all).
        actor_start_timeout: seconds to wait for the actors to start before failing.
    """

    actors: int | None = None
    gpus_per_actor: float | None = None
    cpus_per_actor: float | None = None
    decode_cpus: float = 1.0
    videos_per_call: int = 4
    local_cpus: int | None = None
    actor_start_timeout: float = 300.0


def check_ray_installed() -> None:
    """Raise one clear error naming ``pip install 'vtrsearch[distributed]'`` without Ray Data."""
    require_extra("ray.data", "distributed")


@dataclass(frozen=True)
class ActorPlan:
    """The resources the pipeline asks for."""

    actors: int
    cpus_per_actor: float
    gpus_per_actor: float
    decode_cpus: float


def plan_actors(cpus: float, gpus: float, opts: RayOptions) -> ActorPlan:
    """Actor count and resources for a cluster with ``cpus`` CPUs and ``gpus`` GPUs.

    Raises:
        IngestError: the request cannot be scheduled (it would wait forever).
    """
    gpa = opts.gpus_per_actor if opts.gpus_per_actor is not None else (1.0 if gpus >= 1 else 0.0)
    if opts.actors is not None:
        actors = int(opts.actors)
    elif gpa > 0:
        actors = int(gpus // gpa)
    else:
        actors = max(1, int(cpus // 2))
    decode = float(opts.decode_cpus)
    if actors < 1:
        raise IngestError(f"need at least one actor, got {actors} (cluster GPUs: {gpus:g})")
    if gpa < 0 or actors * gpa > gpus + 1e-9:
        raise IngestError(
            f"{actors} actor(s) x {gpa:g} GPU need more than the cluster's {gpus:g} GPU(s); "
            "use fewer actors or --ray-gpus-per-actor 0"
        )
    if decode <= 0 or cpus < decode:
        raise IngestError(f"the cluster has {cpus:g} CPU(s); decoding needs {decode:g} per task")
    free = cpus - decode
    cpa = opts.cpus_per_actor if opts.cpus_per_actor is not None else min(1.0, free / actors)
    if cpa < 0 or actors * cpa > free + 1e-9:
        raise IngestError(
            f"{actors} actor(s) x {cpa:g} CPU would leave less than {decode:g} of the cluster's "
            f"{cpus:g} CPU(s) for decoding, and Ray would wait forever; use fewer actors or "
            "fewer CPUs per actor"
        )
    return ActorPlan(actors, float(cpa), float(gpa), decode)


@contextmanager
def ray_session(address: str, opts: RayOptions) -> Iterator[None]:
    """Join (or start) Ray for the block; disconnect after it unless the caller had joined.

    ``"auto"``: the Ray this process already joined, else the cluster on this machine or at
    ``$RAY_ADDRESS``, else a new local instance; ``"local"``: a new local instance; anything
    else is a cluster address (``host:6379`` or ``ray://host:10001``).
    """
    import ray

    if ray.is_initialized():
        yield
        return
    quiet: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    local: dict[str, Any] = {"include_dashboard": False, "num_cpus": opts.local_cpus}
    if address == "local":
        ray.init(**local, **quiet)
    elif address == "auto":
        try:
            ray.init(address="auto", **quiet)
        except ConnectionError:  # no cluster on this machine nor at $RAY_ADDRESS
            ray.init(**local, **quiet)
    else:
        try:
            ray.init(address=address, **quiet)
        except ConnectionError as exc:
            raise IngestError(f"cannot reach the Ray cluster at {address!r}: {exc}") from None
    try:
        yield
    finally:
        ray.shutdown()


def _decode_row(row: dict[str, Any], options: FrameOptions) -> dict[str, Any]:
    """Ray decode task: one video -> its sampled frames and segments (or an error)."""
    result = try_segment_media(str(row["video_id"]), str(row["path"]), options)
    if isinstance(result, str):
        return {
            "video_id": str(row["video_id"]),
            "error": result,
            "frames": np.zeros((0, 2, 2, 3), np.uint8),
            "frame_segment": np.zeros(0, np.int32),
            "starts": np.zeros(0),
            "ends": np.zeros(0),
            "thumbs": b"",
            "thumb_ends": np.zeros(0, np.int64),
        }
    return {
        "video_id": result.video_id,
        "error": "",
        "frames": result.frames,
        "frame_segment": result.frame_segment,
        "starts": result.starts,
        "ends": result.ends,
        "thumbs": b"".join(result.thumbnails),
        "thumb_ends": np.cumsum([len(t) for t in result.thumbnails]).astype(np.int64),
    }


def _decode_rows(row: dict[str, Any], options: FrameOptions) -> list[dict[str, Any]]:
    """:func:`_decode_row` as a ``flat_map`` (see :func:`build_pipeline`)."""
    return [_decode_row(row, options)]


def _rows(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a numpy batch (ragged columns arrive as object arrays, equal ones stacked)."""
    n = len(batch["video_id"])
    return [{key: batch[key][i] for key in batch} for i in range(n)]


def _thumbnails(blob: Any, ends: np.ndarray) -> list[bytes]:
    data = bytes(blob)
    edges = [0, *np.asarray(ends, dtype=np.int64).tolist()]
    return [data[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


class EncoderActor:
    """Ray actor: the image tower, built once, encoding a few decoded videos per call."""

    def __init__(self, spec: str, batch_size: int, threads: int) -> None:
        import torch

        from vtrsearch.encoders import load_image_encoder

        torch.set_num_threads(max(1, threads))
        self.encoder = load_image_encoder(spec).load()
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        rows = _rows(batch)
        ok = [r for r in rows if not str(r["error"])]
        videos = [
            SegmentedVideo(
                video_id=str(r["video_id"]),
                frames=np.asarray(r["frames"], dtype=np.uint8),
                frame_segment=np.asarray(r["frame_segment"]),
                starts=np.asarray(r["starts"], dtype=np.float64),
                ends=np.asarray(r["ends"], dtype=np.float64),
                thumbnails=[],
                duration=float(np.asarray(r["ends"])[-1]),
            )
            for r in ok
        ]
        encoded = {e.video_id: e for e in encode_segmented(self.encoder, videos, self.batch_size)}
        dim = self.encoder.dim
        out: dict[str, list[Any]] = {k: [] for k in ENCODED_COLUMNS}
        for r in rows:
            e = encoded.get(str(r["video_id"]))
            out["video_id"].append(str(r["video_id"]))
            out["error"].append(str(r["error"]))
            out["vector"].append(e.vector if e else np.zeros(dim, np.float32))
            out["segment_vectors"].append(
                e.segment_vectors if e else np.zeros((0, dim), np.float32)
            )
            out["starts"].append(np.asarray(r["starts"], dtype=np.float64))
            out["ends"].append(np.asarray(r["ends"], dtype=np.float64))
            out["thumbs"].append(bytes(r["thumbs"]))
            out["thumb_ends"].append(np.asarray(r["thumb_ends"], dtype=np.int64))
        return out


def _encoded(row: dict[str, Any]) -> EncodedVideo:
    return EncodedVideo(
        video_id=str(row["video_id"]),
        vector=np.asarray(row["vector"], dtype=np.float32),
        segment_vectors=np.asarray(row["segment_vectors"], dtype=np.float32),
        starts=np.asarray(row["starts"], dtype=np.float64),
        ends=np.asarray(row["ends"], dtype=np.float64),
        thumbnails=_thumbnails(row["thumbs"], row["thumb_ends"]),
    )


def build_pipeline(
    items: list[dict[str, str]],
    plan: ActorPlan,
    opts: RayOptions,
    spec: str,
    options: FrameOptions,
    batch_size: int,
) -> Any:
    """The Ray Dataset: decode tasks, then the image-tower actors.

    Decoding is a ``flat_map`` (one row per video) so that Ray never fuses it into the actors
    (it fuses a task into a following actor map whose resources match, and decoding would
    then run inside the actors, one video at a time per actor); a row-count-changing step
    before a ``map_batches`` with a batch size is never fused.
    """
    import ray

    return (
        ray.data.from_items(items, override_num_blocks=min(len(items), 1000))
        .flat_map(_decode_rows, fn_kwargs={"options": options}, num_cpus=plan.decode_cpus)
        .map_batches(
            EncoderActor,
            batch_size=max(1, int(opts.videos_per_call)),
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=plan.actors),
            num_cpus=plan.cpus_per_actor,
            num_gpus=plan.gpus_per_actor,
            fn_constructor_kwargs={
                "spec": spec,
                "batch_size": batch_size,
                "threads": max(1, int(plan.cpus_per_actor)),
            },
        )
    )


def _stream(
    batches: Iterator[dict[str, Any]],
    writer: Any,
    bar: Any,
    on_chunk: Callable[[int, int], None] | None,
    total: int,
) -> None:
    """Write each batch the actors send back: failures listed, videos and segments stored."""
    done = 0
    for batch in batches:
        rows = _rows(batch)
        for r in rows:
            if str(r["error"]):
                writer.failed(str(r["video_id"]), str(r["error"]))
        writer.write([_encoded(r) for r in rows if not str(r["error"])])
        done += len(rows)
        bar.update(len(rows))
        if on_chunk is not None:
            on_chunk(done, total)


def _pipeline_error(exc: Exception) -> IngestError:
    """One readable line for a failure inside Ray (e.g. an actor that cannot load the model)."""
    cause = getattr(exc, "cause", None) or exc
    lines = [line for line in str(cause).strip().splitlines() if line.strip()]
    last = lines[-1] if lines else type(cause).__name__
    return IngestError(
        f"the Ray pipeline failed ({type(cause).__name__}): {last}; videos written so far are "
        "kept, re-run the same command to finish"
    )


def run_on_ray(
    opts: RayOptions,
    spec: str,
    paths: dict[str, str],
    options: FrameOptions,
    writer: Any,
    *,
    batch_size: int,
    chunk_size: int,
    progress: bool,
    on_chunk: Callable[[int, int], None] | None,
) -> None:
    """Run the Ray pipeline over ``paths`` (video id -> media path) and write as it streams.

    Needs a joined Ray (:func:`ray_session`).
    """
    if not paths:
        return
    import ray
    from tqdm.auto import tqdm

    ctx = ray.data.DataContext.get_current()
    saved = (ctx.enable_progress_bars, ctx.wait_for_min_actors_s)
    try:
        resources = ray.cluster_resources()
        plan = plan_actors(float(resources.get("CPU", 0)), float(resources.get("GPU", 0)), opts)
        ctx.enable_progress_bars = False
        ctx.wait_for_min_actors_s = float(opts.actor_start_timeout)
        items = [{"video_id": vid, "path": path} for vid, path in paths.items()]
        ds = build_pipeline(items, plan, opts, spec, options, batch_size)
        batches = iter(ds.iter_batches(batch_size=chunk_size, batch_format="numpy"))
        desc = "encoding videos (ray)"
        with tqdm(total=len(items), desc=desc, unit="video", disable=not progress) as bar:
            try:
                _stream(batches, writer, bar, on_chunk, len(items))
            except ray.exceptions.RayError as exc:
                raise _pipeline_error(exc) from exc
            finally:
                close = getattr(batches, "close", None)
                if close is not None:  # stop the streaming execution now, not at GC
                    close()
    finally:
        ctx.enable_progress_bars, ctx.wait_for_min_actors_s = saved
