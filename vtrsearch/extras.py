"""Optional dependencies: which ``pip install 'vtrsearch[EXTRA]'`` brings which module.

``pip install vtrsearch`` installs what vector search needs (numpy, pyarrow, pandas, lancedb,
tqdm). Everything else is an extra, imported lazily through :func:`require_extra` so a missing
one is a single :class:`MissingExtraError` naming the command that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import VtrsearchError

__all__ = ["EXTRAS", "MODULE_EXTRAS", "MissingExtraError", "extra_for_module", "require_extra"]

#: What each extra is needed for (shown in the error message).
EXTRAS: dict[str, str] = {
    "clip": "text and image encoders, projection heads and training",
    "qdrant": "Qdrant stores",
    "tui": "the terminal UI",
    "plots": "report figures",
    "media": "decoding video files",
    "train": "training projection heads",
    "serve": "the HTTP API and search page (vtrsearch serve)",
    "distributed": "encoding on a Ray cluster (ingest frames --ray)",
    "ann": "in-process approximate search (vtrsearch build-ann, mode='ann')",
}

#: Top-level module -> the extra that installs it.
MODULE_EXTRAS: dict[str, str] = {
    "torch": "clip",
    "torchvision": "clip",
    "open_clip": "clip",
    "transformers": "clip",
    "safetensors": "clip",
    "huggingface_hub": "clip",
    "qdrant_client": "qdrant",
    "qdrant_edge": "qdrant",
    "textual": "tui",
    "matplotlib": "plots",
    "av": "media",
    "PIL": "media",
    "fastapi": "serve",
    "fastapi_offline": "serve",
    "starlette": "serve",
    "uvicorn": "serve",
    "threadpoolctl": "serve",
    "ray": "distributed",
    "faiss": "ann",
}


class MissingExtraError(VtrsearchError, ImportError):
    """An optional dependency is not installed; the message names the extra to install.

    Attributes:
        module: The module that could not be imported.
        extra: The vtrsearch extra that provides it.
    """

    def __init__(self, module: str, extra: str, missing: str | None = None) -> None:
        self.module = module
        self.extra = extra
        purpose = EXTRAS.get(extra)
        package = module.split(".")[0]
        what = f"{package} is not installed"
        if missing and missing.split(".")[0] != package:
            what = f"{package} cannot be imported: module {missing!r} is missing"
        if purpose:
            what += f" (needed for {purpose})"
        message = f"{what}; install the '{extra}' extra: pip install 'vtrsearch[{extra}]'"
        super().__init__(message, name=module)


def extra_for_module(name: str) -> str | None:
    """The extra that installs module ``name`` (dotted names allowed), or ``None`` if core."""
    return MODULE_EXTRAS.get(name.split(".")[0])


def require_extra(module: str, extra: str) -> ModuleType:
    """Import an optional module, or fail with the ``pip install`` command that provides it.

    Args:
        module: Module to import, e.g. ``"torch"`` or ``"qdrant_client.models"``.
        extra: The vtrsearch extra that installs it, e.g. ``"clip"``.

    Returns:
        The imported module.

    Raises:
        MissingExtraError: The module (or a module it needs) is not installed.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise MissingExtraError(module, extra, exc.name) from exc
