"""The ASGI application: JSON API, media, thumbnails and the search page.

Built on FastAPI (Starlette underneath): typed query parameters with limits become 422 errors
and an OpenAPI description (served offline at ``/docs``); ``FileResponse`` answers HTTP Range
requests, which the ``<video>`` element needs to seek. Endpoints are plain ``def`` functions,
so FastAPI runs them in its thread pool and encoding or matrix work never blocks the event loop.

No ``from __future__ import annotations`` here: FastAPI reads the route annotations at run time,
and the routes are closures over the configured limits, which string annotations cannot see.
"""

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

import anyio
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyCookie, APIKeyHeader
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from .. import __version__
from ..errors import VtrsearchError
from .config import ServeConfig
from .engine import MAX_PER_VIDEO, BadRequest, NotFound, SearchService
from .media import image_type
from .models import CategoryInfo, IndexInfo, SearchResponse, VideoInfo
from .security import SESSION_COOKIE, Guard, KeyChecker

log = logging.getLogger("vtrsearch.serve")
STATIC = Path(__file__).resolve().parent / "static"


class SessionRequest(BaseModel):
    """Body of ``POST /api/session``."""

    key: str = Field(max_length=1024)


def create_app(config: ServeConfig, service: SearchService | None = None) -> FastAPI:
    """The application for ``config``; opens the index unless ``service`` is given.

    The query encoder is warmed when the application starts (its lifespan), before the first
    request is accepted.
    """
    if service is None:
        from ..index.index import Index

        service = SearchService(
            Index.open(config.index),
            head=config.head,
            media=config.media,
            max_k=config.limits.max_k,
            max_query_chars=config.limits.max_query_chars,
        )
    svc = service
    keys = KeyChecker(config.api_key)
    limits = config.limits

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if config.threads:
            anyio.to_thread.current_default_thread_limiter().total_tokens = config.threads
        for label, seconds in await anyio.to_thread.run_sync(svc.warm_up):
            log.info("%s warmed up in %.2f s", label, seconds)
        yield

    from fastapi_offline import FastAPIOffline

    app = FastAPIOffline(
        title="vtrsearch",
        version=__version__,
        description="Text-to-video search over one vtrsearch index.",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.service = svc
    app.add_middleware(Guard, max_body_bytes=limits.max_body_bytes)
    if config.cors:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors),
            allow_methods=["GET"],
            allow_headers=["X-API-Key", "Authorization"],
        )
    _add_error_handlers(app)

    header_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)
    cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)

    def authorised(
        request: Request,
        _header: Annotated[str | None, Depends(header_scheme)] = None,
        _cookie: Annotated[str | None, Depends(cookie_scheme)] = None,
    ) -> None:
        if not keys.allowed(request.headers, request.cookies):
            raise HTTPException(401, "missing or wrong API key", {"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorised)] if keys.enabled else []  # an open server skips the check

    # -- API -------------------------------------------------------------------------------
    @app.get("/api/health", tags=["api"])
    def health(request: Request) -> dict:
        """Liveness, and whether this client must (still) present the API key."""
        return {
            "status": "ok",
            "auth": keys.enabled,
            "authorised": keys.allowed(request.headers, request.cookies),
        }

    @app.get("/api/info", tags=["api"], dependencies=guarded)
    def info() -> IndexInfo:
        """Index summary: videos, encoder, heads, splits, categories, capabilities, limits."""
        return svc.info()

    @app.get("/api/categories", tags=["api"], dependencies=guarded)
    def categories() -> list[CategoryInfo]:
        """The index's categories with their number of videos."""
        return svc.categories()

    encoding = anyio.CapacityLimiter(1)  # one text encoding at a time, in its own lane

    @app.get("/api/search", tags=["api"], dependencies=guarded, response_model=SearchResponse)
    async def search(
        q: Annotated[
            str,
            Query(
                min_length=1,
                max_length=limits.max_query_chars,
                description="Text query, or like:<video_id> for videos like a stored one.",
            ),
        ],
        k: Annotated[int, Query(ge=1, le=limits.max_k, description="Number of results.")] = 10,
        category: Annotated[
            list[str] | None, Query(description="Category name or id (repeatable).")
        ] = None,
        split: Annotated[list[str] | None, Query(description="Split (repeatable).")] = None,
        head: Annotated[
            str | None,
            Query(max_length=200, description="baseline, or a head name (default: server's)."),
        ] = None,
        pool: Annotated[
            Literal["mean", "max"], Query(description="How segment scores make a video score.")
        ] = "mean",
        moments: Annotated[
            bool, Query(description="Return the best moments (segments), not videos.")
        ] = False,
        per_video: Annotated[
            int, Query(ge=1, le=MAX_PER_VIDEO, description="Moments per video at most.")
        ] = 1,
    ) -> Response:
        """Search the index; results carry the moment to play (start/end) when it has segments.

        Text queries are encoded one at a time in their own worker lane, so a burst of them
        never holds the threads that answer ``like:`` queries and the matrix products.
        """
        started = time.perf_counter()
        request = svc.parse(q, k, category, split, head, pool, moments, per_video)
        vector = None
        if request.like is None:
            vector = await anyio.to_thread.run_sync(svc.encode_request, request, limiter=encoding)
        found = await anyio.to_thread.run_sync(svc.run, request, vector, started)
        # the hot path: serialised directly (the model above documents it), no re-validation
        return Response(json.dumps(asdict(found)), media_type="application/json")

    @app.get("/api/videos/{video_id}", tags=["api"], dependencies=guarded)
    def video(video_id: str) -> VideoInfo:
        """A video's metadata, captions, media URL and segments."""
        return svc.video(video_id)

    @app.post("/api/session", tags=["api"], status_code=204)
    def open_session(body: SessionRequest, response: Response) -> None:
        """Trade the API key for a session cookie (what the page does when a key is needed)."""
        if not keys.key_matches(body.key):
            raise HTTPException(401, "wrong API key")
        response.set_cookie(
            SESSION_COOKIE,
            keys.session_token(),
            httponly=True,
            samesite="strict",
            path="/",
        )

    @app.delete("/api/session", tags=["api"], status_code=204)
    def close_session(response: Response) -> None:
        """Forget the session cookie."""
        response.delete_cookie(SESSION_COOKIE, path="/")

    # -- files ------------------------------------------------------------------------------
    @app.get("/media/{video_id:path}", tags=["media"], dependencies=guarded)
    def media(video_id: str) -> FileResponse:
        """The video's clip from the media folder (HTTP Range supported, for seeking)."""
        path, mime = svc.media_file(video_id)
        return FileResponse(path, media_type=mime)

    @app.get("/thumbs/{video_id}/{segment}", tags=["media"], dependencies=guarded)
    def thumbnail(video_id: str, segment: int) -> Response:
        """The stored thumbnail of a video's segment."""
        data = svc.thumbnail(video_id, segment)
        mime = image_type(data)
        if mime is None:
            raise NotFound(f"thumbnail of {video_id!r} segment {segment} is not an image")
        return Response(data, media_type=mime, headers={"Cache-Control": "max-age=3600"})

    # -- the page ---------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error is JSON ``{"detail": ...}``; tracebacks go to the server log only."""

    async def bad_request(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc) or "not found"}, status_code=404)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    async def internal(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error", exc_info=exc)
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(BadRequest, bad_request)
    app.add_exception_handler(VtrsearchError, bad_request)
    app.add_exception_handler(ValueError, bad_request)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, internal)
