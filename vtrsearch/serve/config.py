"""What a ``vtrsearch serve`` process is configured with, and the bind-address safety rule.

Nothing here imports the web framework, so the CLI can check its arguments (and refuse an
unsafe bind) before loading anything heavy.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import VtrsearchError

API_KEY_ENV = "VTRSEARCH_API_KEY"
"""Environment variable read for the API key when ``--api-key`` is not given (keeps the key
out of the process list)."""


class ServeConfigError(VtrsearchError, ValueError):
    """The server was asked for an unsafe or impossible configuration."""


@dataclass(frozen=True)
class Limits:
    """Request limits; anything beyond them gets a 4xx JSON error.

    Attributes:
        max_query_chars: Longest accepted query text.
        max_k: Most results one search may ask for.
        max_body_bytes: Largest accepted request body (only ``POST /api/session`` has one).
    """

    max_query_chars: int = 1000
    max_k: int = 1000
    max_body_bytes: int = 16 * 1024


@dataclass(frozen=True)
class ServeConfig:
    """Settings of one server.

    Attributes:
        index: Index path or URI, opened once at start-up.
        media: Folder holding ``<video_id>.<ext>`` clips served by ``/media/{id}`` (optional).
        head: Projection head (registered name or directory) offered besides the baseline.
        api_key: When set, every ``/api``, ``/media`` and ``/thumbs`` request must carry it.
            Never part of ``repr`` (so never in a log line).
        cors: Origins allowed to call the API from other pages (none by default).
        limits: Request limits.
        threads: Worker threads for searches and file reads (``None``: the framework's 40).
            Few threads serve ``like:``/vector queries best: the matrix product releases the
            GIL and saturates a core, more threads only queue on the GIL.
    """

    index: str
    media: Path | None = None
    head: str | None = None
    api_key: str | None = field(default=None, repr=False)
    cors: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    threads: int | None = None


def default_threads() -> int:
    """Worker threads ``vtrsearch serve`` uses: twice the cores, at least 4."""
    return max(4, 2 * (os.cpu_count() or 1))


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def check_bind(host: str, api_key: str | None, insecure: bool) -> None:
    """Refuse to listen beyond this machine without a key (or an explicit ``--insecure``).

    Raises:
        ServeConfigError: ``host`` is not a loopback address, no key is set and
            ``insecure`` is false.
    """
    if is_loopback(host) or api_key or insecure:
        return
    raise ServeConfigError(
        f"refusing to serve on {host} without an API key: anyone who can reach this address "
        f"could search the index and read the media files. Pass --api-key KEY (or set "
        f"{API_KEY_ENV}), or --insecure to serve it open anyway"
    )
