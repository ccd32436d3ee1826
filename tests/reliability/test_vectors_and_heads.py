"""Reliability, vectors and heads (issue 11, items 4, 11 and 15).

Large finite vectors stay unit vectors; a NaN query or a head that makes NaN raises instead of
returning nothing; a tampered head config is refused before its weights are allocated.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers.tiny_models import save_tiny_open_clip

from vtrsearch import Index, InvalidVectorError

DIM = 8


@pytest.fixture
def index(tmp_path) -> Index:
    idx = Index.create(str(tmp_path / "idx"), dim=DIM, categories=["c"])
    rng = np.random.default_rng(0)
    idx.add_videos([f"v{i}" for i in range(10)], rng.normal(size=(10, DIM)), categories=[0] * 10)
    return idx


def test_large_finite_vectors_are_normalised_not_zeroed(index):
    """Item 4: values of 1e18..1e200 (float32 squares overflow) give unit vectors, and a
    query of that size finds its video with score 1."""
    direction = np.arange(1, DIM + 1, dtype=np.float64)
    unit = direction / np.linalg.norm(direction)
    index.add_videos(
        ["big18", "big30", "big200"],
        [direction * 1e18, (direction * 1e30).astype(np.float32), direction * 1e200],
        categories=[0, 0, 0],
    )
    for vid in ("big18", "big30", "big200"):
        stored = index.get(vid).vector
        np.testing.assert_allclose(stored, unit, rtol=1e-5)
    [hit] = index.search((direction * 1e30).astype(np.float32), k=1)
    assert hit.video_id in {"big18", "big30", "big200"} and hit.score == pytest.approx(1.0)
    assert np.isfinite(index.query_vector(direction * 1e300)).all()


def test_vectors_with_zero_norm_are_refused(index):
    """Item 4: a vector whose norm is zero cannot be normalised: refused, the row untouched."""
    before = index.get("v1").vector
    with pytest.raises(InvalidVectorError, match="all-zero.*v1"):
        index.add_videos(["v1"], np.zeros((1, DIM)), categories=[0])
    np.testing.assert_array_equal(index.get("v1").vector, before)
    with pytest.raises(InvalidVectorError, match="all-zero"):
        index.search(np.zeros(DIM))


def test_search_many_refuses_nan_and_inf_rows(index):
    """Item 11: NaN/inf query rows raise (naming the rows) instead of returning no hits."""
    queries = np.random.default_rng(1).normal(size=(4, DIM))
    queries[1, 3] = np.nan
    queries[3, 0] = np.inf
    with pytest.raises(InvalidVectorError, match=r"NaN or infinite.*rows 1, 3"):
        index.search_many(queries, k=3)
    with pytest.raises(InvalidVectorError, match="NaN or infinite"):
        index.search(queries[1], k=3)


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory) -> str:
    spec, _ = save_tiny_open_clip(tmp_path_factory.mktemp("oc") / "oc", name="vtr-tiny-rel")
    return spec


def _save_head(path, spec: str, fill: float | None):
    import torch

    from vtrsearch.heads import HeadConfig, build_head, save_head

    cfg = HeadConfig(32, DIM, hidden_dim=16, depth=2, dropout=0.0, base_encoder=spec)
    head = build_head(cfg)
    if fill is not None:
        with torch.no_grad():
            head.mlp[0].weight.fill_(fill)
    return str(save_head(head, cfg, path))


def test_head_with_nan_weights_is_refused(index, tiny_encoder, tmp_path):
    """Item 11: a head with NaN weights is refused when it is loaded (the old behaviour: every
    text search silently returned no results)."""
    head = _save_head(tmp_path / "nan-head", tiny_encoder, float("nan"))
    with pytest.raises(ValueError, match="NaN or infinite values"):
        index.use_head(head)
    assert index.head_path is None


def test_head_that_makes_nan_vectors_raises_on_search(index, tiny_encoder, tmp_path):
    """Item 11: finite weights that overflow (3e38) make NaN query vectors: search raises."""
    head = _save_head(tmp_path / "overflow-head", tiny_encoder, 3e38)
    index.use_head(head)
    with pytest.raises(InvalidVectorError, match="NaN or infinite query vectors"):
        index.search("a dog runs", k=3)
    with pytest.raises(InvalidVectorError, match="NaN or infinite"):
        index.search_many(["a dog runs", "a cat"], k=3)


_LOAD = textwrap.dedent(
    """
    import json, sys
    import torch  # imported before measuring
    from vtrsearch.heads import load_head

    def status(key):  # kB
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])

    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak resident size (VmHWM) to the current one
    before = status("VmRSS")
    try:
        load_head(sys.argv[1])
        outcome = "loaded"
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"outcome": outcome, "grown_mb": (status("VmHWM") - before) / 1024}))
    """
)


def test_tampered_head_config_is_refused_before_allocating(tiny_encoder, tmp_path):
    """Item 15: ``hidden_dim=400000`` in config.json (weights made for 16) is refused from the
    safetensors header: no 200 MB of weights are allocated first."""
    head = tmp_path / "tampered"
    _save_head(head, tiny_encoder, None)
    config = json.loads((head / "config.json").read_text())
    config["hidden_dim"] = 400_000  # (400000 x 32 + 8 x 400000) float32 weights: 64 MB
    (head / "config.json").write_text(json.dumps(config))
    out = subprocess.run(
        [sys.executable, "-c", _LOAD, str(head)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["grown_mb"] < 40, result  # the old code allocated (and initialised) 64 MB
    assert result["outcome"].startswith("HeadLoadError")
    assert "hidden_dim=400000" in result["outcome"] and "(16, 32)" in result["outcome"]
