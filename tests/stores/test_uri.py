"""URI classification: where an index and its derived files live."""

from __future__ import annotations


def test_cache_dir_is_inside_a_lance_folder_and_hashed_elsewhere(tmp_path, monkeypatch):
    from vtrsearch.stores.uri import CACHE_ENV, cache_dir

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert cache_dir(tmp_path / "idx") == tmp_path / "idx" / "_vtrsearch_cache"
    assert cache_dir("qdrant+local://:memory:/videos") is None
    server = cache_dir("qdrant://host:6333/videos")
    assert server is not None and server.parent == tmp_path / "cache"
    assert server != cache_dir("qdrant://host:6333/other")
    # one folder, however its URI is spelled
    a = cache_dir(f"qdrant+local://{tmp_path}/q")
    b = cache_dir(f"qdrant+local://{tmp_path}/./q")
    assert a == b and a.parent == tmp_path / "cache"
