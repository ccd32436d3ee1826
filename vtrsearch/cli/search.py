"""``vtrsearch info`` and ``vtrsearch search``: argument wiring and handlers.

Only ``argparse`` is imported here; the handlers open the index when they run.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .ann import MODE_CHOICES, ann_lines
from .args import positive_int
from .errors import CommandError

if TYPE_CHECKING:
    from ..index.index import Index


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


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the ``info`` and ``search`` commands on ``sub``."""
    p = sub.add_parser("info", help="describe an index")
    p.add_argument("index", help="index path or URI")
    p.add_argument(
        "--precision",
        choices=["auto", "float32", "float16", "int8"],
        default="auto",
        help="precision of the in-memory gallery to describe (default: auto)",
    )

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
    p.add_argument(
        "--mode",
        choices=MODE_CHOICES,
        default="auto",
        help="exact, ann (needs `vtrsearch build-ann`) or auto (default: exact below 200k "
        "videos or without an ANN index)",
    )
    _add_query_args(p)
    _add_filter_args(p)


def _precision_line(index: Index, asked: str) -> str:
    """What searches score in, and where the gallery lives (for ``info``)."""
    precision = index.precision
    if precision == "store":
        return "n/a (searches run on the store's engine)"
    how = "asked" if asked != "auto" else "auto: float32 up to 512 MiB of vectors, float16 above"
    if precision != "float32":
        how += "; top candidates re-scored in float32, results exact"
    mapped = hasattr(index.gallery().vectors, "filename")  # a numpy memory map
    return f"{precision} ({how}; {'memory-mapped cache' if mapped else 'in RAM'})"


def cmd_info(args: argparse.Namespace) -> int:
    """``vtrsearch info``: the index's store, counts, models, splits and categories."""
    from ..index.index import Index
    from ..tables import format_table, plain

    index = Index.open(args.index, precision=args.precision)
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
        f"precision:      {_precision_line(index, args.precision)}",
        f"feature model:  {index.feature_model or 'unknown'}",
        f"query encoder:  {index.encoder_spec or 'none (vector queries only)'}",
        "splits:         " + ", ".join(f"{k or '(none)'}={v}" for k, v in index.splits().items()),
        *ann_lines(index),
    ]
    print("\n".join(plain(line) for line in lines))  # data may hold control characters
    cats = [c for c in index.categories() if c.count]
    print(format_table(["id", "category", "videos"], [[c.id, c.name, c.count] for c in cats]))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """``vtrsearch search``: print the best videos (or moments) for a text or a stored video."""
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
            query,
            k=args.k,
            per_video=args.per_video,
            categories=args.category,
            split=args.split,
            mode=args.mode,
        )
        print(moments_table(moments))
        return 0
    hits = index.search(
        query,
        k=args.k,
        categories=args.category,
        split=args.split,
        pool=args.pool,
        mode=args.mode,
    )
    print(hits_table(hits))
    return 0
