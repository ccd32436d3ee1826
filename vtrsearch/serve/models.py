"""The shapes of the server's answers (and of a checked request): plain dataclasses that
FastAPI documents in the OpenAPI description and the engine fills."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SearchRequest:
    """A checked search request (see :meth:`SearchService.parse`)."""

    text: str
    k: int
    categories: tuple[str, ...] | None
    split: tuple[str, ...] | None
    head: str
    pool: str
    moments: bool
    per_video: int
    like: str | None  # the video id of a ``like:`` query


@dataclass(frozen=True)
class Result:
    """One search result (a video, or a moment of a video when the index has segments).

    ``segment``/``start``/``end`` locate the best moment (seconds into the clip); they are
    ``None`` for an index without segments, where a clip plays from 0.
    """

    rank: int
    video_id: str
    score: float
    category: int
    category_name: str
    segment: int | None = None
    start: float | None = None
    end: float | None = None
    caption: str | None = None
    media: str | None = None
    thumbnail: str | None = None


@dataclass(frozen=True)
class SearchResponse:
    """The answer to ``GET /api/search``."""

    query: str
    mode: str  # "text" or "like"
    head: str
    encoder: str | None
    moments: bool
    took_ms: float
    results: list[Result] = field(default_factory=list)


@dataclass(frozen=True)
class SegmentInfo:
    """One stored segment (moment) of a video."""

    segment: int
    start: float
    end: float
    thumbnail: str | None


@dataclass(frozen=True)
class VideoInfo:
    """The answer to ``GET /api/videos/{id}``."""

    video_id: str
    category: int
    category_name: str
    split: str
    start: float | None
    end: float | None
    url: str | None
    captions: list[str]
    media: str | None
    segments: list[SegmentInfo]


@dataclass(frozen=True)
class CategoryInfo:
    """A category with its number of videos."""

    id: int
    name: str
    count: int


@dataclass(frozen=True)
class IndexInfo:
    """The answer to ``GET /api/info``: what the page needs to build its controls."""

    videos: int
    dim: int
    encoder: str | None
    feature_model: str | None
    text_queries: bool
    heads: list[str]
    default_head: str
    splits: dict[str, int]
    categories: list[CategoryInfo]
    moments: bool
    media: bool
    max_k: int
    max_query_chars: int
