"""``vtrsearch encode`` and ``vtrsearch migrate``: work on a whole index (cache caption
vectors, copy between stores). Only ``argparse`` is imported here; the handlers import the
index code when they run.
"""

from __future__ import annotations

import argparse

from .args import non_negative_int, positive_int
from .errors import CommandError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the ``encode`` and ``migrate`` commands on ``sub``."""
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


def cmd_encode(args: argparse.Namespace) -> int:
    """``vtrsearch encode``: encode the captions not cached yet for the encoder."""
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


def cmd_migrate(args: argparse.Namespace) -> int:
    """``vtrsearch migrate``: copy (or finish copying) an index into another store."""
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
