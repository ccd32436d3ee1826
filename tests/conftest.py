"""Shared fixtures: real MSR-VTT files from ../shared, small synthetic datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.requirements import shared_file


@pytest.fixture(scope="session", autouse=True)
def _cache_dir_in_tmp(tmp_path_factory) -> None:
    """Derived files of non-folder indexes (Qdrant) go to a temporary cache, not ~/.cache."""
    import os

    from vtrsearch.stores.uri import CACHE_ENV

    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("vtrsearch-cache"))


@pytest.fixture(scope="session")
def msrvtt_1k_json() -> Path:
    """The real 1k-A test split file (1,000 videos, one caption each)."""
    return shared_file("msrvtt/msrvtt_test_1k.json")


@pytest.fixture(scope="session")
def sample_videos_dir() -> Path:
    """Five real MSR-VTT clips."""
    return shared_file("msrvtt/sample_videos")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    """A small synthetic dataset in the MSR-VTT videodatainfo layout (read-only for tests)."""
    from vtrsearch.ingest.synthetic import write_synthetic_msrvtt

    return write_synthetic_msrvtt(
        tmp_path_factory.mktemp("synthetic"), num_videos=120, captions_per_video=3, dim=32
    )
