"""Talking to Qdrant: URIs (with their settings), clients, bounded retries.

``qdrant_client`` is imported only when a connection is made. The embedded engine
(``qdrant+local``) does not use a client; see :mod:`.edge`.
"""

from __future__ import annotations

import atexit
import math
import os
import re
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ...errors import StoreUnavailableError
from ..uri import QDRANT_LEGACY_SCHEME, QDRANT_LOCAL_SCHEME, QDRANT_SERVER_SCHEMES
from .settings import QdrantSettings, is_setting, known_settings, settings_from

DEFAULT_PORT = 6333
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_SECRETS = ("api_key", "apikey", "api-key", "key", "password", "token")
_local_lock = threading.Lock()
_local_clients: dict[str, list[Any]] = {}  # path -> [client, handles, lock]


@dataclass(frozen=True)
class QdrantLocation:
    """A parsed Qdrant URI (never holds credentials).

    ``mode`` is ``"http"``/``"https"`` (a server), ``"edge"`` (the embedded engine, ``path``
    is the index's folder), ``"memory"`` (qdrant-client in memory) or ``"legacy"``
    (qdrant-client local mode, ``path`` is the folder it wrote to).
    """

    mode: str
    name: str
    host: str = ""
    port: int = DEFAULT_PORT
    prefix: str | None = None
    path: str | None = None
    settings: QdrantSettings = QdrantSettings()

    @property
    def server(self) -> bool:
        """Whether this is a Qdrant server (or cluster)."""
        return self.mode in ("http", "https")

    @property
    def display(self) -> str:
        """Where it is, for messages."""
        if self.mode == "edge":
            return f"embedded Qdrant (qdrant-edge) in {self.path}"
        if self.mode == "memory":
            return "qdrant-client in memory"
        if self.mode == "legacy":
            return f"qdrant-client local mode {self.path}"
        prefix = f"/{self.prefix}" if self.prefix else ""
        return f"{self.mode}://{self.host}:{self.port}{prefix}"


def _query(uri: str, query: str) -> QdrantSettings:
    """The settings in a URI query string (``shards=6&replicas=2``)."""
    if not query:
        return QdrantSettings()
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValueError(f"malformed query string in Qdrant URI: {query!r}") from None
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key.lower() in _SECRETS:
            raise ValueError(
                "credentials are not accepted in a Qdrant URI; pass api_key= or set QDRANT_API_KEY"
            )
        if not is_setting(key):
            raise ValueError(
                f"unknown Qdrant URI setting {key!r}; known: {', '.join(known_settings())}"
            )
        if key in seen:
            raise ValueError(f"Qdrant URI setting {key!r} is given twice")
        seen[key] = value
    return settings_from(seen, where=" in the URI")


def parse_uri(uri: str) -> QdrantLocation:
    """Parse a Qdrant URI (see :mod:`vtrsearch.stores.uri` for the forms).

    Server URIs ``qdrant[+http|+https]://host[:port][/prefix]/name[?setting=value&...]``;
    ``qdrant+local:///dir/name`` (the index folder ``/dir/name``), ``qdrant+local://:memory:/name``
    and ``qdrant+legacy:///dir/name`` take settings too, those a server alone has excepted.

    Raises:
        ValueError: malformed URI, a bad index name, an unknown or bad setting, or credentials
            inside the URI (the message never repeats them).
    """
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise ValueError(f"not a Qdrant URI: {uri!r} (expected qdrant://host:port/name)")
    rest, _, query = rest.partition("?")
    if scheme in (QDRANT_LOCAL_SCHEME, QDRANT_LEGACY_SCHEME):
        folder, _, name = rest.rstrip("/").rpartition("/")
        if not folder:
            raise ValueError(f"{uri!r}: expected {scheme}:///dir/name or {scheme}://:memory:/name")
        if folder == ":memory:":
            location = QdrantLocation("memory", name, path=":memory:")
        elif scheme == QDRANT_LEGACY_SCHEME:
            location = QdrantLocation("legacy", name, path=str(Path(folder).expanduser().resolve()))
        else:
            path = Path(rest.rstrip("/")).expanduser().resolve()
            location = QdrantLocation("edge", name, path=str(path))
    elif scheme in QDRANT_SERVER_SCHEMES:
        netloc, _, path = rest.partition("/")
        if "@" in netloc:
            raise ValueError(
                "credentials are not accepted in a Qdrant URI; pass api_key= or set QDRANT_API_KEY"
            )
        host, _, port = netloc.partition(":")
        parts = [p for p in path.split("/") if p]
        if not host or not parts:
            raise ValueError(f"{uri!r}: expected {scheme}://host[:port]/name")
        if port and not port.isdigit():
            raise ValueError(f"{uri!r}: the port must be a number")
        location = QdrantLocation(
            "https" if scheme == "qdrant+https" else "http",
            parts[-1],
            host=host,
            port=int(port or DEFAULT_PORT),
            prefix="/".join(parts[:-1]) or None,
        )
    else:
        raise ValueError(f"unknown Qdrant URI scheme {scheme!r} in {uri!r}")
    if not _NAME.match(location.name):
        raise ValueError(f"invalid index name {location.name!r} (letters, digits, '_', '-')")
    settings = _query(uri, query)
    return QdrantLocation(
        location.mode,
        location.name,
        location.host,
        location.port,
        location.prefix,
        location.path,
        settings,
    )


def _transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying: connection trouble, timeouts, 429 and 5xx."""
    import httpx
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(exc, ResponseHandlingException):
        exc = exc.source
    if isinstance(exc, UnexpectedResponse):
        return exc.status_code is not None and (exc.status_code >= 500 or exc.status_code == 429)
    return isinstance(exc, (httpx.TransportError, TimeoutError, ConnectionError))


class QdrantConnection:
    """One client plus the retry policy.

    In memory and legacy local mode all connections to one storage share one client
    (qdrant-client allows a single client per directory and process); a legacy client is
    closed with its last connection. The ``:memory:`` storage is shared by the whole process
    and never closed.

    Args:
        location: where to connect.
        api_key: API key for a server (default: ``QDRANT_API_KEY``); never logged.
        timeout: seconds one call may spend retrying transient failures; also the HTTP
            timeout of each request.
    """

    def __init__(
        self,
        location: QdrantLocation,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
    ):
        self.location = location
        self.timeout = float(timeout)
        self.local = not location.server
        self._secret: str | None = None
        self._closed = False
        if self.local:
            entry = _open_local(str(location.path))
            self.client, self._lock = entry[0], entry[2]
            return
        from qdrant_client import QdrantClient

        self._secret = api_key if api_key is not None else os.environ.get("QDRANT_API_KEY")
        self._secret = self._secret or None
        self._lock = nullcontext()
        self.client = QdrantClient(
            host=location.host,
            port=location.port,
            https=location.mode == "https",
            prefix=location.prefix,
            api_key=self._secret,
            timeout=max(1, math.ceil(self.timeout)),
            check_compatibility=False,  # would be a hidden request at construction
        )

    def __repr__(self) -> str:
        return f"QdrantConnection({self.location.display!r})"

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, retried with exponential backoff on transient errors.

        Raises:
            StoreUnavailableError: still failing after ``timeout`` seconds, or the server
                refused the credentials; names the URL, never the API key.
        """
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._lock:
                    return fn(*args, **kwargs)
            except Exception as exc:
                status = getattr(exc, "status_code", None)
                if status in (401, 403):
                    raise StoreUnavailableError(
                        f"Qdrant at {self.location.display} refused {what} (HTTP {status}): "
                        "check the API key (api_key= or QDRANT_API_KEY)"
                    ) from None
                if self.local or not _transient(exc):
                    raise
                elapsed = time.monotonic() - start
                remaining = self.timeout - elapsed
                if remaining <= 0:
                    raise StoreUnavailableError(
                        f"Qdrant at {self.location.display} is unavailable ({what}): "
                        f"{self._reason(exc)}; gave up after {attempt} attempt(s) in "
                        f"{elapsed:.1f}s"
                    ) from None
                time.sleep(min(0.1 * 2 ** (attempt - 1), 2.0, remaining))

    def _reason(self, exc: BaseException) -> str:
        source = getattr(exc, "source", exc)
        text = f"{type(source).__name__}: {source}".splitlines()[0][:300]
        return text.replace(self._secret, "***") if self._secret else text

    def close(self) -> None:
        """Release the client (local mode: when this was its last connection)."""
        if self._closed:
            return
        self._closed = True
        if self.local:
            _close_local(str(self.location.path))
        else:
            self.client.close()


def _close_all_local() -> None:
    """Close local clients before interpreter teardown (their ``__del__`` fails late)."""
    with _local_lock:
        for client, _, _ in _local_clients.values():
            client.close()
        _local_clients.clear()


def _open_local(path: str) -> list[Any]:
    from qdrant_client import QdrantClient

    with _local_lock:
        entry = _local_clients.get(path)
        if entry is None:
            if not _local_clients:
                atexit.unregister(_close_all_local)
                atexit.register(_close_all_local)
            try:
                if path == ":memory:":
                    client = QdrantClient(location=":memory:")
                else:
                    client = QdrantClient(path=path, force_disable_check_same_thread=True)
            except RuntimeError as exc:  # the directory is locked by another process
                raise StoreUnavailableError(f"qdrant local mode {path}: {exc}") from exc
            entry = _local_clients[path] = [client, 0, threading.RLock()]
        entry[1] += 1
        return entry


def _close_local(path: str) -> None:
    with _local_lock:
        entry = _local_clients.get(path)
        if entry is None or path == ":memory:":
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del _local_clients[path]
            entry[0].close()
