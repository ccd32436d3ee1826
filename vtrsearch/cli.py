"""The ``vtrsearch`` command.

Only ``argparse`` is imported up front; each command imports what it needs when it runs, so
``vtrsearch --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    p.add_argument(
        "--category",
        action="append",
        metavar="NAME_OR_ID",
        help="restrict to this category (repeatable)",
    )
    p.add_argument("--split", action="append", help="restrict to this split (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="vtrsearch", description="Embeddable text-to-video search (LanceDB / Qdrant)."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="describe an index")
    p.add_argument("index", help="index path or URI")

    p = sub.add_parser("search", help="search an index")
    p.add_argument("index", help="index path or URI")
    p.add_argument("query", nargs="?", help="text query (needs an encoder)")
    p.add_argument("--like", metavar="VIDEO_ID", help="search by the vector of a stored video")
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
    m.add_argument("--feature-model", help="name of the model that made the features")
    m.add_argument("--allow-missing", action="store_true", help="skip videos without features")
    m.add_argument("--batch-size", type=int, default=1000, help="rows per write (default 1000)")

    p = sub.add_parser("demo", help="offline demo on synthetic MSR-VTT-style data")
    p.add_argument("dir", nargs="?", default="vtrsearch-demo", help="output folder")
    p.add_argument("--videos", type=int, default=600, help="number of synthetic videos")
    return parser


def _cmd_info(args: argparse.Namespace) -> int:
    from .display import format_table
    from .index import Index

    index = Index.open(args.index)
    print(f"index:          {index.uri}")
    print(f"videos:         {len(index)}")
    print(f"captions:       {index.store.count('captions')}")
    print(f"dim:            {index.dim}")
    print(f"feature model:  {index.feature_model or 'unknown'}")
    print(f"query encoder:  {index.encoder_spec or 'none (vector queries only)'}")
    print("splits:         " + ", ".join(f"{k or '(none)'}={v}" for k, v in index.splits().items()))
    cats = [c for c in index.categories() if c.count]
    print(format_table(["id", "category", "videos"], [[c.id, c.name, c.count] for c in cats]))
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from .display import hits_table
    from .index import Index

    index = Index.open(args.index)
    if args.like:
        video = index.get(args.like)
        if video is None:
            raise SystemExit(f"error: video {args.like!r} is not in {args.index}")
        query = video.vector
    elif args.query is not None:
        query = args.query
    else:
        raise SystemExit("error: give a text QUERY or --like VIDEO_ID")
    hits = index.search(query, k=args.k, categories=args.category, split=args.split)
    print(hits_table(hits))
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest_msrvtt

    report = ingest_msrvtt(
        args.root,
        args.index,
        features=args.features,
        feature_ids=args.feature_ids,
        annotations=args.annotations,
        category_file=args.categories,
        split=args.split,
        allow_missing=args.allow_missing,
        feature_model=args.feature_model,
        batch_size=args.batch_size,
    )
    print(report.summary())
    if report.skipped_missing:
        print("skipped (no features): " + ", ".join(report.skipped_missing[:20]))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.dir, num_videos=args.videos)


COMMANDS = {"info": _cmd_info, "search": _cmd_search, "ingest": _cmd_ingest, "demo": _cmd_demo}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vtrsearch`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 0
    from .errors import VtrsearchError

    try:
        return COMMANDS[args.command](args)
    except VtrsearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted; re-run the same command to finish (writes are idempotent)",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
