"""What some tests need from outside the repository, and what happens when it is absent.

On a user's fresh clone the real MSR-VTT files (and, later, a browser or other system tools) may
be missing: those tests **skip** with a message naming what is missing and how to provide it.
In CI (``CI=true``, where everything is provisioned by ``.ci/run``) a missing requirement is a
**failure**, so a skipped real-data test can never pass CI unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_ENV = "VTRSEARCH_SHARED_DATA"
SHARED_DATA = Path(os.environ.get(SHARED_ENV, REPO.parent / "shared" / "data"))
SHARED_MSRVTT = SHARED_DATA / "msrvtt"
SHARED_HOWTO = (
    f"set {SHARED_ENV} to a folder holding msrvtt/msrvtt_test_1k.json (the MSR-VTT 1k-A test "
    "split, e.g. from CLIP4Clip's msrvtt_data.zip) and msrvtt/sample_videos/*.mp4 (MSR-VTT clips)"
)


def in_ci() -> bool:
    """Whether this run is CI, where every requirement must be present."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require(ok: bool, missing: str, howto: str) -> None:
    """Skip (locally) or fail (in CI) the calling test unless ``ok``."""
    if ok:
        return
    message = f"{missing}; {howto}"
    if in_ci():
        pytest.fail(f"required in CI: {message}")
    pytest.skip(message)


def shared_file(relative: str) -> Path:
    """A path under the shared real-data folder; skips/fails the test when it is absent."""
    path = SHARED_DATA / relative
    require(path.exists(), f"real data missing: {path}", SHARED_HOWTO)
    return path
