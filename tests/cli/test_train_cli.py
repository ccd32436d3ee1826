"""Training a head from an index through the CLI, then using it at query time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers.tiny_models import save_tiny_hf_clip, save_tiny_open_clip

from vtrsearch import DimensionMismatchError, Index, SpaceMismatchError
from vtrsearch.cli.main import main
from vtrsearch.encoders import parse_spec
from vtrsearch.index.caption_cache import encode_captions
from vtrsearch.ingest import ingest_msrvtt


@pytest.fixture(scope="module")
def tiny_text(tmp_path_factory):
    spec, _ = save_tiny_hf_clip(tmp_path_factory.mktemp("tinyclip"))
    return spec


@pytest.fixture
def index_uri(synthetic_root, tmp_path):
    uri = str(tmp_path / "idx")
    ingest_msrvtt(synthetic_root, uri, feature_model="synthetic:space", progress=False)
    return uri


def test_train_register_search_and_eval_with_a_head(index_uri, tmp_path, tiny_text, capsys):
    heads = tmp_path / "heads" / "tiny-to-video"
    train = [
        "train",
        index_uri,
        "--base-encoder",
        tiny_text,
        "--out",
        str(heads),
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--hidden-dim",
        "32",
        "--warmup-steps",
        "1",
    ]
    assert main(train) == 0
    out = capsys.readouterr().out
    assert "head saved to" in out and "val R@1" in out
    config = json.loads((heads / "config.json").read_text())
    assert config["base_encoder"] == tiny_text and config["out_dim"] == 32
    assert config["feature_model"] == "synthetic:space"
    index = Index.open(index_uri)
    assert index.heads() == {"tiny-to-video": str(heads.resolve())}
    # the index has no encoder of its own: the head's base encoder answers text queries
    with pytest.raises(ValueError, match="no query encoder"):
        index.search("a dog runs")
    index.use_head("tiny-to-video")
    hits = index.search("a dog runs", k=3)
    assert len(hits) == 3
    assert main(["search", index_uri, "a dog runs", "--head", str(heads), "-k", "2"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    assert main(["eval", index_uri, "--split", "test", "--head", "tiny-to-video"]) == 0
    assert "head:tiny-to-video" in capsys.readouterr().out
    # resume after the run finished: nothing left to do, same weights
    before = (heads / "model.safetensors").read_bytes()
    assert main([*train, "--resume"]) == 0
    assert (heads / "model.safetensors").read_bytes() == before


def test_mismatched_heads_are_refused(index_uri, tmp_path, tiny_text):
    from vtrsearch.heads import HeadConfig, build_head, save_head

    index = Index.open(index_uri)
    wrong_out = HeadConfig(in_dim=32, out_dim=64, base_encoder=tiny_text)
    save_head(build_head(wrong_out), wrong_out, tmp_path / "wrong_out")
    with pytest.raises(DimensionMismatchError, match="outputs 64-d vectors"):
        index.use_head(tmp_path / "wrong_out")
    assert index.head_path is None  # a failed head does not stay active
    other_space = HeadConfig(
        in_dim=32,
        out_dim=32,
        base_encoder=tiny_text,
        feature_model="open_clip:ViT-H-14/laion2b_s32b_b79k",
    )
    save_head(build_head(other_space), other_space, tmp_path / "other_space")
    with pytest.raises(SpaceMismatchError, match="maps into"):
        index.use_head(tmp_path / "other_space")
    wrong_in = HeadConfig(in_dim=16, out_dim=32, base_encoder=tiny_text)
    save_head(build_head(wrong_in), wrong_in, tmp_path / "wrong_in")
    index.use_head(tmp_path / "wrong_in")
    with pytest.raises(DimensionMismatchError, match="expects 16-d input"):
        index.search("a dog")
    with pytest.raises(FileNotFoundError):
        index.use_head(tmp_path / "missing")
    assert np.isfinite(index.gallery().vectors).all()


def test_train_reads_the_encoder_dim_without_loading_weights(index_uri, tmp_path):
    """With the captions cached, ``train`` needs no text-encoder weights at all: the input
    dimension comes from the open_clip model config, so an unreadable checkpoint is fine."""
    spec, _ = save_tiny_open_clip(tmp_path / "clip")
    encode_captions(Index.open(index_uri), spec, progress=False)
    Path(parse_spec(spec).pretrained).write_bytes(b"weights gone")  # the checkpoint file
    out = tmp_path / "head"
    args = ["train", index_uri, "--base-encoder", spec, "--out", str(out), "--epochs", "1"]
    assert main([*args, "--batch-size", "16", "--hidden-dim", "16", "--warmup-steps", "1"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert (config["in_dim"], config["out_dim"], config["hidden_dim"]) == (32, 32, 16)
