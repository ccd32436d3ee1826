"""Result types returned by :class:`vtrsearch.Index`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Hit:
    """One search result: a video, with its best-matching moment when it has segments."""

    rank: int
    video_id: str
    score: float
    category: int
    category_name: str
    segment: int | None = None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Moment:
    """One moment-search result: a segment of a video, in seconds."""

    rank: int
    video_id: str
    segment: int
    start: float
    end: float
    score: float
    category: int
    category_name: str


@dataclass(frozen=True)
class Segment:
    """A stored segment of a video (``start``/``end`` in seconds within the video)."""

    video_id: str
    segment: int
    start: float
    end: float
    vector: np.ndarray
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class Video:
    """A stored video with its metadata, vector and captions."""

    video_id: str
    category: int
    category_name: str
    split: str
    start: float | None
    end: float | None
    url: str | None
    vector: np.ndarray
    captions: tuple[str, ...] = ()
