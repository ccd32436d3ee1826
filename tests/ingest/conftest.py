"""Fixtures of the ingest tests: a tiny OpenCLIP tower on disk, one local Ray instance."""

from __future__ import annotations

import importlib.util
import logging
import os

import pytest
from helpers.requirements import require
from helpers.tiny_models import save_tiny_open_clip


@pytest.fixture(scope="session")
def tiny_image_spec(tmp_path_factory) -> str:
    """``open_clip:`` spec of a tiny randomly initialised CLIP saved as safetensors."""
    spec, _ = save_tiny_open_clip(tmp_path_factory.mktemp("tinyclip"))
    return spec


@pytest.fixture(scope="session")
def ray_local(tmp_path_factory):
    """One local Ray instance (2 CPUs, no GPU) shared by every Ray test of the session."""
    require(
        importlib.util.find_spec("ray") is not None,
        "Ray is not installed",
        "pip install -e '.[distributed]' to run the Ray ingest tests",
    )
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    import ray

    ray.init(
        num_cpus=2,
        num_gpus=0,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=200 * 1024**2,
        logging_level=logging.WARNING,
        _temp_dir=str(tmp_path_factory.mktemp("ray")),
    )
    yield ray
    ray.shutdown()
