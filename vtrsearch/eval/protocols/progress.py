"""The progress argument of a protocol: a callback, tqdm bars (``True``) or nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..progress import ProgressCallback, TqdmProgress


@contextlib.contextmanager
def callback(progress: ProgressCallback | bool | None) -> Iterator[ProgressCallback | None]:
    """The event callback of ``progress``; ``True`` draws tqdm bars, closed at the end."""
    if progress is True:
        bars = TqdmProgress()
        try:
            yield bars
        finally:
            bars.close()
    elif progress is False or progress is None:
        yield None
    elif callable(progress):
        yield progress
    else:
        raise ValueError(f"progress must be a bool or a callable, got {progress!r}")
