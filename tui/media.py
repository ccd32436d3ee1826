"""Local media of the TUI: files found beside the index, and the player command for a moment.

A video's file is ``<folder>/<video_id>.<ext>`` in the ``--media`` folder, or in ``videos/``
beside (or inside) the index folder. The path is resolved (symlinks followed) and must still lie
inside that folder, so ids such as ``../x`` or a symlink pointing out of the folder find nothing.

The player is launched with a list argv (never a shell string): a configured player
(``--player`` or ``$VTRSEARCH_PLAYER``, e.g. ``mpv`` or ``vlc --fullscreen``), else mpv or VLC when
installed, else the system opener (``xdg-open``, ``open``). Players known to take a start time
(:data:`START_FLAGS`) start at the moment; the system opener cannot seek.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vtrsearch.paths import child_path, is_plain_name
from vtrsearch.stores.uri import local_dir

PLAYER_ENV = "VTRSEARCH_PLAYER"
"""Environment variable naming the player command (the ``--player`` option wins)."""
VIDEO_SUFFIXES = ("mp4", "m4v", "webm", "mkv", "mov", "avi")
"""Video file extensions looked up, in order."""
START_FLAGS: dict[str, Callable[[float], list[str]]] = {
    "mpv": lambda t: [f"--start={t:.3f}"],
    "vlc": lambda t: [f"--start-time={t:.3f}"],
    "cvlc": lambda t: [f"--start-time={t:.3f}"],
    "ffplay": lambda t: ["-ss", f"{t:.3f}"],
    "mplayer": lambda t: ["-ss", f"{t:.3f}"],
}
"""Players (executable name) whose start-time option is known, and that option."""
FALLBACK_PLAYERS = ("mpv", "vlc")
"""Players tried, in order, when none is configured."""


@dataclass(frozen=True)
class PlayerCommand:
    """What opening a video runs.

    Attributes:
        argv: The command as a list (program first, the file last).
        seeks: Whether the program starts at the requested time.
    """

    argv: list[str]
    seeks: bool


def media_folders(uri: str, media: str | Path | None = None) -> list[Path]:
    """Folders searched for video files: ``media``, then ``videos/`` beside and in the index."""
    out = [Path(media)] if media is not None else []
    root = local_dir(uri)
    if root is not None:
        out += [root.parent / "videos", root / "videos"]
    return out


def video_file(uri: str, video_id: str, media: str | Path | None = None) -> Path | None:
    """The local video file of ``video_id`` (resolved, inside its folder), or ``None``.

    Looked up through :func:`vtrsearch.paths.child_path`: ids such as ``/etc`` or ``../x``, a
    symlink out of the folder and ids too long for the file system find nothing.
    """
    if not is_plain_name(video_id):
        return None
    for folder in media_folders(uri, media):
        for ext in VIDEO_SUFFIXES:
            candidate = child_path(folder, f"{video_id}.{ext}", kind="file")
            if candidate is not None:
                return candidate
    return None


def media_paths(uri: str, video_id: str, media: str | Path | None = None) -> list[str]:
    """Keyframe folders and video files of ``video_id`` found beside (or in) the index folder.

    Looks for ``keyframes/<video_id>/`` and ``videos/<video_id>.<ext>`` next to the index
    directory and inside it, and ``<media>/<video_id>.<ext>``; a remote index (Qdrant) has
    none unless ``media`` is given.
    """
    found: list[str] = []
    root = local_dir(uri)
    if root is not None and root.exists():
        for base in (root.parent, root):
            folder = child_path(base / "keyframes", video_id, kind="dir")
            if folder is None:
                continue
            try:
                found.append(f"{folder}/ ({sum(1 for _ in folder.iterdir())} files)")
            except OSError:
                pass
    clip = video_file(uri, video_id, media)
    if clip is not None:
        found.append(str(clip))
    return found


def player_command(
    path: Path,
    start: float | None,
    player: str | None = None,
    *,
    which: Callable[[str], str | None] = shutil.which,
    platform: str = sys.platform,
) -> PlayerCommand:
    """The argv that opens ``path`` at ``start`` seconds.

    Args:
        path: The video file (absolute).
        start: Where to start (``None``: the beginning).
        player: Player command (split like a shell would, never run through one); default
            ``$VTRSEARCH_PLAYER``, else the first of :data:`FALLBACK_PLAYERS` installed, else
            the system opener.
        which: How to find programs (``shutil.which``).
        platform: ``sys.platform``, deciding the system opener.

    Raises:
        ValueError: an empty player command.
    """
    player = player if player is not None else os.environ.get(PLAYER_ENV) or None
    if player is not None:
        argv = shlex.split(player)
        if not argv:
            raise ValueError(f"empty player command {player!r}")
    else:
        found = next((p for p in FALLBACK_PLAYERS if which(p)), None)
        argv = [found] if found else _system_opener(platform)
    name = Path(argv[0]).name.lower().removesuffix(".exe")
    flags = START_FLAGS.get(name)
    seeks = flags is not None
    if flags is not None and start:
        argv = [*argv, *flags(float(start))]
    return PlayerCommand([*argv, str(path)], seeks)


def _system_opener(platform: str) -> list[str]:
    if platform == "darwin":
        return ["open"]
    if platform.startswith("win"):
        return ["explorer"]
    return ["xdg-open"]


def launch(argv: Sequence[str]) -> None:
    """Start ``argv`` detached from the TUI (no shell; its output discarded).

    Raises:
        OSError: the program cannot be started (e.g. not installed).
    """
    subprocess.Popen(  # noqa: S603 - a list argv, no shell
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
