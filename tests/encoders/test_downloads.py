"""No download the user did not allow: with HF_HUB_OFFLINE=1 an uncached model is one clear
error naming what would be downloaded, and nothing touches the network; cached models load.

Every test points the Hugging Face cache at an empty ``tmp_path`` folder and records any name
lookup or socket connection: a test that reached for the network fails instead of hanging.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from vtrsearch.encoders import EncoderLoadError, load_encoder, load_image_encoder
from vtrsearch.encoders.downloads import approx_open_clip_bytes

OFFLINE_HINT = "to allow the download unset HF_HUB_OFFLINE"


@pytest.fixture
def offline(monkeypatch, tmp_path) -> list[object]:
    """HF_HUB_OFFLINE=1, an empty hub cache and ~/.cache/clip; returns attempted connections."""
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError(f"test: network access attempted: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_uncached_open_clip_tag_names_repo_and_size(offline) -> None:
    enc = load_encoder("open_clip:ViT-B-32/openai")
    assert enc.dim == 512 and not enc.loaded  # from the model config: nothing downloaded
    with pytest.raises(EncoderLoadError) as info:
        enc.encode(["a dog"])
    msg = str(info.value)
    assert msg.startswith("cannot load encoder 'open_clip:ViT-B-32/openai': loading it would ")
    assert "the 'openai' weights of ViT-B-32 from Hugging Face repo " in msg
    assert "timm/vit_base_patch32_clip_224.openai (about 604 MB)" in msg
    assert "downloads are off (HF_HUB_OFFLINE=1)" in msg and OFFLINE_HINT in msg
    assert "open_clip:MODEL//path/to/ckpt.safetensors" in msg
    with pytest.raises(EncoderLoadError, match=r"CLIP-ViT-H-14-laion2B-s32B-b79K \(about 3.9 GB\)"):
        load_image_encoder("open_clip:ViT-H-14/laion2b_s32b_b79k").load()
    assert offline == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("hf:vtrsearch-tests/no-such-model", "Hugging Face repo vtrsearch-tests/no-such-model"),
        ("hf-clip:vtrsearch-tests/no-clip", "Hugging Face repo vtrsearch-tests/no-clip"),
        ("open_clip:hf-hub:vtrsearch-tests/no-oc", "Hugging Face repo vtrsearch-tests/no-oc"),
        (
            "open_clip:ViT-B-16-SigLIP/webli",  # weights and an HF tokenizer, both listed
            "tokenizer of ViT-B-16-SigLIP from Hugging Face repo timm/ViT-B-16-SigLIP",
        ),
    ],
)
def test_uncached_hub_models_are_refused_offline(offline, spec, expected, monkeypatch) -> None:
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "yes")
    with pytest.raises(EncoderLoadError) as info:
        load_encoder(spec).encode(["a dog"])
    msg = str(info.value)
    assert expected in msg and "not found in the local cache" in msg
    assert "(HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=yes)" in msg
    assert "unset HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE" in msg
    assert offline == []


def _put_in_hub_cache(cache: Path, repo: str, files: dict[str, bytes]) -> None:
    """Lay files out the way huggingface_hub caches a download of ``repo``."""
    commit = "0" * 40
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name, data in files.items():
        (snapshot / name).write_bytes(data)


def test_cached_hub_model_loads_offline_without_network(offline, tmp_path) -> None:
    from helpers.tiny_models import TINY_OPEN_CLIP_CFG, build_tiny_open_clip
    from safetensors.torch import save

    model = build_tiny_open_clip(seed=5)
    weights = save({k: v.contiguous() for k, v in model.state_dict().items()})
    config = json.dumps({"model_cfg": TINY_OPEN_CLIP_CFG, "preprocess_cfg": {}}).encode()
    files = {"open_clip_config.json": config, "open_clip_model.safetensors": weights}
    _put_in_hub_cache(tmp_path / "hub", "vtrsearch-tests/tiny-oc", files)
    enc = load_encoder("open_clip:hf-hub:vtrsearch-tests/tiny-oc", device="cpu")
    feats = enc.encode(["a dog", "a cat playing piano"])
    assert feats.shape == (2, 32)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    assert offline == []


def test_size_estimate_matches_known_checkpoints() -> None:
    import open_clip

    # parameter counts of the released models (open_clip's model profile table), float32
    known = {"ViT-B-32": 151.28e6, "ViT-L-14": 427.62e6, "ViT-H-14": 986.11e6}
    for name, params in known.items():
        est = approx_open_clip_bytes(open_clip.get_model_config(name))
        assert est is not None and abs(est / 4 - params) / params < 0.01, name
    assert approx_open_clip_bytes(open_clip.get_model_config("RN50")) is None
