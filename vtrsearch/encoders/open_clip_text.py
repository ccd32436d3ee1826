"""open_clip text encoder (``open_clip:...`` specs) and the shared open_clip model loader."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..extras import require_extra
from .base import TextEncoder
from .device import autocast_dtype, resolve_device
from .downloads import missing_open_clip_downloads, offline_settings, refuse_downloads
from .registry import EncoderKind, parse_spec, register_kind
from .spec import EncoderLoadError, EncoderSpec, absolute_path, looks_like_path

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "OPEN_CLIP_KIND",
    "OpenClipTextEncoder",
    "check_local_files",
    "create_open_clip_model",
    "local_weights_path",
    "open_clip_embed_dim",
    "parse_open_clip",
]

log = logging.getLogger(__name__)

SCHEMAS = ("hf-hub:", "local-dir:")
LOCAL_FORMS = "open_clip:MODEL//path/to/ckpt.safetensors or open_clip:local-dir:/path/to/dir"


def parse_open_clip(rest: str) -> EncoderSpec:
    """Parse what follows ``open_clip:`` (``MODEL/TAG``, ``MODEL//path``, or a schema name).

    Raises:
        ValueError: The text is malformed (the problem, without the spec).
    """
    if rest.startswith(SCHEMAS):
        schema, _, ident = rest.partition(":")
        if not ident.strip("/"):
            raise ValueError(f"nothing after '{schema}:'")
        if schema == "local-dir":
            ident = absolute_path(ident)
        return EncoderSpec("open_clip", f"{schema}:{ident}")
    model, sep, pretrained = rest.partition("/")
    if not model:
        raise ValueError("missing open_clip model name")
    if not sep or not pretrained:
        raise ValueError("missing pretrained tag or checkpoint path after the model name")
    if any(c.isspace() for c in model):
        raise ValueError(f"model name {model!r} contains whitespace")
    if looks_like_path(pretrained):
        pretrained = absolute_path(pretrained)
    return EncoderSpec("open_clip", model, pretrained)


def local_weights_path(spec: EncoderSpec) -> Path | None:
    """The checkpoint file or ``local-dir:`` folder of an open_clip spec (``None`` for tags)."""
    if spec.pretrained is not None and looks_like_path(spec.pretrained):
        return Path(spec.pretrained)
    if spec.name.startswith("local-dir:"):
        return Path(spec.name[len("local-dir:") :])
    return None


def check_local_files(spec: EncoderSpec) -> None:
    """Raise :class:`EncoderLoadError` now if the spec names a local path that does not exist."""
    path = local_weights_path(spec)
    if path is not None and not path.exists():
        raise EncoderLoadError(str(spec), f"local path {str(path)!r} does not exist")


def _register_side_config(spec: EncoderSpec) -> None:
    """Register ``MODEL.json`` lying next to a checkpoint when MODEL is not a known config."""
    open_clip = require_extra("open_clip", "clip")

    if spec.name.startswith(SCHEMAS) or spec.name in open_clip.list_models():
        return
    path = local_weights_path(spec)
    if path is None:
        return
    side = path.parent / f"{spec.name}.json"
    if side.is_file():
        log.info("registering open_clip config %s", side)
        open_clip.add_model_config(side)


def open_clip_embed_dim(spec: EncoderSpec | str) -> int | None:
    """The embedding width an open_clip spec produces, read from its model config (no weights).

    The config is open_clip's registered one for MODEL (or a ``MODEL.json`` beside the
    checkpoint), or ``open_clip_config.json`` of a ``local-dir:``. ``hf-hub:`` names return
    ``None``: their config would have to be fetched from the hub.

    Returns:
        ``embed_dim`` of the model config, or ``None`` when no config tells it.
    """
    spec = parse_spec(spec)
    if spec.kind != "open_clip" or spec.name.startswith("hf-hub:"):
        return None
    try:
        import open_clip

        _register_side_config(spec)
        cfg = open_clip.get_model_config(spec.name) or {}
    except (ImportError, OSError, ValueError):
        return None
    dim = cfg.get("embed_dim") if isinstance(cfg, dict) else None
    return dim if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 else None


def create_open_clip_model(spec: EncoderSpec | str) -> Any:
    """Build an open_clip model on CPU (float32, eval mode) with its weights loaded.

    Checkpoint files go through open_clip's loader with ``weights_only=True`` (safetensors
    preferred). For a tag whose weights were trained with QuickGELU (e.g. ``openai``) on an
    architecture config without it, QuickGELU is forced so the model matches its weights.

    Args:
        spec: An ``open_clip:`` spec.

    Returns:
        The model.

    Raises:
        EncoderLoadError: Unknown model name, unknown tag, missing file, failed download,
            weights not cached while downloads are off (``HF_HUB_OFFLINE=1``) or mismatched
            checkpoint.
        MissingExtraError: open_clip/torch are not installed (``vtrsearch[clip]``).
    """
    spec = parse_spec(spec)
    if spec.kind != "open_clip":
        raise ValueError(f"not an open_clip spec: {spec}")
    check_local_files(spec)
    open_clip = require_extra("open_clip", "clip")
    from open_clip.pretrained import get_pretrained_cfg

    _register_side_config(spec)
    has_schema = spec.name.startswith(SCHEMAS)
    if not has_schema and spec.name not in open_clip.list_models():
        raise EncoderLoadError(
            str(spec),
            f"unknown open_clip model {spec.name!r}",
            "see open_clip.list_models(), register a config with open_clip.add_model_config(), "
            f"or put {spec.name}.json next to the checkpoint",
        )
    kwargs: dict[str, Any] = {}
    if not has_schema and spec.pretrained and local_weights_path(spec) is None:
        tag_cfg = get_pretrained_cfg(spec.name, spec.pretrained) or {}
        model_cfg = open_clip.get_model_config(spec.name) or {}
        if tag_cfg.get("quick_gelu") and not model_cfg.get("quick_gelu"):
            kwargs["force_quick_gelu"] = True
    if offline_settings():
        refuse_downloads(str(spec), missing_open_clip_downloads(spec, tokenizer=False), LOCAL_FORMS)
    try:
        model = open_clip.create_model(
            spec.name,
            pretrained=spec.pretrained,
            device="cpu",
            weights_only=True,
            require_pretrained=True,
            **kwargs,
        )
    except Exception as exc:
        raise EncoderLoadError(str(spec), f"{type(exc).__name__}: {exc}") from exc
    return model.eval()


class OpenClipTextEncoder(TextEncoder):
    """Text tower of an open_clip model.

    Uses the exact length-trimmed path of :mod:`vtrsearch.encoders.fast_clip` when the tower
    allows it (``fast_reason is None`` after load), else open_clip's ``encode_text``.
    On CUDA it autocasts to float16; outputs are always float32.

    Args:
        spec: An ``open_clip:`` spec.
        device: Torch device string, ``None`` for CUDA when available.
        fast: Allow the trimmed fast path (``False`` forces stock ``encode_text``).
    """

    def __init__(
        self, spec: EncoderSpec | str, device: str | None = None, *, fast: bool = True
    ) -> None:
        parsed = parse_spec(spec)
        if parsed.kind != "open_clip":
            raise ValueError(f"not an open_clip spec: {parsed}")
        super().__init__(parsed, device)
        self._fast = fast
        self._model: Any = None
        self._tokenizer: Any = None
        self._tower: Any = None
        self._fast_reason: str | None = None

    @classmethod
    def from_model(
        cls,
        model: Any,
        tokenizer: Any,
        spec: EncoderSpec | str,
        device: str | None = None,
        *,
        fast: bool = True,
    ) -> OpenClipTextEncoder:
        """Wrap an already built open_clip model and tokenizer (moved to ``device``, set to eval).

        Args:
            model: An open_clip model.
            tokenizer: Its open_clip tokenizer.
            spec: The spec to report as :attr:`spec`.
            device: Torch device string, ``None`` for CUDA when available.
            fast: Allow the trimmed fast path.

        Returns:
            A loaded encoder.
        """
        enc = cls(spec, device, fast=fast)
        enc._setup(model, tokenizer, drop_visual=False)
        enc._loaded = True
        return enc

    @property
    def fast_reason(self) -> str | None:
        """Why the fast path is not used (``None`` when it is). Loads."""
        self.load()
        return self._fast_reason

    @property
    def model(self) -> Any:
        """The underlying open_clip model (image tower dropped when loaded from a spec). Loads."""
        self.load()
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The open_clip tokenizer. Loads."""
        self.load()
        return self._tokenizer

    def _load(self) -> None:
        open_clip = require_extra("open_clip", "clip")
        if offline_settings():
            downloads = missing_open_clip_downloads(self._parsed, tokenizer=True)
            refuse_downloads(self.spec, downloads, LOCAL_FORMS)
        model = create_open_clip_model(self._parsed)
        try:
            tokenizer = open_clip.get_tokenizer(self._parsed.name)
        except Exception as exc:
            raise EncoderLoadError(self.spec, f"tokenizer: {type(exc).__name__}: {exc}") from exc
        self._setup(model, tokenizer, drop_visual=True)

    def _setup(self, model: Any, tokenizer: Any, drop_visual: bool) -> None:
        from .fast_clip import fast_path_tower

        self._device = resolve_device(self._device_arg)
        if drop_visual and getattr(model, "visual", None) is not None:
            model.visual = None  # the text encoder never needs the image tower
        self._model = model.to(self._device).eval()
        self._tokenizer = tokenizer
        ctx = getattr(tokenizer, "context_length", None) or getattr(model, "context_length", 77)
        self._context_length = int(ctx)
        if self._fast:
            self._tower, self._fast_reason = fast_path_tower(model)
        else:
            self._tower, self._fast_reason = None, "disabled (fast=False)"
        if self._fast_reason is not None:
            log.info("%s: stock encode_text (%s)", self.spec, self._fast_reason)
        self._dim = self._probe_dim()

    def _cheap_dim(self) -> int | None:
        return open_clip_embed_dim(self._parsed)

    def _probe_dim(self) -> int:
        import torch

        proj = getattr(self._model, "text_projection", None)
        if isinstance(proj, torch.nn.Parameter):
            return int(proj.shape[1])
        if isinstance(proj, torch.nn.Linear):
            return int(proj.out_features)
        tokens = self._tokenizer(["a"])
        return int(self._run(tokens, 1, False).shape[1])

    def _run(self, tokens: Any, batch_size: int, progress: bool) -> np.ndarray:
        from .fast_clip import encode_tokens_fast, encode_tokens_stock

        amp = autocast_dtype(self._device, prefer_bf16=False)
        if self._tower is not None:
            return encode_tokens_fast(self._tower, tokens, batch_size, self._device, amp, progress)
        return encode_tokens_stock(self._model, tokens, batch_size, self._device, amp, progress)

    def _encode(
        self, texts: list[str], batch_size: int, progress: bool
    ) -> tuple[np.ndarray, list[int]]:
        from .fast_clip import truncated_rows

        tokens = self._tokenizer(texts)
        truncated = truncated_rows(self._tokenizer, texts, tokens)
        return self._run(tokens, batch_size, progress), truncated

    def _token_counts(self, texts: list[str]) -> list[int]:
        from .fast_clip import token_counts

        assert self._context_length is not None
        return token_counts(self._tokenizer, texts, self._context_length)


OPEN_CLIP_KIND = register_kind(
    EncoderKind(
        name="open_clip",
        forms=(
            "open_clip:MODEL/TAG                  e.g. open_clip:ViT-B-32/openai",
            "open_clip:MODEL//abs/path/ckpt.safetensors  (MODEL, '/', then a checkpoint file path)",
            "open_clip:hf-hub:ORG/REPO            open_clip model on the Hugging Face hub",
            "open_clip:local-dir:/path/to/dir     folder with open_clip_config.json + weights",
        ),
        parse=parse_open_clip,
        check=check_local_files,
        build=lambda spec, device, fast: OpenClipTextEncoder(spec, device, fast=fast),
    )
)
