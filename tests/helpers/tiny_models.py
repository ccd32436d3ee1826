"""Tiny, randomly initialised models saved the way real checkpoints are (no downloads).

Importable by any test (``from tests.tiny_models import ...`` or ``from helpers.tiny_models import
...`` with ``tests/`` on ``sys.path``). Each ``save_*`` helper writes a checkpoint to a folder
and returns the spec string that loads it through the normal ``load_encoder`` path.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

from .requirements import shared_file

TINY_OPEN_CLIP_CFG: dict[str, Any] = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2},
}
"""A tiny open_clip CLIP config (real 49,408-token BPE vocab so the stock tokenizer works)."""


def real_captions(limit: int | None = None) -> list[str]:
    """Captions of the real MSR-VTT 1k-A test split (skips/fails the test when absent)."""
    with open(shared_file("msrvtt/msrvtt_test_1k.json"), encoding="utf-8") as f:
        rows = json.load(f)
    caps = [r["caption"] for r in rows]
    return caps[:limit] if limit is not None else caps


def build_tiny_open_clip(seed: int = 0, cfg: dict[str, Any] | None = None) -> Any:
    """A randomly initialised tiny open_clip ``CLIP`` (eval mode, CPU, float32)."""
    import open_clip
    import torch

    torch.manual_seed(seed)
    cfg = copy.deepcopy(cfg or TINY_OPEN_CLIP_CFG)
    return open_clip.CLIP(**cfg).eval()


def save_tiny_open_clip(
    folder: Path,
    name: str = "vtr-tiny-clip",
    fmt: str = "safetensors",
    seed: int = 0,
    side_config: bool = True,
    cfg: dict[str, Any] | None = None,
) -> tuple[str, Any]:
    """Save a tiny open_clip model as ``folder/tiny.<fmt>`` (+ ``folder/<name>.json``).

    Args:
        folder: Output folder (created).
        name: Model config name used in the spec.
        fmt: ``"safetensors"`` or ``"pt"`` (a plain state_dict for ``torch.load``
            ``weights_only=True``).
        seed: Init seed.
        side_config: Write ``<name>.json`` next to the checkpoint (auto-registered at load).
        cfg: Model config (default :data:`TINY_OPEN_CLIP_CFG`).

    Returns:
        ``(spec, model)``: the spec ``open_clip:<name>/<checkpoint>`` and the in-memory model.
    """
    import torch

    cfg = copy.deepcopy(cfg or TINY_OPEN_CLIP_CFG)
    folder.mkdir(parents=True, exist_ok=True)
    model = build_tiny_open_clip(seed, cfg)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    ckpt = folder / f"tiny.{fmt}"
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file(state, str(ckpt))
    elif fmt == "pt":
        torch.save(state, ckpt)
    else:
        raise ValueError(fmt)
    if side_config:
        (folder / f"{name}.json").write_text(json.dumps(cfg), encoding="utf-8")
    return f"open_clip:{name}/{ckpt}", model


def offline_clip_tokenizer(model_max_length: int = 77) -> Any:
    """The OpenAI CLIP BPE tokenizer as a transformers ``CLIPTokenizer``, built offline.

    Vocabulary and merges come from open_clip's bundled ``bpe_simple_vocab_16e6.txt.gz``,
    constructed exactly like open_clip's ``SimpleTokenizer`` (ids match it).
    """
    from open_clip.tokenizer import bytes_to_unicode, default_bpe
    from transformers import CLIPTokenizer

    merges = gzip.open(default_bpe()).read().decode("utf-8").split("\n")
    merges = merges[1 : 49152 - 256 - 2 + 1]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(
        vocab={v: i for i, v in enumerate(vocab)},
        merges=[tuple(m.split()) for m in merges],
        model_max_length=model_max_length,
    )


def save_tiny_hf_clip(folder: Path, seed: int = 0) -> tuple[str, Any]:
    """Save a tiny transformers ``CLIPModel`` + offline CLIP tokenizer to ``folder``.

    Returns:
        ``(spec, model)``: ``hf-clip:<folder>`` and the in-memory ``CLIPModel``.
    """
    import torch
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config={
            "vocab_size": 49408,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 77,
            "bos_token_id": 49406,
            "eos_token_id": 49407,
            "pad_token_id": 49407,
        },
        vision_config={
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 16,
        },
        projection_dim=32,
    )
    model = CLIPModel(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    offline_clip_tokenizer().save_pretrained(folder)
    return f"hf-clip:{folder}", model
