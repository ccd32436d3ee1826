"""A media folder for the frame-ingest tests: the real clips, a broken one, a keyframe folder."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path


def media_folder(
    root: Path, sample_videos_dir: Path, keyframe_colors: Sequence[tuple[int, int, int]]
) -> Path:
    """``root`` with ``videos/`` (the real sample clips plus an unreadable ``video9999.mp4``)
    and ``keyframes/video5000/`` (one 48x40 image per colour, ``000.jpg``, ``001.jpg``, ...)."""
    from PIL import Image

    shutil.copytree(sample_videos_dir, root / "videos")
    (root / "videos" / "video9999.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 garbage" * 10)
    frames = root / "keyframes" / "video5000"
    frames.mkdir(parents=True)
    for i, color in enumerate(keyframe_colors):
        Image.new("RGB", (48, 40), color).save(frames / f"{i:03d}.jpg")
    return root
