"""Read-only use creates no storage (issue 11 item 12), whatever the store.

``Index.open`` (and ``vtrsearch info``/``search``, and ``migrate``'s source) on a path that
does not exist raises :class:`IndexNotFoundError` and leaves the file system as it was, ``..``
in the path included; on a folder that exists but holds no index, it adds nothing to it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from vtrsearch import Index, IndexNotFoundError
from vtrsearch.cli import main
from vtrsearch.index.migrate import migrate_index


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _missing_uris(tmp_path: Path) -> list[str]:
    return [
        str(tmp_path / "no" / "lance"),
        str(tmp_path / "a" / ".." / "b" / "lance"),
        f"qdrant+local://{tmp_path}/no/qdrant",
        f"qdrant+local://{tmp_path}/a/../b/idx",
        f"qdrant+local://:memory:/n{uuid.uuid4().hex[:10]}",
    ]


def test_open_on_a_missing_index_creates_nothing(tmp_path):
    (tmp_path / "keep").mkdir()
    before = _tree(tmp_path)
    for uri in _missing_uris(tmp_path):
        with pytest.raises(IndexNotFoundError, match="no vtrsearch index"):
            Index.open(uri)
        with pytest.raises(IndexNotFoundError):
            migrate_index(uri, str(tmp_path / "keep" / "copy"), progress=False)
        assert _tree(tmp_path) == before, uri


@pytest.mark.parametrize("command", ["info", "search"])
def test_read_only_commands_create_nothing(tmp_path, capsys, command):
    before = _tree(tmp_path)
    for uri in _missing_uris(tmp_path):
        argv = [command, uri] + (["--like", "v1"] if command == "search" else [])
        assert main(argv) == 2, uri
        assert "no vtrsearch index" in capsys.readouterr().err
        assert _tree(tmp_path) == before, uri


def test_open_on_an_empty_folder_adds_nothing_to_it(tmp_path):
    for uri, folder in (
        (str(tmp_path / "lance"), tmp_path / "lance"),
        (f"qdrant+local://{tmp_path}/edge", tmp_path / "edge"),
    ):
        folder.mkdir()
        with pytest.raises(IndexNotFoundError):
            Index.open(uri)
        assert list(folder.iterdir()) == [], uri
