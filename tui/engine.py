"""Search logic of the TUI, free of widgets: heads, query encoders, searches, video details.

Every method may block (model loading, store scans) and is meant to run in a thread worker;
:attr:`SearchEngine.lock` serialises the calls that touch the index's query encoder. Nothing
loads at construction: a query encoder is built (and its weights loaded, or downloaded when
the encoder allows it) by the first text search that needs it.

Queries: a text is encoded by the index's encoder (``baseline``) or through a projection head;
``like:<video_id>`` searches by the stored vector of a video. When the selected model has no
text encoder (an index stored without one), a bare video id is accepted too.

Moments: ranking is pooled (``"mean"``) or MaxSim (``"max"``: a video scores its best segment);
with segments every hit names its best moment, :meth:`SearchEngine.detail` lists a video's top
moments for the query, and :meth:`SearchEngine.open_command` is the player argv that opens the
video's local file at a moment (see :mod:`.media`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtrsearch.errors import VtrsearchError

from .media import PlayerCommand, media_folders, media_paths, player_command, video_file

if TYPE_CHECKING:
    import numpy as np

    from vtrsearch.index.index import Index
    from vtrsearch.index.session import QueryEncoder
    from vtrsearch.results import Hit, Video

BASELINE = ""
"""Head key of the bare query encoder ("baseline (no head)")."""
LIKE_PREFIX = "like:"
StatusFn = Callable[[str], None]


class QueryError(VtrsearchError, ValueError):
    """A query the TUI cannot answer (empty, unknown video id, no encoder)."""


class EncoderUnavailableError(QueryError):
    """The query encoder (or head) of a text search could not be loaded or used.

    Attributes:
        label: The encoder as status lines name it (see :meth:`SearchEngine.encoder_label`).
    """

    def __init__(self, label: str, cause: BaseException):
        super().__init__(f"text search unavailable: {label} failed to load: {error_text(cause)}")
        self.label = label


@dataclass(frozen=True)
class SearchRequest:
    """One search as the user asked for it.

    Attributes:
        query: A text, or ``like:<video_id>``.
        k: Number of results.
        categories: Category names to restrict to (``None``: all).
        split: Split to restrict to (``None``: all).
        head: ``BASELINE`` or the name of a head in :attr:`SearchEngine.heads`.
        pool: ``"mean"`` (pooled vectors) or ``"max"`` (MaxSim: each video's best segment).
    """

    query: str
    k: int = 10
    categories: tuple[str, ...] | None = None
    split: str | None = None
    head: str = BASELINE
    pool: str = "mean"


@dataclass(frozen=True)
class SearchOutcome:
    """Hits of a request with the first caption of each hit and how the query was made."""

    request: SearchRequest
    hits: list[Hit]
    first_captions: dict[str, str]
    source: str
    n_videos: int
    """Videos in the index after the search (it may grow while the TUI is open)."""
    query_vector: np.ndarray | None = field(default=None, compare=False)
    """The query as searched (for the moments of a video)."""

    @property
    def has_moments(self) -> bool:
        """Whether the hits name their best moment (the index has segments)."""
        return any(h.start is not None for h in self.hits)


@dataclass(frozen=True)
class MomentLine:
    """One segment of a video scored against the query."""

    segment: int
    start: float
    end: float
    score: float


@dataclass(frozen=True)
class VideoDetail:
    """A stored video with the media files found beside the index and its top moments.

    Attributes:
        video: The stored video.
        media: Keyframe folders and video files found.
        moments: Its best segments for the query, best first (empty without segments).
        n_segments: How many segments the video has.
        file: Its local video file, when one is known.
    """

    video: Video
    media: list[str]
    moments: list[MomentLine] = field(default_factory=list)
    n_segments: int = 0
    file: Path | None = None


def error_text(exc: BaseException) -> str:
    """One line for a notification: the message, prefixed by the type when unexpected."""
    if isinstance(exc, (VtrsearchError, ValueError, FileNotFoundError, LookupError)):
        text = str(exc) or type(exc).__name__
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


class SearchEngine:
    """Heads, cached query encoders and searches over one :class:`~vtrsearch.Index`.

    Args:
        index: The open index.
        head: Projection head to start with: a name registered with the index or a directory.
        media: Folder of video files ``<video_id>.<ext>`` (besides ``videos/`` by the index).
        player: Player command for opening moments (default ``$VTRSEARCH_PLAYER``, else mpv or
            VLC when installed, else the system opener).
    """

    def __init__(
        self,
        index: Index,
        head: str | None = None,
        *,
        media: str | Path | None = None,
        player: str | None = None,
    ):
        self.index = index
        self.media = media
        self.player = player
        self.lock = threading.RLock()
        self.heads: dict[str, str] = index.heads()
        self._encoders: dict[str, QueryEncoder] = {}
        self._built: set[str] = set()
        self._ready: set[str] = set()
        self.start_head = BASELINE
        self.start_error: str | None = None
        if head:
            try:
                self.start_head = self.add_head(head)
            except FileNotFoundError as exc:
                self.start_error = error_text(exc)

    # heads ---------------------------------------------------------------------------------
    def add_head(self, ref: str) -> str:
        """Resolve ``ref`` (registered name or directory) to a head name, adding directories.

        Raises:
            FileNotFoundError: ``ref`` is neither a registered head nor a directory.
        """
        from vtrsearch.heads.resolve import resolve_head_dir

        path = resolve_head_dir(ref, self.heads)
        if ref in self.heads and path == Path(self.heads[ref]):
            return ref
        resolved = str(path.resolve())
        for name, where in self.heads.items():
            if where == resolved:
                return name
        name, i = path.resolve().name or "head", 2
        while name in self.heads:
            name, i = f"{path.resolve().name}#{i}", i + 1
        self.heads[name] = resolved
        return name

    def text_available(self, head: str = BASELINE) -> bool:
        """Whether text queries can be encoded for ``head`` (an encoder spec is known)."""
        return head != BASELINE or self.index.encoder_spec is not None

    def encoder_label(self, head: str = BASELINE) -> str:
        """``"hf:minilm"`` or ``"hf:minilm + head NAME"`` for status lines."""
        base = self.index.encoder_spec or "head's base encoder"
        return base if head == BASELINE else f"{base} + head {head}"

    def is_ready(self, head: str = BASELINE) -> bool:
        """Whether the encoder of ``head`` has already encoded something (weights loaded)."""
        return head in self._ready

    @property
    def loaded_encoders(self) -> frozenset[str]:
        """Heads (``BASELINE`` for the bare encoder) whose query encoder has been built."""
        return frozenset(self._built)

    def head_problem(self, head: str) -> str | None:
        """Why ``head`` cannot be used, found without loading anything (``None``: looks fine)."""
        if head == BASELINE:
            return None
        path = self.heads.get(head)
        if path is None:
            return f"projection head {head!r} is not known"
        if not Path(path).is_dir():
            return f"projection head {head!r} not found at {path}"
        return None

    def query_encoder(self, head: str = BASELINE) -> QueryEncoder:
        """The (cached) text -> vector pipeline of ``head``.

        The baseline is the index's own ``query_encoder``; a head shares its base encoder when
        both name the same model, so switching heads never reloads weights.
        """
        with self.lock:
            if head == BASELINE:
                if self.index.head_path is not None:
                    self.index.use_head(None)
                encoder = self.index.query_encoder
            else:
                if head not in self._encoders:
                    self._encoders[head] = self._build_head_encoder(head)
                encoder = self._encoders[head]
            self._built.add(head)
            return encoder

    def _build_head_encoder(self, head: str) -> QueryEncoder:
        from vtrsearch.index.session import QueryEncoder

        problem = self.head_problem(head)
        if problem is not None:
            raise FileNotFoundError(problem)
        path = self.heads[head]
        index = self.index
        qe = QueryEncoder(
            index.encoder_spec,
            index.dim,
            index.feature_model,
            head=path,
            allow_foreign_space=bool(index.metadata.get("allow_foreign_space")),
        )
        if index.encoder_spec is not None:
            try:
                base = self.query_encoder(BASELINE)
            except Exception:  # the head keeps its own encoder then
                return qe
            if base.spec == qe.spec:
                qe.encoder = base.encoder
        return qe

    # searching -----------------------------------------------------------------------------
    def like_id(self, request: SearchRequest) -> str | None:
        """The video id a request searches from, or ``None`` for a text query."""
        text = request.query.strip()
        if text.lower().startswith(LIKE_PREFIX):
            return text[len(LIKE_PREFIX) :].strip()
        if not self.text_available(request.head):
            return text
        return None

    def vector_of(self, video_id: str) -> np.ndarray:
        """The stored vector of ``video_id`` (``QueryError`` when it is not in the index)."""
        video = self.index.get(video_id) if video_id else None
        if video is None:
            hint = "" if self.text_available() else " (no query encoder: type a video id)"
            raise QueryError(f"video {video_id!r} is not in the index{hint}")
        return video.vector

    def search(self, request: SearchRequest, on_status: StatusFn | None = None) -> SearchOutcome:
        """Run ``request``; ``on_status`` hears about slow steps (model loading).

        Raises:
            EncoderUnavailableError: The text encoder (or head) cannot be loaded or used.
            QueryError: Empty query or unknown video id.
            VtrsearchError / ValueError / OSError: from the index.
        """
        text = request.query.strip()
        if not text:
            raise QueryError("empty query: type some words (or like:<video id>) and press Enter")
        cats = list(request.categories) if request.categories is not None else None
        like = self.like_id(request)
        if like is not None:
            query: Any = self.vector_of(like)
            source = f"like {like}"
        else:
            label = self.encoder_label(request.head)
            if request.head == BASELINE:
                source = f"baseline {label}"
            else:
                source = f"head {request.head} ({self.index.encoder_spec or 'its base encoder'})"
            if not self.is_ready(request.head) and on_status is not None:
                on_status(f"loading encoder {label}…")
            query = self._encode(request.head, label, text)
        with self.lock:
            hits = self.index.search(
                query, k=request.k, categories=cats, split=request.split, pool=request.pool
            )
        firsts = self.index.first_captions([h.video_id for h in hits])
        return SearchOutcome(request, hits, firsts, source, len(self.index), query)

    def _encode(self, head: str, label: str, text: str) -> np.ndarray:
        """``text`` through the encoder of ``head`` (built and loaded on first use)."""
        with self.lock:
            try:
                vector = self.query_encoder(head).encode_one(text)
            except Exception as exc:
                raise EncoderUnavailableError(label, exc) from exc
            self._ready.add(head)
            return vector

    # details ---------------------------------------------------------------------------------
    def detail(
        self, video_id: str, query_vector: np.ndarray | None = None, n_moments: int = 5
    ) -> VideoDetail | None:
        """The stored video with its captions, media files and (given the query) its
        ``n_moments`` best segments, or ``None`` when it is not in the index."""
        video = self.index.get(video_id)
        if video is None:
            return None
        segments = self.index.segments(video_id, vectors=query_vector is not None)
        moments: list[MomentLine] = []
        if segments and query_vector is not None:
            import numpy as np

            scores = np.stack([s.vector for s in segments]) @ query_vector
            order = np.argsort(-scores, kind="stable")[:n_moments]  # ties: earlier first
            picked = [(segments[i], float(scores[i])) for i in order.tolist()]
            moments = [MomentLine(s.segment, s.start, s.end, score) for s, score in picked]
        return VideoDetail(
            video,
            media_paths(self.index.uri, video_id, self.media),
            moments,
            len(segments),
            video_file(self.index.uri, video_id, self.media),
        )

    def open_command(self, video_id: str, start: float | None) -> PlayerCommand:
        """The player argv that opens ``video_id``'s local file at ``start`` seconds.

        Raises:
            QueryError: no local file is known for the video (or the player is empty).
        """
        path = video_file(self.index.uri, video_id, self.media)
        if path is None:
            where = " or ".join(str(f) for f in media_folders(self.index.uri, self.media))
            raise QueryError(
                f"no local video file for {video_id!r}: looked for {video_id}.mp4 (webm, mkv, "
                f"...) in {where or 'no folder (remote index: pass --media DIR)'}"
            )
        try:
            return player_command(path, start, self.player)
        except ValueError as exc:
            raise QueryError(str(exc)) from None
