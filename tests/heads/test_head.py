"""Projection head: architecture, save/load round trip, errors, import cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vtrsearch.heads import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    HeadConfig,
    HeadLoadError,
    build_head,
    load_head,
    save_head,
)


def _head(cfg: HeadConfig, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_head(cfg)


def test_import_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import vtrsearch.heads, vtrsearch.trainer\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "vtrsearch.heads.HeadConfig(8, 8)\n"
        "assert 'torch' not in sys.modules, 'torch imported by HeadConfig'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_config_residual_auto_and_validation() -> None:
    assert HeadConfig(64, 64).residual is True
    assert HeadConfig(32, 64).residual is False
    assert HeadConfig(64, 64, residual=False).residual is False
    with pytest.raises(ValueError, match="residual"):
        HeadConfig(32, 64, residual=True)
    with pytest.raises(ValueError):
        HeadConfig(0, 64)
    with pytest.raises(ValueError):
        HeadConfig(32, 64, dropout=1.0)


def test_projection_head_class_and_forward() -> None:
    from vtrsearch.heads.module import ProjectionHead

    cfg = HeadConfig(12, 20, hidden_dim=16, depth=3, dropout=0.0)
    head = _head(cfg)
    assert isinstance(head, ProjectionHead) and isinstance(head, torch.nn.Module)
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(12, 16), (16, 16), (16, 20)]
    y = head(torch.randn(7, 12))
    assert y.shape == (7, 20)
    torch.testing.assert_close(y.norm(dim=-1), torch.ones(7))


def test_residual_head_starts_as_identity() -> None:
    head = _head(HeadConfig(16, 16, hidden_dim=32)).eval()
    assert head.residual
    x = torch.randn(5, 16)
    torch.testing.assert_close(head(x), torch.nn.functional.normalize(x, dim=-1))
    with torch.no_grad():  # after training the MLP branch contributes
        head.mlp[-1].weight.add_(0.1)
    assert not torch.allclose(head(x), torch.nn.functional.normalize(x, dim=-1))


def test_save_load_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = HeadConfig(
        24,
        40,
        hidden_dim=32,
        dropout=0.2,
        base_encoder="open_clip:ViT-B-32/openai",
        feature_model="ViT-H-14",
        training={"lr": 1e-3, "betas": (0.9, 0.99)},
        metrics={"val_r1": np.float32(22.5)},
    )
    head = _head(cfg).eval()
    out = save_head(head, cfg, tmp_path / "head")
    assert sorted(p.name for p in out.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]  # no temp files
    doc = json.loads((out / CONFIG_FILE).read_text())
    assert doc["in_dim"] == 24 and doc["out_dim"] == 40 and doc["residual"] is False
    assert doc["base_encoder"] == "open_clip:ViT-B-32/openai"
    assert doc["training"]["betas"] == [0.9, 0.99] and doc["metrics"]["val_r1"] == 22.5

    def no_pickle(*args: object, **kwargs: object) -> None:
        raise AssertionError("load_head must not unpickle")

    monkeypatch.setattr(torch, "load", no_pickle)
    loaded = load_head(out)
    assert loaded.config.feature_model == "ViT-H-14" and loaded.config.hidden_dim == 32
    x = np.random.default_rng(0).standard_normal((10, 24)).astype(np.float64)
    y = loaded.project(x, batch_size=3)
    assert y.dtype == np.float32 and y.shape == (10, 40)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), 1.0, rtol=1e-5)
    with torch.no_grad():
        ref = head(torch.from_numpy(x.astype(np.float32))).numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.project(x[3]), ref[3], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="dim 24"):
        loaded.project(np.zeros((2, 23), dtype=np.float32))


def test_residual_round_trip(tmp_path: Path) -> None:
    cfg = HeadConfig(16, 16, hidden_dim=8)
    save_head(_head(cfg), cfg, tmp_path)
    loaded = load_head(tmp_path)
    assert loaded.config.residual is True
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
    np.testing.assert_allclose(
        loaded.project(x), x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-5, atol=1e-6
    )


def test_load_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_head(missing)

    cfg = HeadConfig(8, 12, hidden_dim=16)
    good = save_head(_head(cfg), cfg, tmp_path / "good")

    def fresh(name: str) -> Path:
        d = tmp_path / name
        d.mkdir()
        for f in (CONFIG_FILE, WEIGHTS_FILE):
            (d / f).write_bytes((good / f).read_bytes())
        return d

    d = fresh("no_weights")
    (d / WEIGHTS_FILE).unlink()
    with pytest.raises(HeadLoadError, match=f"{d}.*missing {WEIGHTS_FILE}"):
        load_head(d)

    d = fresh("bad_json")
    (d / CONFIG_FILE).write_text("{not json")
    with pytest.raises(HeadLoadError, match=str(d / CONFIG_FILE)):
        load_head(d)

    d = fresh("not_a_head")
    (d / CONFIG_FILE).write_text(json.dumps({"in_dim": 8}))
    with pytest.raises(HeadLoadError, match="not a vtrsearch projection head"):
        load_head(d)

    d = fresh("bad_weights")
    (d / WEIGHTS_FILE).write_bytes(b"\x00garbage" * 10)
    with pytest.raises(HeadLoadError, match=str(d / WEIGHTS_FILE)):
        load_head(d)

    d = fresh("mismatch")  # config says hidden 32, weights were saved with hidden 16
    doc = json.loads((d / CONFIG_FILE).read_text())
    doc["hidden_dim"] = 32
    (d / CONFIG_FILE).write_text(json.dumps(doc))
    with pytest.raises(HeadLoadError, match=f"{d / WEIGHTS_FILE}.*do not match"):
        load_head(d)

    d = fresh("bad_dims")
    doc = json.loads((d / CONFIG_FILE).read_text())
    doc["in_dim"] = -3
    (d / CONFIG_FILE).write_text(json.dumps(doc))
    with pytest.raises(HeadLoadError, match="invalid head config"):
        load_head(d)
