"""Local media files and stored thumbnails: which file (if any) a request may get.

A clip is ``<media dir>/<video_id>.<ext>`` for a known video type only. The path is resolved
(symlinks followed) and must still lie inside the resolved media folder, so ids such as
``../../etc/passwd``, absolute paths or a symlink pointing out of the folder find nothing.
"""

from __future__ import annotations

from pathlib import Path

from ..paths import child_path, is_plain_name

VIDEO_TYPES: dict[str, str] = {
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
}
"""Served extensions and their MIME types, in lookup order."""

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def find_media(root: Path | None, video_id: str) -> tuple[Path, str] | None:
    """``(file, MIME type)`` of ``video_id``'s clip under ``root``, or ``None``.

    Args:
        root: The ``--media`` folder (``None``: no media served).
        video_id: A video id (already known to be in the index); looked up through
            :func:`vtrsearch.paths.child_path` (contained, too-long ids find nothing).
    """
    if root is None or not is_plain_name(video_id):
        return None
    for ext, mime in VIDEO_TYPES.items():
        candidate = child_path(root, f"{video_id}.{ext}", kind="file")
        if candidate is not None:
            return candidate, mime
    return None


def image_type(data: bytes) -> str | None:
    """MIME type of a stored thumbnail from its first bytes (``None``: not an image we serve)."""
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
