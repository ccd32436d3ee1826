"""The one head lookup: a head directory, or the name of a head registered with an index.

Importing this module never imports torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import VtrsearchError

__all__ = ["HeadNotFoundError", "resolve_head_dir"]


class HeadNotFoundError(VtrsearchError, FileNotFoundError):
    """A head reference is neither an existing directory nor a registered head name."""


def resolve_head_dir(ref: str | os.PathLike[str], registered: Mapping[str, str]) -> Path:
    """Resolve a head reference to its directory.

    An existing directory wins (``~`` is expanded); otherwise ``ref`` must be the name of a
    registered head. The directory's contents are not checked here (``load_head`` does that).

    Args:
        ref: A head directory or a registered head name.
        registered: The index's registered heads, name -> directory (``Index.heads()``).

    Returns:
        The head directory (as given, or as registered).

    Raises:
        HeadNotFoundError: ``ref`` is neither a directory nor a registered name; the message
            lists the registered heads.
    """
    path = Path(ref).expanduser()
    if path.is_dir():
        return path
    where = registered.get(str(ref))
    if where is not None:
        return Path(where)
    names = ", ".join(sorted(registered)) or "none"
    raise HeadNotFoundError(
        f"projection head not found: {os.fspath(ref)!r} is neither a directory nor a registered "
        f"head (heads registered with the index: {names})"
    )
