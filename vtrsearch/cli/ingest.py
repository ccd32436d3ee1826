"""``vtrsearch ingest``: the group, ``ingest frames``, and dispatch to the dataset ingests.

Only ``argparse`` is imported here; the handlers import the ingest code when they run.
"""

from __future__ import annotations

import argparse

from .args import positive_int
from .ingest_datasets import HANDLERS as DATASET_INGESTS
from .ingest_datasets import add_parsers as add_dataset_parsers


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``ingest`` and its sources (msrvtt, msvd, activitynet, frames) on ``sub``."""
    p = sub.add_parser("ingest", help="ingest a dataset into an index")
    isub = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    add_dataset_parsers(isub)

    f = isub.add_parser("frames", help="keyframe folders or video files, OpenCLIP image tower")
    f.add_argument("root", help="folder with keyframes/<video_id>/ or <video_id>.mp4 files")
    f.add_argument("--index", required=True, help="index path or URI (created if new)")
    f.add_argument(
        "--image-encoder",
        required=True,
        metavar="SPEC",
        help="open_clip:MODEL/PRETRAINED image tower",
    )
    f.add_argument("--annotations", help="MSR-VTT annotation JSON (category, split, captions)")
    f.add_argument("--category", help="category of every video when there are no annotations")
    f.add_argument("--split", help="split label (or split filter for videodatainfo)")
    f.add_argument("--encoder", metavar="SPEC", help="query text encoder recorded in the index")
    f.add_argument(
        "--segments",
        default="fixed:2s",
        metavar="fixed:Ns|fixed:Nframes|shots",
        help="how videos are cut into moments (default fixed:2s; shots: frame-difference cuts)",
    )
    f.add_argument(
        "--sample-fps", type=float, default=1.0, help="frames encoded per second (default 1)"
    )
    f.add_argument(
        "--keyframe-fps",
        type=float,
        default=1.0,
        help="rate of a keyframe folder's images: image i is at i/FPS s (default 1)",
    )
    f.add_argument(
        "--shot-threshold",
        type=float,
        default=30.0,
        help="shots: mean 64x48 RGB difference (0-255) that makes a cut (default 30)",
    )
    f.add_argument(
        "--min-shot", type=float, default=0.6, help="shots: shortest shot, seconds (default 0.6)"
    )
    f.add_argument("--batch-size", type=positive_int, default=32, help="images per forward pass")
    f.add_argument(
        "--chunk-size", type=positive_int, default=16, help="videos per write (default 16)"
    )
    r = f.add_argument_group("Ray (pip install 'vtrsearch[distributed]')")
    r.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="auto|local|ADDRESS",
        help="decode in Ray tasks and encode in Ray actors: 'auto' (default) joins the cluster "
        "on this machine or at $RAY_ADDRESS, else starts a local one; 'local' starts one; "
        "or a cluster address (host:6379, ray://host:10001)",
    )
    r.add_argument(
        "--ray-actors", type=positive_int, help="image-tower actors (default: per GPU/CPUs)"
    )
    r.add_argument("--ray-gpus-per-actor", type=float, help="default 1 with GPUs, else 0")
    r.add_argument("--ray-cpus-per-actor", type=float, help="default: leaves CPUs to decoding")
    r.add_argument(
        "--ray-videos-per-call",
        type=positive_int,
        default=4,
        help="videos per actor call (default 4)",
    )
    f.add_argument(
        "--on-error",
        choices=["skip", "fail"],
        default="skip",
        help="unreadable videos: skip and list them (default) or stop",
    )
    f.add_argument("--overwrite", action="store_true", help="re-encode videos already stored")


def cmd_ingest(args: argparse.Namespace) -> int:
    """``vtrsearch ingest SOURCE``: run the source's handler."""
    if args.source == "frames":
        return _cmd_ingest_frames(args)
    return DATASET_INGESTS[args.source](args)


def _cmd_ingest_frames(args: argparse.Namespace) -> int:
    from ..ingest.frames import ingest_frames

    report = ingest_frames(
        args.root,
        args.index,
        image_encoder=args.image_encoder,
        annotations=args.annotations,
        category=args.category,
        split=args.split,
        segments=args.segments,
        sample_fps=args.sample_fps,
        keyframe_fps=args.keyframe_fps,
        shot_threshold=args.shot_threshold,
        min_shot=args.min_shot,
        batch_size=args.batch_size,
        chunk_size=args.chunk_size,
        on_error=args.on_error,
        overwrite=args.overwrite,
        ray=args.ray,
        ray_options=_ray_options(args) if args.ray else None,
    )
    if args.encoder:
        from ..index.index import Index

        Index.open(args.index).set_encoder(args.encoder)
    print(report.summary())
    for vid, reason in sorted(report.failed.items()):
        print(f"  unreadable: {vid}: {reason}")
    return 0


def _ray_options(args: argparse.Namespace):
    from ..ingest.ray_frames import RayOptions

    return RayOptions(
        actors=args.ray_actors,
        gpus_per_actor=args.ray_gpus_per_actor,
        cpus_per_actor=args.ray_cpus_per_actor,
        videos_per_call=args.ray_videos_per_call,
    )
