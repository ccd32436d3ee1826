"""``vtrsearch serve``: an HTTP API and a search page over one index (extra ``[serve]``).

:mod:`.config` and :mod:`.media` import no web framework; :mod:`.app` (FastAPI) and
:mod:`.server` (uvicorn) are imported when used.
"""

from __future__ import annotations

from .config import Limits, ServeConfig, ServeConfigError, check_bind

__all__ = ["Limits", "ServeConfig", "ServeConfigError", "check_bind"]
