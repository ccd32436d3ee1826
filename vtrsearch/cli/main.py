"""The ``vtrsearch`` command: the parser's wiring and the entry point.

Each command group lives in its own module here (``add_parsers`` and ``cmd_*`` handlers).
Only ``argparse`` is imported up front; each command imports what it needs when it runs, so
``vtrsearch --help`` answers at once. Expected failures (bad input, missing file or model,
errors raised by torch such as CUDA out of memory) print one ``error:`` line and exit with
status 2; ``--debug`` (anywhere on the command line) or ``VTRSEARCH_DEBUG=1`` prints the full
traceback first (see :mod:`.errors`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..errors import VtrsearchError
from .ann import add_parsers as add_ann_parsers
from .ann import cmd_build_ann
from .apps import add_parsers as add_app_parsers
from .apps import cmd_demo, cmd_tui
from .errors import (
    DEBUG_ENV,
    DEBUG_HINT,
    CommandError,
    add_debug_flag,
    debug_requested,
    report_error,
)
from .eval import add_parsers as add_eval_parsers
from .eval import cmd_eval, cmd_report
from .ingest import add_parsers as add_ingest_parsers
from .ingest import cmd_ingest
from .search import add_parsers as add_search_parsers
from .search import cmd_info, cmd_search
from .serve import add_parsers as add_serve_parsers
from .serve import cmd_serve
from .tools import add_parsers as add_tool_parsers
from .tools import cmd_encode, cmd_migrate
from .train import add_parsers as add_train_parsers
from .train import cmd_train

__all__ = ["COMMANDS", "DEBUG_ENV", "DEBUG_HINT", "CommandError", "build_parser", "main"]


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
    add_search_parsers(sub)  # info, search
    add_ann_parsers(sub)  # build-ann
    add_ingest_parsers(sub)  # ingest msrvtt|msvd|activitynet|frames
    add_tool_parsers(sub)  # encode, migrate
    add_eval_parsers(sub)  # eval, report
    add_train_parsers(sub)
    add_serve_parsers(sub)
    add_app_parsers(sub)  # tui, demo
    add_debug_flag(parser, top=True)
    return parser


COMMANDS = {
    "info": cmd_info,
    "search": cmd_search,
    "build-ann": cmd_build_ann,
    "ingest": cmd_ingest,
    "encode": cmd_encode,
    "migrate": cmd_migrate,
    "eval": cmd_eval,
    "report": cmd_report,
    "train": cmd_train,
    "tui": cmd_tui,
    "serve": cmd_serve,
    "demo": cmd_demo,
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

    debug = debug_requested(args)
    try:
        return COMMANDS[args.command](args)
    except (VtrsearchError, ValueError, OSError, RuntimeError) as exc:
        # Expected failures (bad input, missing model or file, torch errors): one line.
        return report_error(exc, debug, designed=isinstance(exc, VtrsearchError))
    except ModuleNotFoundError as exc:
        # An optional dependency imported without require_extra (e.g. torch by the trainer).
        extra = extra_for_module(exc.name or "")
        if extra is None:
            raise
        missing = MissingExtraError(exc.name or "", extra)
        missing.__cause__ = exc
        return report_error(missing, debug, designed=True)
    except KeyboardInterrupt:
        print(
            "interrupted; re-run the same command to finish (writes are idempotent)",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
