"""The one head lookup: a directory or a registered name, with one error everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from vtrsearch import Index, VtrsearchError
from vtrsearch.heads import HeadNotFoundError, resolve_head_dir


def test_directory_then_registered_name(tmp_path: Path, monkeypatch) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    registered = {"tuned": str(there)}
    assert resolve_head_dir(here, registered) == here
    assert resolve_head_dir("tuned", registered) == there
    # an existing directory wins over a registered name spelled the same
    monkeypatch.chdir(tmp_path)
    assert resolve_head_dir("here", {"here": str(there)}) == Path("here")
    # ~ is expanded
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_head_dir("~/here", {}) == here


def test_unknown_reference_names_the_registered_heads(tmp_path: Path) -> None:
    registered = {"zeta": str(tmp_path / "z"), "alpha": str(tmp_path / "a")}
    with pytest.raises(HeadNotFoundError) as info:
        resolve_head_dir("nope", registered)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, VtrsearchError)
    assert "'nope' is neither a directory nor a registered head" in str(info.value)
    assert str(info.value).endswith("(heads registered with the index: alpha, zeta)")
    with pytest.raises(HeadNotFoundError, match=r"registered with the index: none\)"):
        resolve_head_dir(tmp_path / "missing", {})
    # a file is not a head directory
    (tmp_path / "file").write_text("x")
    with pytest.raises(HeadNotFoundError):
        resolve_head_dir(tmp_path / "file", {})


def test_every_caller_gives_the_same_error(tmp_path: Path) -> None:
    from vtrsearch.eval.inputs import load_checked_head
    from vtrsearch.tui.engine import SearchEngine

    index = Index.create(tmp_path / "index", dim=4)
    index.register_head("tuned", tmp_path / "tuned")
    messages = []
    for attempt in (
        lambda: index.use_head("nope"),
        lambda: load_checked_head(index, "nope", foreign=False),
        lambda: SearchEngine(index).add_head("nope"),
    ):
        with pytest.raises(HeadNotFoundError, match="registered with the index: tuned") as info:
            attempt()
        messages.append(str(info.value))
    assert len(set(messages)) == 1
    assert index.head_path is None
