"""``vtrsearch serve``: argparse wiring; the web stack (FastAPI, uvicorn) loads on use."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the ``serve`` command."""
    p = sub.add_parser(
        "serve",
        help="HTTP API and search page (needs the [serve] extra)",
        description="Serve a JSON API (OpenAPI docs at /docs) and a search page that plays "
        "the matching moment. Binds 127.0.0.1 unless told otherwise; another address needs "
        "--api-key (or --insecure).",
    )
    p.add_argument("index", help="index path or URI")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--media", metavar="DIR", help="folder of <video_id>.mp4/.webm clips to play")
    p.add_argument("--head", metavar="NAME|DIR", help="projection head offered (and default)")
    p.add_argument(
        "--api-key",
        dest="serve_api_key",
        metavar="KEY",
        help="require this key on every API/media request (default: $VTRSEARCH_API_KEY); "
        "never logged",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-local --host without an API key (anyone who reaches it can search)",
    )
    p.add_argument(
        "--cors",
        action="append",
        metavar="ORIGIN",
        default=[],
        help="allow this origin to call the API from its pages (repeatable; default: none)",
    )
    p.add_argument("--max-k", type=int, default=1000, help="largest k accepted (default 1000)")
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="worker threads for searches and media (default: 2 x cores, at least 4)",
    )
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def cmd_serve(args: argparse.Namespace) -> int:
    """Check the arguments, then run the server until interrupted."""
    from ..serve.config import API_KEY_ENV, Limits, ServeConfig, check_bind, default_threads

    key = args.serve_api_key or os.environ.get(API_KEY_ENV) or None
    check_bind(args.host, key, args.insecure)  # refuse before loading anything
    media = None
    if args.media:
        media = Path(args.media)
        if not media.is_dir():
            raise FileNotFoundError(f"--media {args.media}: not a directory")
    if not 1 <= args.max_k <= 1000:
        raise ValueError(f"--max-k must be between 1 and 1000, got {args.max_k}")
    threads = default_threads() if args.threads is None else args.threads
    if not 1 <= threads <= 1024:
        raise ValueError(f"--threads must be between 1 and 1024, got {threads}")
    from ..extras import require_extra

    for module in ("fastapi", "fastapi_offline", "uvicorn", "threadpoolctl"):
        require_extra(module, "serve")  # one line naming pip install 'vtrsearch[serve]'
    from ..serve.server import run_server

    config = ServeConfig(
        index=args.index,
        media=media,
        head=args.head,
        api_key=key,
        cors=tuple(args.cors),
        limits=Limits(max_k=args.max_k),
        threads=threads,
    )
    run_server(config, args.host, args.port, insecure=args.insecure, log_level=args.log_level)
    return 0
