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
