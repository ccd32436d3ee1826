"""Result types returned by :class:`vtrsearch.Index`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Hit:
    """One search result."""

    rank: int
    video_id: str
    score: float
    category: int
    category_name: str


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
