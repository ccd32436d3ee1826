"""What loading an encoder would download, and whether it may: no download the user did not allow.

Weights come from a local path, from the Hugging Face cache, or (only when downloads are
allowed) from the hub (or, for a few open_clip tags, their release URL). Downloads are off when
``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set to 1/true/yes/on, read when a model loads.
Then a model that is not cached is refused *before* any connection with one
:class:`~vtrsearch.encoders.spec.EncoderLoadError` saying what would be downloaded (repo id or
URL, approximate size when the architecture is known) and how to allow it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..extras import require_extra
from .spec import EncoderLoadError, EncoderSpec

__all__ = [
    "OFFLINE_VARS",
    "Download",
    "approx_open_clip_bytes",
    "hub_file_cached",
    "missing_open_clip_downloads",
    "offline_settings",
    "refuse_downloads",
]

OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_TRUE = {"1", "ON", "YES", "TRUE"}
#: open_clip's default weight file names on the hub (safetensors preferred).
OPEN_CLIP_WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
OPEN_CLIP_URL_CACHE = Path("~/.cache/clip")


@dataclass(frozen=True)
class Download:
    """Something loading an encoder would fetch from the network.

    Attributes:
        what: What it is, e.g. ``"the 'openai' weights of ViT-B-32"``.
        source: Where from, e.g. ``"Hugging Face repo timm/vit_base_patch32_clip_224.openai"``.
        approx_bytes: Estimated size, ``None`` when unknown.
    """

    what: str
    source: str
    approx_bytes: int | None = None

    def __str__(self) -> str:
        size = f" ({format_size(self.approx_bytes)})" if self.approx_bytes else ""
        return f"{self.what} from {self.source}{size}"


def format_size(n: int) -> str:
    """``"about 3.9 GB"`` / ``"about 350 MB"``."""
    if n >= 1e9:
        return f"about {n / 1e9:.1f} GB"
    return f"about {max(1, round(n / 1e6))} MB"


def offline_settings() -> dict[str, str]:
    """The offline variables that are set (``{"HF_HUB_OFFLINE": "1"}``); empty: downloads on."""
    out = {}
    for var in OFFLINE_VARS:
        value = os.environ.get(var, "")
        if value.strip().upper() in _TRUE:
            out[var] = value
    return out


def refuse_downloads(spec: str, downloads: list[Download], local_form: str) -> None:
    """Raise when something would be downloaded while downloads are off; return otherwise.

    Args:
        spec: The canonical spec being loaded.
        downloads: What is missing from the local cache.
        local_form: The spec form that loads local files instead, e.g. ``"hf:/path/to/dir"``.

    Raises:
        EncoderLoadError: ``downloads`` is not empty and an offline variable is set.
    """
    settings = offline_settings()
    if not downloads or not settings:
        return
    listed = " and ".join(str(d) for d in downloads)
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    raise EncoderLoadError(
        spec,
        f"loading it would download {listed}, not found in the local cache, and downloads "
        f"are off ({shown})",
        f"to allow the download unset {' and '.join(settings)}; or use local files: {local_form}",
    )


def hub_file_cached(repo_id: str, filename: str) -> bool:
    """Whether ``filename`` of hub repo ``repo_id`` is in the local Hugging Face cache."""
    hub = require_extra("huggingface_hub", "clip")
    try:
        return isinstance(hub.try_to_load_from_cache(repo_id, filename), str)
    except ValueError:  # not a valid repo id / file name: nothing of it can be cached
        return False


def _transformer_params(cfg: dict[str, Any]) -> int:
    width, layers = int(cfg["width"]), int(cfg["layers"])
    return int(layers * (4 + 2 * float(cfg.get("mlp_ratio", 4.0))) * width * width)


def approx_open_clip_bytes(model_cfg: dict[str, Any] | None) -> int | None:
    """Float32 size of a ViT/text-transformer open_clip model from its config, else ``None``.

    Counts the transformer blocks, patch and token embeddings and projections (within a few
    percent of the real checkpoints: ViT-B-32 0.6 GB, ViT-H-14 3.9 GB). Timm or HF towers and
    ResNets are not estimated.
    """
    if not model_cfg:
        return None
    vision, text = model_cfg.get("vision_cfg") or {}, model_cfg.get("text_cfg") or {}
    if vision.get("timm_model_name") or text.get("hf_model_name"):
        return None
    if not isinstance(vision.get("layers"), int) or not isinstance(text.get("layers", 12), int):
        return None
    embed = int(model_cfg.get("embed_dim", 512))
    patch, size = int(vision.get("patch_size", 16)), vision.get("image_size", 224)
    side = int(size[0] if isinstance(size, (list, tuple)) else size)
    width = int(vision["width"])
    v = _transformer_params(vision) + (3 * patch * patch + (side // patch) ** 2 + embed) * width
    text = {"width": 512, "layers": 12, **text}
    tw = int(text["width"])
    t_extra = int(text.get("vocab_size", 49408)) + int(text.get("context_length", 77)) + embed
    return 4 * (v + _transformer_params(text) + t_extra * tw)


def _weights_download(name: str, tag: str, open_clip: Any) -> Download | None:
    """The download of an open_clip pretrained tag's weights, or ``None`` if cached/unknown."""
    from open_clip.pretrained import get_pretrained_cfg

    cfg = get_pretrained_cfg(name, tag) or {}
    size = approx_open_clip_bytes(open_clip.get_model_config(name))
    what = f"the {tag!r} weights of {name}"
    if cfg.get("hf_hub"):
        # open_clip's convention: "org/repo/" (default file names) or "org/repo/file.bin"
        repo, filename = os.path.split(cfg["hf_hub"])
        names = [filename] if filename else list(OPEN_CLIP_WEIGHTS)
        names += [n[:-4] + ".safetensors" for n in names if n.endswith((".bin", ".pth"))]
        if any(hub_file_cached(repo, n) for n in names):
            return None
        return Download(what, f"Hugging Face repo {repo}", size)
    if cfg.get("url"):
        if (OPEN_CLIP_URL_CACHE.expanduser() / os.path.basename(cfg["url"])).is_file():
            return None
        return Download(what, cfg["url"], size)
    return None


def missing_open_clip_downloads(spec: EncoderSpec, *, tokenizer: bool) -> list[Download]:
    """What loading an ``open_clip:`` spec would download (empty when all is local or cached).

    Args:
        spec: The parsed spec.
        tokenizer: Include the tokenizer (text encoders need it, image towers do not).
    """
    open_clip = require_extra("open_clip", "clip")
    name = spec.name
    if name.startswith("local-dir:") or (spec.pretrained and os.path.isabs(spec.pretrained)):
        return []
    if name.startswith("hf-hub:"):
        repo = name[len("hf-hub:") :].strip("/")
        weights = any(hub_file_cached(repo, f) for f in OPEN_CLIP_WEIGHTS)
        if weights and hub_file_cached(repo, "open_clip_config.json"):
            return []
        return [Download(f"the open_clip model {repo}", f"Hugging Face repo {repo}")]
    out = []
    if spec.pretrained:
        weights = _weights_download(name, spec.pretrained, open_clip)
        if weights is not None:
            out.append(weights)
    hf_tokenizer = ((open_clip.get_model_config(name) or {}).get("text_cfg") or {}).get(
        "hf_tokenizer_name"
    )
    if tokenizer and hf_tokenizer and not hub_file_cached(hf_tokenizer, "tokenizer_config.json"):
        out.append(Download(f"the tokenizer of {name}", f"Hugging Face repo {hf_tokenizer}"))
    return out
