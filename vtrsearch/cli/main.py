"""The ``vtrsearch`` command.

Only ``argparse`` is imported up front; each command imports what it needs when it runs, so
``vtrsearch --help`` answers at once. Expected failures (bad input, missing file or model,
errors raised by torch such as CUDA out of memory) print one ``error:`` line and exit with
status 2; ``--debug`` (anywhere on the command line) or ``VTRSEARCH_DEBUG=1`` prints the full
traceback first.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..errors import VtrsearchError
from .args import MIN_DEMO_VIDEOS, at_least, non_negative_int, positive_int
from .eval import add_parsers as add_eval_parsers
from .eval import cmd_eval, cmd_report
from .ingest_datasets import HANDLERS as DATASET_INGESTS
from .ingest_datasets import add_parsers as add_dataset_ingest_parsers
from .serve import add_parsers as add_serve_parsers
from .serve import cmd_serve
from .train import add_parsers as add_train_parsers
from .train import cmd_train

DEBUG_ENV = "VTRSEARCH_DEBUG"
DEBUG_HINT = "(run with --debug for the traceback)"


class CommandError(VtrsearchError):
    """A command that cannot run as given (missing argument, unknown video): exit status 2."""


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-k", type=positive_int, default=10, help="number of results (default 10)")
    p.add_argument(
        "--category",
        action="append",
        metavar="NAME_OR_ID",
        help="restrict to this category (repeatable)",
    )
    p.add_argument("--split", action="append", help="restrict to this split (repeatable)")


def _add_query_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encoder", metavar="SPEC", help="query encoder (default: the index's)")
    p.add_argument("--head", metavar="DIR", help="projection head applied to query vectors")
    p.add_argument(
        "--allow-foreign-space",
        action="store_true",
        help="accept an encoder from another space than the index's features (experts)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="vtrsearch", description="Embeddable text-to-video search (LanceDB / Qdrant)."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        help="Qdrant API key (default: $QDRANT_API_KEY); never printed or logged",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="describe an index")
    p.add_argument("index", help="index path or URI")

    p = sub.add_parser("search", help="search an index")
    p.add_argument("index", help="index path or URI")
    p.add_argument("query", nargs="?", help="text query (needs an encoder)")
    p.add_argument("--like", metavar="VIDEO_ID", help="search by the vector of a stored video")
    p.add_argument(
        "--pool",
        choices=["mean", "max"],
        default="mean",
        help="score a video by its pooled vector (mean, default) or its best segment (max)",
    )
    p.add_argument(
        "--moments",
        action="store_true",
        help="list the best moments (segments): video  start-end  score  category",
    )
    p.add_argument(
        "--per-video",
        type=positive_int,
        default=1,
        metavar="N",
        help="--moments: at most N per video",
    )
    _add_query_args(p)
    _add_filter_args(p)

    p = sub.add_parser("ingest", help="ingest a dataset into an index")
    isub = p.add_subparsers(dest="source", metavar="SOURCE", required=True)
    m = isub.add_parser("msrvtt", help="MSR-VTT layout: annotation JSON, category.txt, features")
    m.add_argument("root", help="dataset folder (or the annotation JSON itself)")
    m.add_argument("--index", required=True, help="index path or URI (created if new)")
    m.add_argument("--split", help="only this split (videodatainfo) / label for a 1k-A list")
    m.add_argument("--features", help="features folder, or one matrix file (.npy/.npz)")
    m.add_argument("--feature-ids", help="id list for a matrix file (txt or JSON)")
    m.add_argument("--annotations", help="annotation JSON (default: found in ROOT)")
    m.add_argument("--categories", help="category.txt (default: ROOT/category.txt or MSR-VTT)")
    m.add_argument(
        "--feature-model", metavar="SPEC", help="model that made the features (default: --encoder)"
    )
    m.add_argument("--encoder", metavar="SPEC", help="query text encoder recorded in the index")
    m.add_argument("--allow-missing", action="store_true", help="skip videos without features")
    m.add_argument(
        "--fps",
        type=float,
        help="frame rate of frame-level (T, D) features: frame j is the segment [j/FPS, "
        "(j+1)/FPS) s (default: frames spread over each video's annotated start..end)",
    )
    m.add_argument(
        "--batch-size", type=positive_int, default=1000, help="rows per write (default 1000)"
    )

    add_dataset_ingest_parsers(isub)

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

    p = sub.add_parser("encode", help="encode and cache every caption for an encoder")
    p.add_argument("index", help="index path or URI")
    p.add_argument("--encoder", metavar="SPEC", help="text encoder (default: the index's)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="texts per forward pass")
    p.add_argument("--chunk-size", type=positive_int, default=2048, help="captions per write")

    p = sub.add_parser("migrate", help="copy an index between stores (LanceDB <-> Qdrant)")
    p.add_argument("src", help="source index path or URI")
    p.add_argument("dst", help="destination path or URI (re-run to resume)")
    p.add_argument("--batch-size", type=positive_int, default=1000, help="rows per read/write")
    p.add_argument(
        "--verify-sample",
        type=non_negative_int,
        default=100,
        help="rows per table compared after copying (0: counts only)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")

    add_eval_parsers(sub)
    add_train_parsers(sub)
    add_serve_parsers(sub)

    p = sub.add_parser("tui", help="interactive terminal UI: search, compare heads, evaluate")
    p.add_argument("index", help="index path or URI")
    p.add_argument("--head", metavar="DIR", help="start with this head (directory or name)")
    p.add_argument(
        "--media",
        metavar="DIR",
        help="folder of video files <video_id>.<ext> to play moments from "
        "(videos/ beside the index is always looked at)",
    )
    p.add_argument(
        "--player",
        metavar="CMD",
        help="player for moments, e.g. 'mpv' or 'vlc' (default $VTRSEARCH_PLAYER, else mpv or "
        "VLC when installed, else the system opener)",
    )

    p = sub.add_parser("demo", help="offline demo on synthetic MSR-VTT-style data")
    p.add_argument("dir", nargs="?", default="vtrsearch-demo", help="output folder")
    p.add_argument(
        "--videos",
        type=at_least(MIN_DEMO_VIDEOS, "every split and filtered query needs videos"),
        default=400,
        help=f"number of synthetic videos (default 400, at least {MIN_DEMO_VIDEOS})",
    )
    _add_debug_flag(parser, top=True)
    return parser


def _add_debug_flag(parser: argparse.ArgumentParser, top: bool) -> None:
    """``--debug`` on the parser and every (nested) command, so it may come anywhere."""
    parser.add_argument(
        "--debug",
        action="store_true",
        # commands leave the attribute alone unless given, so the top-level value stands
        default=False if top else argparse.SUPPRESS,
        help=f"on error, print the full traceback (or set {DEBUG_ENV}=1)",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                _add_debug_flag(command, top=False)


def _debug_requested(args: argparse.Namespace) -> bool:
    env = os.environ.get(DEBUG_ENV, "").strip().lower()
    return bool(getattr(args, "debug", False)) or env in ("1", "true", "yes", "on")


def _report_error(exc: BaseException, debug: bool, designed: bool) -> int:
    """Print an error (traceback first when ``debug``) and return the exit status 2.

    ``designed`` errors (vtrsearch's own) name the problem; others (from torch, a library or
    the OS) get a pointer to ``--debug``, since their traceback may be what explains them.
    """
    import traceback

    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    lines = str(exc).splitlines() or [type(exc).__name__]
    if not designed and not debug:
        lines[0] += f" {DEBUG_HINT}"
    print("error: " + "\n".join(lines), file=sys.stderr)
    return 2


def _cmd_info(args: argparse.Namespace) -> int:
    from ..index.index import Index
    from ..tables import format_table, plain

    index = Index.open(args.index)
    storage = index.storage()
    settings = ", ".join(
        f"{k}={str(v).lower() if isinstance(v, bool) else v}"
        for k, v in storage.get("settings", {}).items()
    )
    lines = [
        f"index:          {index.uri}",
        f"store:          {storage['engine']}",
        *([f"store settings: {settings}"] if settings else []),
        f"videos:         {len(index)}",
        f"captions:       {index.store.count('captions')}",
        f"dim:            {index.dim}",
        f"feature model:  {index.feature_model or 'unknown'}",
        f"query encoder:  {index.encoder_spec or 'none (vector queries only)'}",
        "splits:         " + ", ".join(f"{k or '(none)'}={v}" for k, v in index.splits().items()),
    ]
    print("\n".join(plain(line) for line in lines))  # data may hold control characters
    cats = [c for c in index.categories() if c.count]
    print(format_table(["id", "category", "videos"], [[c.id, c.name, c.count] for c in cats]))
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from ..index.index import Index
    from ..tables import hits_table

    index = Index.open(args.index)
    if args.encoder:
        index.use_encoder(args.encoder, allow_foreign_space=args.allow_foreign_space)
    elif args.allow_foreign_space and index.encoder_spec:
        index.use_encoder(index.encoder_spec, allow_foreign_space=True)
    if args.head:
        index.use_head(args.head)
    if args.like:
        video = index.get(args.like)
        if video is None:
            raise CommandError(f"video {args.like!r} is not in {args.index}")
        query = video.vector
    elif args.query is not None:
        query = args.query
    else:
        raise CommandError("give a text QUERY or --like VIDEO_ID")
    if args.moments:
        from ..tables import moments_table

        moments = index.search_moments(
            query, k=args.k, per_video=args.per_video, categories=args.category, split=args.split
        )
        print(moments_table(moments))
        return 0
    hits = index.search(query, k=args.k, categories=args.category, split=args.split, pool=args.pool)
    print(hits_table(hits))
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    if args.source == "frames":
        return _cmd_ingest_frames(args)
    if args.source in DATASET_INGESTS:
        return DATASET_INGESTS[args.source](args)
    from ..ingest import ingest_msrvtt

    report = ingest_msrvtt(
        args.root,
        args.index,
        features=args.features,
        feature_ids=args.feature_ids,
        annotations=args.annotations,
        category_file=args.categories,
        split=args.split,
        allow_missing=args.allow_missing,
        feature_model=args.feature_model or args.encoder,
        encoder=args.encoder,
        fps=args.fps,
        batch_size=args.batch_size,
    )
    print(report.summary())
    if report.skipped_missing:
        print("skipped (no features): " + ", ".join(report.skipped_missing[:20]))
    return 0


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


def _cmd_encode(args: argparse.Namespace) -> int:
    from ..index.caption_cache import encode_captions
    from ..index.index import Index

    index = Index.open(args.index)
    spec = args.encoder or index.encoder_spec
    if spec is None:
        raise CommandError("the index has no query encoder; pass --encoder SPEC")
    report = encode_captions(index, spec, batch_size=args.batch_size, chunk_size=args.chunk_size)
    print(
        f"{report.total} captions; encoded {report.encoded} now, "
        f"{report.already_cached} were cached ({report.spec} -> table {report.table})"
    )
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from ..index.migrate import migrate_index

    report = migrate_index(
        args.src,
        args.dst,
        batch_size=args.batch_size,
        verify_sample=args.verify_sample,
        progress=not args.no_progress,
    )
    print(report.summary())
    return 0


def _cmd_tui(args: argparse.Namespace) -> int:
    from ..extras import require_extra
    from ..index.index import Index

    require_extra("textual", "tui")
    from ..tui import make_app

    make_app(Index.open(args.index), head=args.head, media=args.media, player=args.player).run()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.dir, num_videos=args.videos)


COMMANDS = {
    "info": _cmd_info,
    "search": _cmd_search,
    "ingest": _cmd_ingest,
    "encode": _cmd_encode,
    "migrate": _cmd_migrate,
    "eval": cmd_eval,
    "report": cmd_report,
    "train": cmd_train,
    "tui": _cmd_tui,
    "serve": cmd_serve,
    "demo": _cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vtrsearch`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from .. import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 0
    if args.api_key:
        # Read by the Qdrant store wherever an index is opened; never echoed.
        os.environ["QDRANT_API_KEY"] = args.api_key
    from ..extras import MissingExtraError, extra_for_module

    debug = _debug_requested(args)
    try:
        return COMMANDS[args.command](args)
    except (VtrsearchError, ValueError, OSError, RuntimeError) as exc:
        # Expected failures (bad input, missing model or file, torch errors): one line.
        return _report_error(exc, debug, designed=isinstance(exc, VtrsearchError))
    except ModuleNotFoundError as exc:
        # An optional dependency imported without require_extra (e.g. torch by the trainer).
        extra = extra_for_module(exc.name or "")
        if extra is None:
            raise
        missing = MissingExtraError(exc.name or "", extra)
        missing.__cause__ = exc
        return _report_error(missing, debug, designed=True)
    except KeyboardInterrupt:
        print(
            "interrupted; re-run the same command to finish (writes are idempotent)",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
