"""Running the application under uvicorn (what ``vtrsearch serve`` does)."""

from __future__ import annotations

import logging

from .config import ServeConfig, check_bind

log = logging.getLogger("vtrsearch.serve")


def run_server(
    config: ServeConfig,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    insecure: bool = False,
    log_level: str = "info",
) -> None:
    """Open the index, warm the query encoder and serve until interrupted.

    Raises:
        ServeConfigError: ``host`` is not a loopback address and neither an API key nor
            ``insecure`` was given.
    """
    check_bind(host, config.api_key, insecure)
    import uvicorn

    from .app import create_app

    if not logging.getLogger().handlers:
        logging.basicConfig(level=log_level.upper(), format="%(levelname)s: %(message)s")
    log.setLevel(log_level.upper())
    app = create_app(config)
    _single_threaded_blas()
    service = app.state.service
    shown = f"[{host}]" if ":" in host else host
    log.info(
        "serving %s (%d videos) at http://%s:%d/ - media: %s, API key: %s, CORS: %s",
        config.index,
        len(service.index),
        shown,
        port,
        config.media or "none",
        "required" if config.api_key else "none (local only)" if not insecure else "NONE",
        ", ".join(config.cors) or "off",
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)


def _single_threaded_blas() -> None:
    """One BLAS thread per request thread.

    Requests already run in parallel in the thread pool; a multi-threaded BLAS under each of
    them oversubscribes the cores, and its threads spin waiting for each other. Measured on
    the 2-core dev box under load: a 10k x 512 matrix-vector product took 16-20 ms with
    OpenBLAS's 2 threads and 0.7 ms with 1. Only numpy's BLAS is limited (torch's encoder
    threads are OpenMP and left alone; encoding is serialised anyway).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
