"""Fixtures of the TUI tests: MiniLM vectors of the test captions, an index with a head."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.serve_data import make_head
from helpers.tui_app import CAPTIONS, MINILM, add_videos

from vtrsearch import Index, load_encoder


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def vectors() -> np.ndarray:
    """One vector per video: the mean MiniLM embedding of its captions."""
    enc = load_encoder(MINILM)
    return np.stack([enc.encode(CAPTIONS[v][1]).mean(axis=0) for v in CAPTIONS])


@pytest.fixture(scope="session")
def head_dir(tmp_path_factory) -> str:
    """A small residual head 384 -> 384 with perturbed weights (so it ranks differently)."""
    return str(make_head(tmp_path_factory.mktemp("heads") / "tuned"))


@pytest.fixture(scope="module")
def index(tmp_path_factory, vectors, head_dir) -> Index:
    """24 videos whose vectors are the mean MiniLM embedding of their captions, one head."""
    idx = Index.create(
        tmp_path_factory.mktemp("tui") / "index", dim=384, feature_model=MINILM, encoder=MINILM
    )
    add_videos(idx, vectors)
    idx.register_head("tuned", head_dir)
    return idx


@pytest.fixture(scope="module")
def bare_index(tmp_path_factory, vectors) -> Index:
    """The same videos without any query encoder (vector-only)."""
    idx = Index.create(tmp_path_factory.mktemp("bare") / "index", dim=384, feature_model=MINILM)
    add_videos(idx, vectors)
    return idx
