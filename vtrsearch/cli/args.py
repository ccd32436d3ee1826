"""Argument types shared by the commands: counts that must be whole numbers in range.

A bad value is an argparse error (usage line, one ``error:`` line, exit status 2) instead of an
empty table (``-k 0``) or a traceback deep inside a command (``--chunk-size 0``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

MIN_DEMO_VIDEOS = 20
"""``vtrsearch demo`` needs this many videos: every split and each filtered query needs some."""


def at_least(minimum: int, what: str = "") -> Callable[[str], int]:
    """An argparse ``type`` accepting whole numbers >= ``minimum`` (``what`` explains why)."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if number < minimum:
            why = f" ({what})" if what else ""
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{why}, got {number}")
        return number

    parse.__name__ = "count"  # argparse names the type in its messages
    return parse


positive_int = at_least(1)
"""Whole numbers >= 1 (result counts, batch and chunk sizes, epochs...)."""

non_negative_int = at_least(0)
"""Whole numbers >= 0."""
