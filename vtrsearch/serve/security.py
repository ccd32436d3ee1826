"""The API key check and the HTTP hardening around every response.

* The key is compared with :func:`secrets.compare_digest` (constant time) and is never logged,
  echoed or put in a URL: clients send it as ``X-API-Key`` or ``Authorization: Bearer``; the
  page trades it once (``POST /api/session``) for an HttpOnly, SameSite=Strict cookie holding a
  random per-process token, so ``<video src>`` requests are authorised without the key.
* :class:`Guard` is a plain ASGI middleware: it refuses request bodies over the limit (413,
  whether announced by ``Content-Length`` or streamed) and adds ``nosniff``, a strict
  Content-Security-Policy on the page, no-referrer and no-framing headers.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

SESSION_COOKIE = "vtrsearch_session"
KEY_HEADER = "x-api-key"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""The page's policy: only its own files, so even an escaping bug could not run a script."""


class KeyChecker:
    """Whether a request carries the server's API key (or the session cookie it grants).

    Args:
        key: The API key; ``None`` means the server is open and every request passes.
    """

    def __init__(self, key: str | None):
        self._key = None if key is None else key.encode("utf-8")
        self._session = secrets.token_urlsafe(32).encode("ascii")

    @property
    def enabled(self) -> bool:
        """Whether requests need the key."""
        return self._key is not None

    def key_matches(self, given: str | None) -> bool:
        """Constant-time comparison of ``given`` with the key."""
        if self._key is None:
            return True
        if not given:
            return False
        return secrets.compare_digest(given.encode("utf-8"), self._key)

    def session_token(self) -> str:
        """The cookie value granted to a client that proved it knows the key."""
        return self._session.decode("ascii")

    def allowed(self, headers: MutableMapping[str, str], cookies: dict[str, str]) -> bool:
        """Whether a request with these headers and cookies may proceed."""
        if self._key is None:
            return True
        given = headers.get(KEY_HEADER)
        auth = headers.get("authorization", "")
        if given is None and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        if given is not None:
            return self.key_matches(given)
        cookie = cookies.get(SESSION_COOKIE)
        return bool(cookie) and secrets.compare_digest(cookie.encode("utf-8"), self._session)


class Guard:
    """ASGI middleware: body size limit and security headers.

    A request body is read up to the limit before the application sees it (bodies here are
    small JSON documents), then replayed; one larger than the limit gets 413 without reaching
    the application, whether announced by ``Content-Length`` or streamed in chunks.

    Args:
        app: The wrapped application.
        max_body_bytes: Largest accepted request body.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = int(max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        too_big = f"request body over the {limit}-byte limit"
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _json(send, 413, too_big)
            return
        if (
            scope.get("method") in ("POST", "PUT", "PATCH")
            or length
            or (headers.get(b"transfer-encoding"))
        ):
            body = bytearray()
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                body += message.get("body", b"")
                if len(body) > limit:
                    await _json(send, 413, too_big)
                    return
                if not message.get("more_body", False):
                    break
            receive = _replay(bytes(body), receive)
        page = scope.get("path", "") == "/" or scope.get("path", "").startswith("/static/")

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                if page:
                    extra.append((b"content-security-policy", PAGE_CSP.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, guarded_send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later calls wait for the disconnect, as Starlette expects

    return replay


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
