"""Fixtures for the server tests: a small real MiniLM index with a registered projection head
and a media folder holding good and hostile files (session-wide: the tests only read them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.serve_data import VIDEOS, add_caption_segments, build_index, make_head

from vtrsearch import Index


@pytest.fixture(scope="session")
def head_dir(tmp_path_factory) -> Path:
    """A 384 -> 384 head with perturbed weights (ranks differently from the baseline)."""
    return make_head(tmp_path_factory.mktemp("heads") / "tuned")


@pytest.fixture(scope="session")
def served(tmp_path_factory, head_dir) -> tuple[Index, Path]:
    """``(index, media folder)``: every video has one 2 s segment per caption (thumbnails on
    all but the last); clips for video0 (mp4) and video1 (webm); video2's clip is a symlink
    leaving the folder; ``../secret`` is an index id whose clip sits outside it."""
    root = tmp_path_factory.mktemp("served")
    videos = dict(VIDEOS)
    videos["../secret"] = ("travel", ["a private clip outside the media folder"], "train")
    index = build_index(root / "index", videos)
    add_caption_segments(index, videos)
    index.register_head("tuned", head_dir)
    media = root / "media"
    media.mkdir()
    (media / "video0.mp4").write_bytes(bytes(range(256)) * 4)
    (media / "video1.webm").write_bytes(b"\x1aE\xdf\xa3" + b"w" * 60)
    (media / "video3.txt").write_text("not a video type")
    (root / "secret.mp4").write_bytes(b"outside the media folder")
    (media / "video2.mp4").symlink_to(root / "secret.mp4")
    return index, media
