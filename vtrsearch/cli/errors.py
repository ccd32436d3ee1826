"""How the ``vtrsearch`` command reports failures: one ``error:`` line, or the traceback.

Expected failures (bad input, missing file or model, errors raised by torch such as CUDA out
of memory) print one ``error:`` line and exit with status 2; ``--debug`` (anywhere on the
command line) or ``VTRSEARCH_DEBUG=1`` prints the full traceback first.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import VtrsearchError

DEBUG_ENV = "VTRSEARCH_DEBUG"
DEBUG_HINT = "(run with --debug for the traceback)"


class CommandError(VtrsearchError):
    """A command that cannot run as given (missing argument, unknown video): exit status 2."""


def add_debug_flag(parser: argparse.ArgumentParser, top: bool) -> None:
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
                add_debug_flag(command, top=False)


def debug_requested(args: argparse.Namespace) -> bool:
    """Whether ``--debug`` was given or ``VTRSEARCH_DEBUG`` is set to a true value."""
    env = os.environ.get(DEBUG_ENV, "").strip().lower()
    return bool(getattr(args, "debug", False)) or env in ("1", "true", "yes", "on")


def report_error(exc: BaseException, debug: bool, designed: bool) -> int:
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
