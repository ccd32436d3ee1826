"""What the server does for a request, free of HTTP: parse the query, pick the query encoder
of the requested head, call the index, shape the results.

The search itself is :class:`~vtrsearch.Index`'s (``search`` with its pooling,
``search_moments``, ``segments``, ``thumbnail``); this module only chooses the encoder:
one :class:`~vtrsearch.index.session.QueryEncoder` per head, built once and shared by
concurrent requests (their base text model is shared too when it is the same one), with
encoding serialised by a lock because tokenizers are not thread-safe. Every method may block
and is meant to run in a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import VtrsearchError
from .media import find_media
from .models import (
    CategoryInfo,
    IndexInfo,
    Result,
    SearchRequest,
    SearchResponse,
    SegmentInfo,
    VideoInfo,
)

if TYPE_CHECKING:
    import numpy as np

    from ..index.index import Index
    from ..index.session import QueryEncoder

log = logging.getLogger("vtrsearch.serve")

BASELINE = "baseline"
"""Head name of the index's own query encoder (no projection head)."""
LIKE_PREFIX = "like:"
POOLS = ("mean", "max")
MAX_PER_VIDEO = 100


class BadRequest(VtrsearchError, ValueError):
    """A request the server cannot answer as asked (HTTP 400)."""


class NotFound(VtrsearchError, LookupError):
    """The requested video, file or thumbnail does not exist (HTTP 404)."""


class SearchService:
    """Searches, video details and media lookups over one open index.

    Args:
        index: The open index.
        head: A projection head offered besides the baseline and used by default: a name
            registered with the index or a directory. Only heads registered with the index or
            given here can be chosen by a request (never a path sent by a client).
        media: Folder of ``<video_id>.<ext>`` clips, optional.
        max_k: Largest ``k`` accepted.
    """

    def __init__(
        self,
        index: Index,
        head: str | None = None,
        media: Path | None = None,
        max_k: int = 1000,
        max_query_chars: int = 1000,
    ):
        self.index = index
        self.media = None if media is None else Path(media)
        self.max_k = int(max_k)
        self.max_query_chars = int(max_query_chars)
        self.heads: dict[str, str] = index.heads()
        self.default_head = BASELINE if not head else self._add_head(head)
        self._encoders: dict[str, QueryEncoder] = {}
        self._build_lock = threading.Lock()
        self._encode_lock = threading.Lock()

    # heads and encoders -------------------------------------------------------------------
    def _add_head(self, ref: str) -> str:
        """The name a head is offered under: its registered name, or its folder's name."""
        from ..heads.resolve import resolve_head_dir

        path = resolve_head_dir(ref, self.heads)
        if ref in self.heads and path == Path(self.heads[ref]):
            return ref
        resolved = str(path.resolve())
        for name, where in self.heads.items():
            if str(Path(where).resolve()) == resolved:
                return name
        name = path.resolve().name or "head"
        while name in self.heads or name == BASELINE:
            name += "'"
        self.heads[name] = resolved
        return name

    @property
    def moments(self) -> bool:
        """Whether the index has segments (moment search, MaxSim pooling, thumbnails)."""
        return self.index.has_segments()

    def head_names(self) -> list[str]:
        """``baseline`` (when the index has a text encoder) then the heads, sorted."""
        base = [BASELINE] if self.index.encoder_spec is not None else []
        return base + sorted(self.heads)

    def resolve_head(self, name: str | None) -> str:
        """The head a request asked for (``None``/empty: the default one)."""
        if not name:
            return self.default_head
        if name == BASELINE or name in self.heads:
            return name
        raise BadRequest(f"unknown head {name!r}; available: {', '.join(self.head_names())}")

    def encoder(self, head: str) -> QueryEncoder:
        """The (cached) query encoder of ``head``; builds it on first use."""
        with self._build_lock:
            if head == BASELINE:
                if self.index.encoder_spec is None:
                    raise BadRequest(
                        "this index has no query encoder, so text queries cannot be answered; "
                        "search with like:<video_id>"
                    )
                return self.index.query_encoder
            found = self._encoders.get(head)
            if found is None:
                found = self._encoders[head] = self._build_head_encoder(head)
            return found

    def _build_head_encoder(self, head: str) -> QueryEncoder:
        from ..index.session import QueryEncoder

        index = self.index
        qe = QueryEncoder(
            index.encoder_spec,
            index.dim,
            index.feature_model,
            head=self.heads[head],
            allow_foreign_space=bool(index.metadata.get("allow_foreign_space")),
        )
        if index.encoder_spec is not None and index.query_encoder.spec == qe.spec:
            qe.encoder = index.query_encoder.encoder  # one copy of the text model's weights
        return qe

    def encode(self, text: str, head: str) -> np.ndarray:
        """``text`` as a query vector through ``head``'s encoder."""
        encoder = self.encoder(head)
        with self._encode_lock:
            return encoder.encode_one(text)

    def warm_up(self) -> list[tuple[str, float]]:
        """Load the first captions and run the default head's encoder (and the baseline's)
        once, so the first request does not pay for it.

        Returns:
            ``(what, seconds)`` per thing warmed.
        """
        start = time.perf_counter()
        self.index.first_captions(())  # loads the first-caption map shown with each result
        done = [("first captions", time.perf_counter() - start)]
        for head in dict.fromkeys([BASELINE, self.default_head]):
            if head == BASELINE and self.index.encoder_spec is None:
                continue
            start = time.perf_counter()
            self.encode("warm up", head)
            done.append((f"query encoder {self.encoder_label(head)}", time.perf_counter() - start))
        return done

    def encoder_label(self, head: str) -> str | None:
        """``hf:minilm`` or ``hf:minilm + head NAME``."""
        if head == BASELINE:
            return self.index.encoder_spec
        base = self.index.encoder_spec or "its base encoder"
        return f"{base} + head {head}"

    # searching ----------------------------------------------------------------------------
    def like_vector(self, video_id: str) -> np.ndarray:
        """The stored vector of ``video_id`` (from the in-memory gallery)."""
        gallery = self.index.gallery()
        row = gallery.row(video_id)
        if row is None:
            raise BadRequest(f"like:{video_id}: video {video_id!r} is not in the index")
        return gallery.vectors[row]

    def parse(
        self,
        q: str,
        k: int = 10,
        categories: list[str] | None = None,
        split: list[str] | None = None,
        head: str | None = None,
        pool: str = "mean",
        moments: bool = False,
        per_video: int = 1,
    ) -> SearchRequest:
        """Check a request without touching a model or the store (cheap, never blocks)."""
        text = q.strip()
        if not text:
            raise BadRequest("empty query: type some words, or like:<video_id>")
        if len(text) > self.max_query_chars:
            raise BadRequest(
                f"query is {len(text)} characters long; the limit is {self.max_query_chars}"
            )
        if not 1 <= k <= self.max_k:
            raise BadRequest(f"k must be between 1 and {self.max_k}, got {k}")
        if pool not in POOLS:
            raise BadRequest(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
        if not 1 <= per_video <= MAX_PER_VIDEO:
            raise BadRequest(f"per_video must be between 1 and {MAX_PER_VIDEO}, got {per_video}")
        if (moments or pool == "max") and not self.moments:
            wanted = "search moments" if moments else "pool by the best segment (pool=max)"
            raise BadRequest(f"this index has no segments, so it cannot {wanted}")
        like = None
        if text.lower().startswith(LIKE_PREFIX):
            like = text[len(LIKE_PREFIX) :].strip()
        return SearchRequest(
            text,
            k,
            tuple(categories) if categories else None,
            tuple(split) if split else None,
            self.resolve_head(head),
            pool,
            moments,
            per_video,
            like,
        )

    def encode_request(self, request: SearchRequest) -> np.ndarray | None:
        """The text query's vector through the request's head (``None`` for ``like:``)."""
        if request.like is not None:
            return None
        return self.encode(request.text, request.head)

    def run(
        self, request: SearchRequest, vector: np.ndarray | None = None, started: float = 0.0
    ) -> SearchResponse:
        """Search the index for a parsed request (``vector``: its encoded text, if any)."""
        start = started or time.perf_counter()
        if request.like is not None:
            query = self.like_vector(request.like)
        else:
            query = vector if vector is not None else self.encode_request(request)
        cats = None if request.categories is None else list(request.categories)
        splits = None if request.split is None else list(request.split)
        found: list[Any]
        if request.moments:
            found = self.index.search_moments(
                query, k=request.k, per_video=request.per_video, categories=cats, split=splits
            )
        else:
            found = self.index.search(
                query, k=request.k, categories=cats, split=splits, pool=request.pool
            )
        results = self._results(found)
        took = round((time.perf_counter() - start) * 1000, 2)
        mode = "text" if request.like is None else "like"
        encoder = self.encoder_label(request.head) if request.like is None else None
        return SearchResponse(
            request.text, mode, request.head, encoder, request.moments, took, results
        )

    def search(
        self,
        q: str,
        k: int = 10,
        categories: list[str] | None = None,
        split: list[str] | None = None,
        head: str | None = None,
        pool: str = "mean",
        moments: bool = False,
        per_video: int = 1,
    ) -> SearchResponse:
        """Answer one search request in one call (see ``GET /api/search``)."""
        start = time.perf_counter()
        request = self.parse(q, k, categories, split, head, pool, moments, per_video)
        return self.run(request, started=start)

    def _results(self, found: list[Any]) -> list[Result]:
        captions = self.index.first_captions(h.video_id for h in found)
        out = []
        for h in found:
            segment = h.segment
            out.append(
                Result(
                    rank=h.rank,
                    video_id=h.video_id,
                    score=round(float(h.score), 6),
                    category=h.category,
                    category_name=h.category_name,
                    segment=segment,
                    start=h.start,
                    end=h.end,
                    caption=captions.get(h.video_id),
                    media=self.media_url(h.video_id),
                    thumbnail=self.thumbnail_url(h.video_id, segment),
                )
            )
        return out

    # videos and files -----------------------------------------------------------------------
    def media_url(self, video_id: str) -> str | None:
        """``/media/{id}`` when a clip for the video is available."""
        if self.media is None or find_media(self.media, video_id) is None:
            return None
        return f"/media/{quote(video_id, safe='')}"

    def thumbnail_url(self, video_id: str, segment: int | None) -> str | None:
        """``/thumbs/{id}/{segment}`` when the index stores thumbnails and a segment is known."""
        if segment is None:
            return None
        return f"/thumbs/{quote(video_id, safe='')}/{int(segment)}"

    def video(self, video_id: str) -> VideoInfo:
        """Metadata, captions, media and segments of one video."""
        video = self.index.get(video_id)
        if video is None:
            raise NotFound(f"video {video_id!r} is not in the index")
        segments = [
            SegmentInfo(
                s.segment,
                s.start,
                s.end,
                self.thumbnail_url(video_id, s.segment) if s.thumbnail else None,
            )
            for s in self.index.segments(video_id, vectors=False)
        ]
        return VideoInfo(
            video_id=video.video_id,
            category=video.category,
            category_name=video.category_name,
            split=video.split,
            start=video.start,
            end=video.end,
            url=video.url,
            captions=list(video.captions),
            media=self.media_url(video.video_id),
            segments=segments,
        )

    def media_file(self, video_id: str) -> tuple[Path, str]:
        """``(path, MIME type)`` of a known video's clip; :class:`NotFound` otherwise."""
        if video_id not in self.index:
            raise NotFound("no such video")
        found = find_media(self.media, video_id)
        if found is None:
            raise NotFound(f"no media file for video {video_id!r}")
        return found

    def thumbnail(self, video_id: str, segment: int) -> bytes:
        """The stored thumbnail of one segment; :class:`NotFound` when there is none."""
        data = self.index.thumbnail(video_id, segment) if video_id in self.index else None
        if not data:
            raise NotFound(f"no thumbnail for video {video_id!r} segment {segment}")
        return bytes(data)

    def info(self) -> IndexInfo:
        """The index summary the page builds its controls from."""
        return IndexInfo(
            videos=len(self.index),
            dim=self.index.dim,
            encoder=self.index.encoder_spec,
            feature_model=self.index.feature_model,
            text_queries=bool(self.head_names()),
            heads=self.head_names(),
            default_head=self.default_head,
            splits=self.index.splits(),
            categories=self.categories(),
            moments=self.moments,
            media=self.media is not None,
            max_k=self.max_k,
            max_query_chars=self.max_query_chars,
        )

    def categories(self) -> list[CategoryInfo]:
        """Every category of the index with its number of videos."""
        return [CategoryInfo(c.id, c.name, c.count) for c in self.index.categories()]
