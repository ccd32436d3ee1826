"""The one place that turns a video id into a file path (keyframes, media, clips).

Video ids come from data (annotation files, API callers), so an id must never pick the file:
``/etc``, ``../../x`` or a symlink out of the folder would otherwise read files elsewhere, and an
id longer than the file system allows (``ENAMETOOLONG``) would raise where a lookup should just
find nothing. :func:`child_path` resolves the candidate (symlinks followed) and keeps it only
inside the resolved folder; every OS error of the lookup means "not there".
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["child_path", "is_plain_name"]


def is_plain_name(name: str) -> bool:
    """Whether ``name`` is one path component: not empty, ``.``/``..``, hidden, or holding a
    separator or NUL."""
    return (
        isinstance(name, str)
        and bool(name)
        and name not in (".", "..")
        and not name.startswith(".")
        and not any(c in name for c in "/\\\0")
        and (os.altsep is None or os.altsep not in name)
    )


def child_path(root: str | os.PathLike[str], *parts: str, kind: str = "any") -> Path | None:
    """``root/part/...`` when it exists inside ``root`` (after resolving), else ``None``.

    Args:
        root: The folder the path must stay in.
        parts: Path components built from data (a video id, ``f"{id}.mp4"``); each must be a
            plain name (see :func:`is_plain_name`).
        kind: ``"file"``, ``"dir"`` or ``"any"``: what the path must be.

    Returns:
        The resolved path, or ``None`` when a part is not a plain name, the path leaves
        ``root`` (also through a symlink), does not exist, is not of ``kind``, or cannot be
        looked up (name too long, permission denied...).
    """
    if not all(is_plain_name(p) for p in parts):
        return None
    try:
        base = Path(root).resolve()
        candidate = base.joinpath(*parts).resolve()
        if not candidate.is_relative_to(base) or candidate == base:
            return None
        if kind == "file":
            return candidate if candidate.is_file() else None
        if kind == "dir":
            return candidate if candidate.is_dir() else None
        return candidate if candidate.exists() else None
    except (OSError, ValueError):  # ENAMETOOLONG, EACCES, embedded NUL...
        return None
