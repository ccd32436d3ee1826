"""Talking to Qdrant: URIs, clients (shared in local mode), bounded retries, conversions.

Kept apart from :mod:`.qdrant` (the table layout) so each stays small. ``qdrant_client`` is
imported only when a connection is made.
"""

from __future__ import annotations

import atexit
import base64
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import StoreUnavailableError
from ...filters import Filter
from ..arrow import vector_array
from ..base import typed_conditions
from ..uri import QDRANT_LOCAL_SCHEME, QDRANT_SERVER_SCHEMES

DEFAULT_PORT = 6333
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_local_lock = threading.Lock()
_local_clients: dict[str, list[Any]] = {}  # path -> [client, handles, lock]


@dataclass(frozen=True)
class QdrantLocation:
    """A parsed Qdrant URI (never holds credentials)."""

    mode: str  # "http", "https" or "local"
    name: str
    host: str = ""
    port: int = DEFAULT_PORT
    prefix: str | None = None
    path: str | None = None  # local mode: a directory or ":memory:"

    @property
    def display(self) -> str:
        """Where it is, for messages."""
        if self.mode == "local":
            return f"qdrant local mode {self.path}"
        prefix = f"/{self.prefix}" if self.prefix else ""
        return f"{self.mode}://{self.host}:{self.port}{prefix}"


def parse_uri(uri: str) -> QdrantLocation:
    """Parse ``qdrant[+http|+https]://host[:port][/prefix]/name`` or ``qdrant+local://dir/name``.

    Raises:
        ValueError: malformed URI, a bad index name, or credentials inside the URI (the
            message never repeats them).
    """
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise ValueError(f"not a Qdrant URI: {uri!r} (expected qdrant://host:port/name)")
    if scheme == QDRANT_LOCAL_SCHEME:
        folder, _, name = rest.rpartition("/")
        if not folder:
            raise ValueError(f"{uri!r}: expected qdrant+local:///dir/name or :memory:/name")
        path = ":memory:" if folder == ":memory:" else str(Path(folder).resolve())
        location = QdrantLocation("local", name, path=path)
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
    return location


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

    In local mode all connections to one directory share one client (qdrant-client allows a
    single client per directory and process); it is closed with its last connection. The
    ``:memory:`` storage is shared by the whole process and never closed.

    Args:
        location: where to connect.
        api_key: API key for a server (default: ``QDRANT_API_KEY``); never logged.
        timeout: seconds one call may spend retrying transient failures; also the HTTP
            timeout of each request.
        consistency: read consistency on replicated clusters (``"majority"``, ``"quorum"``,
            ``"all"`` or a number of replicas).
    """

    def __init__(
        self,
        location: QdrantLocation,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        consistency: int | str | None = None,
    ):
        self.location = location
        self.timeout = float(timeout)
        self.local = location.mode == "local"
        self.read_kw: dict[str, Any] = {}
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
        if consistency is not None:
            self.read_kw = {"consistency": consistency}

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


def to_qdrant_filter(where: Filter | None, schema: pa.Schema) -> tuple[bool, Any]:
    """``(matches_nothing, models.Filter | None)`` for ``where`` on a table of ``schema``.

    Values are typed payload matches (``MatchAny`` on keyword/integer fields, exact ranges for
    floats), never text: a quote or ``OR`` in a value is just part of the value.
    """
    from qdrant_client import models as m

    conditions = typed_conditions(where, schema)
    if conditions is None:
        return True, None
    must: list[Any] = []
    for column, kind, values in conditions:
        if pa.types.is_floating(kind):
            ranges = [m.FieldCondition(key=column, range=m.Range(gte=v, lte=v)) for v in values]
            must.append(m.Filter(should=ranges))
        elif pa.types.is_boolean(kind):
            same = [m.FieldCondition(key=column, match=m.MatchValue(value=v)) for v in values]
            must.append(m.Filter(should=same))
        else:
            must.append(m.FieldCondition(key=column, match=m.MatchAny(any=list(values))))
    return False, (m.Filter(must=must) if must else None)


def vector_matrix(column: pa.ChunkedArray, dim: int) -> np.ndarray:
    """A vector column as a float32 (n, dim) matrix (``flatten`` honours slices)."""
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(-1, dim)


def is_not_found(exc: Exception) -> bool:
    """A missing collection: HTTP 404 on a server, ``ValueError`` in local mode."""
    return getattr(exc, "status_code", None) == 404 or (
        isinstance(exc, ValueError) and "not found" in str(exc)
    )


def is_binary(kind: pa.DataType) -> bool:
    """Binary columns travel as base64 text in payloads (JSON has no bytes)."""
    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def payload_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows of ``table`` as JSON-safe payload dicts (binary columns base64-encoded)."""
    rows = table.to_pylist()
    binary = [f.name for f in table.schema if is_binary(f.type)]
    for row in rows:
        for name in binary:
            if row[name] is not None:
                row[name] = base64.b64encode(row[name]).decode("ascii")
    return rows


def points_to_arrow(points: Sequence[Any], schema: pa.Schema, columns: list[str]) -> pa.Table:
    """Points (records or scored points) as an Arrow table of ``columns``, typed by ``schema``."""
    arrays = []
    for col in columns:
        field = schema.field(col)
        if col == "vector":
            dim = field.type.list_size
            mat = np.asarray([p.vector for p in points], dtype=np.float32).reshape(-1, dim)
            arrays.append(vector_array(mat).cast(field.type))
        else:
            values = [p.payload.get(col) for p in points]
            if is_binary(field.type):
                values = [None if v is None else base64.b64decode(v) for v in values]
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema([schema.field(c) for c in columns]))
