"""In-process faiss ANN behind ``search(mode=...)``: recall, pre-filters, staleness, files.

Small clustered data (5,000 x 64, 100 anisotropic clusters) on an embedded LanceDB index;
every figure is compared with the exact search of the same index.
"""

from __future__ import annotations

import numpy as np
import pytest

from vtrsearch import Index
from vtrsearch.cli.main import main
from vtrsearch.index import ann_mixin, faiss_ann, faiss_state
from vtrsearch.index.ann import AnnNotBuiltError, ann_kinds, backend_for, register_backend
from vtrsearch.stores.uri import cache_dir

N, DIM, CLUSTERS, CATS = 5000, 64, 100, 20


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    labels = rng.integers(0, len(centres), n)
    x = centres[labels] + 0.5 * rng.standard_normal((n, DIM)) * rng.uniform(0.3, 1.5, DIM)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((CLUSTERS, DIM)) + 1.5  # a shared direction, like CLIP's cone
    x = clustered(N, rng, centres)
    q = clustered(60, rng, centres)
    cats = rng.integers(0, CATS, N)  # uniform: one category keeps ~5% of the videos
    return x, q, cats


def make_index(path, x, cats) -> Index:
    idx = Index.create(path, dim=DIM, categories=[f"c{i}" for i in range(CATS)])
    idx.add_videos([f"v{i}" for i in range(len(x))], x, categories=cats.tolist())
    return idx


@pytest.fixture(scope="module")
def built(tmp_path_factory, data):
    x, _, cats = data
    idx = make_index(tmp_path_factory.mktemp("ann") / "idx", x, cats)
    idx.build_ann("faiss-ivf-fp16", nprobe=8)
    return idx


def ids(hits) -> list[str]:
    return [h.video_id for h in hits]


def recall(approx, exact) -> float:
    return float(
        np.mean(
            [len(set(ids(a)) & set(ids(e))) / len(e) for a, e in zip(approx, exact, strict=True)]
        )
    )


def test_ann_recall_is_high_and_scores_are_exact(built, data):
    _, q, _ = data
    exact = built.search_many(q, 10, mode="exact")
    approx = built.search_many(q, 10, mode="ann")
    assert recall(approx, exact) >= 0.95
    for a, e in zip(approx, exact, strict=True):
        shared = {h.video_id: h.score for h in e}
        for h in a:  # rescored in float32 from the gallery: the exact score
            if h.video_id in shared:
                assert h.score == pytest.approx(shared[h.video_id], abs=1e-5)
    one = built.search(q[0], 10, mode="ann")
    assert ids(one) == ids(approx[0])


@pytest.mark.parametrize("categories", [[3], [3, 7, 11]])  # ~5% and ~15% of the videos
def test_filtered_ann_returns_k_hits_that_all_match(built, data, categories):
    _, q, cats = data
    names = {f"c{c}" for c in categories}
    # force the probing path (by default a filter this selective at 5k videos is answered exactly)
    params = {"filter_exact_below": 0}
    approx = built.search_many(q, 10, categories=categories, mode="ann", ann_params=params)
    exact = built.search_many(q, 10, categories=categories, mode="exact")
    assert all(len(hits) == 10 for hits in approx)
    assert all(h.category_name in names for hits in approx for h in hits)
    assert recall(approx, exact) >= 0.9
    # with nprobe=1 the probed lists hold too few matches: still k hits (exact fallback)
    narrow = built.search_many(
        q, 10, categories=categories, mode="ann", ann_params={**params, "nprobe": 1}
    )
    assert all(len(h) == 10 and {x.category_name for x in h} <= names for h in narrow)


def test_filter_that_follows_the_clusters_keeps_recall(tmp_path):
    """A filter whose kept videos sit in other clusters than the query's nearest lists (category
    = cluster % 20): probing the nearest lists found few matches (recall 0.85 at 1M); probing
    the nearest lists that hold matches finds them."""
    rng = np.random.default_rng(11)
    centres = rng.standard_normal((CLUSTERS, DIM)) + 1.5
    labels = rng.integers(0, CLUSTERS, N)
    x = centres[labels] + 0.5 * rng.standard_normal((N, DIM)) * rng.uniform(0.3, 1.5, DIM)
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    q = clustered(60, rng, centres)
    idx = make_index(tmp_path / "idx", x, labels % CATS)
    idx.build_ann("faiss-ivf-pq4fs", nlist=100, nprobe=4)
    categories = [0, 1, 2]
    params = {"filter_exact_below": 0}
    approx = idx.search_many(q, 10, categories=categories, mode="ann", ann_params=params)
    exact = idx.search_many(q, 10, categories=categories, mode="exact")
    assert all(len(h) == 10 for h in approx)
    assert all(h.category_name in {"c0", "c1", "c2"} for hits in approx for h in hits)
    assert recall(approx, exact) >= 0.9  # 0.98 here; 0.79 when probing the nearest lists


def test_a_filter_with_fewer_matches_than_k_returns_them_all(built, data):
    _, q, cats = data
    hits = built.search(q[0], 10_000, categories=[5], mode="ann")
    assert len(hits) == int((cats == 5).sum())


def test_mode_errors(built, tmp_path, data):
    x, q, cats = data
    with pytest.raises(ValueError, match="mode must be one of exact, ann, auto, got 'fast'"):
        built.search(q[0], mode="fast")
    with pytest.raises(ValueError, match="mode must be one of"):
        built.search_moments(q[0], mode="approx")
    plain = make_index(tmp_path / "plain", x[:200], cats[:200])
    with pytest.raises(AnnNotBuiltError, match="vtrsearch build-ann"):
        plain.search(q[0], mode="ann")
    assert ids(plain.search(q[0], mode="auto")) == ids(plain.search(q[0], mode="exact"))
    with pytest.raises(ValueError, match="unknown ANN kind 'hnsw'; known: faiss-ivf-fp16"):
        plain.build_ann("hnsw")
    with pytest.raises(ValueError, match="unknown faiss-ivf-sq8 parameter.*nprobes"):
        plain.build_ann("faiss-ivf-sq8", nprobes=3)
    with pytest.raises(ValueError, match="nlist must be between 1 and the 200 videos"):
        plain.build_ann(nlist=500)


def test_auto_uses_ann_only_above_the_threshold(built, data, monkeypatch):
    _, q, _ = data
    coarse = {"nprobe": 1, "rescore": 0}
    exact = built.search_many(q, 10, mode="exact")
    assert ids(built.search_many(q, 10, mode="auto", ann_params=coarse)[0]) == ids(exact[0])
    monkeypatch.setattr(ann_mixin, "AUTO_ANN_MIN_VIDEOS", 1000)
    auto = built.search_many(q, 10, mode="auto", ann_params=coarse)
    approx = built.search_many(q, 10, mode="ann", ann_params=coarse)
    assert [ids(a) for a in auto] == [ids(a) for a in approx]
    assert recall(approx, exact) < 1.0  # nprobe=1 is approximate: auto really took ANN


def test_stale_index_never_returns_deleted_and_finds_new_videos(tmp_path, data):
    x, q, cats = data
    idx = make_index(tmp_path / "stale", x, cats)
    idx.build_ann(nprobe=8)
    assert idx.ann_info()["stale"] is False
    top = ids(idx.search(q[0], 20, mode="exact"))
    idx.delete_videos(top[:5])
    new = (q[1] + 0.01 * np.ones(DIM)).astype(np.float32)
    idx.add_videos(["fresh"], new[None, :], categories=[2])
    # an existing video moved elsewhere: its old vector must not answer for it
    moved = top[10]
    idx.add_videos([moved], q[2][None, :], categories=[2])
    info = idx.ann_info()
    assert info["stale"] is True and info["version"] != str(idx.version)
    hits = ids(idx.search(q[0], 20, mode="ann"))
    assert not set(hits) & set(top[:5])
    assert moved not in hits
    assert ids(idx.search(q[1], 1, mode="ann")) == ["fresh"]
    assert ids(idx.search(q[2], 1, mode="ann")) == [moved]
    filtered = ids(idx.search(q[1], 3, categories=[2], mode="ann"))
    assert filtered[0] == "fresh"
    exact = idx.search_many(q, 10, mode="exact")
    assert recall(idx.search_many(q, 10, mode="ann"), exact) >= 0.95
    reopened = Index.open(tmp_path / "stale")
    assert ids(reopened.search(q[1], 1, mode="ann")) == ["fresh"]
    idx.build_ann(nprobe=8)  # rebuilt: current again
    assert idx.ann_info()["stale"] is False


def test_persisted_and_reopened_without_rebuilding(built, data):
    _, q, _ = data
    reopened = Index.open(built.uri)
    info = reopened.ann_info()
    assert info["kind"] == "faiss-ivf-fp16" and info["params"]["nprobe"] == 8
    assert faiss_ann.STATE_ATTR not in reopened.__dict__
    assert ids(reopened.search(q[3], 10, mode="ann")) == ids(built.search(q[3], 10, mode="ann"))
    assert reopened.__dict__[faiss_ann.STATE_ATTR].manifest["n"] == N
    folder = cache_dir(built.uri) / faiss_ann.ANN_FOLDER
    live = [p.name for p in folder.iterdir() if p.is_dir()]
    assert len(live) == 1 and (folder / live[0] / "index.faiss").stat().st_size > 0


def test_missing_files_are_an_error_for_ann_and_exact_for_auto(tmp_path, data, monkeypatch):
    x, q, cats = data
    idx = make_index(tmp_path / "gone", x[:1000], cats[:1000])
    idx.build_ann()
    import shutil

    shutil.rmtree(cache_dir(idx.uri) / faiss_ann.ANN_FOLDER)
    fresh = Index.open(tmp_path / "gone")
    with pytest.raises(AnnNotBuiltError, match="files are missing.*vtrsearch build-ann"):
        fresh.search(q[0], mode="ann")
    monkeypatch.setattr(ann_mixin, "AUTO_ANN_MIN_VIDEOS", 10)
    assert ids(fresh.search(q[0], mode="auto")) == ids(fresh.search(q[0], mode="exact"))


def test_a_killed_build_leaves_the_previous_index_and_a_rerun_completes(
    tmp_path, data, monkeypatch
):
    x, q, cats = data
    idx = make_index(tmp_path / "kill", x[:2000], cats[:2000])
    idx.build_ann(nlist=20)
    folder = cache_dir(idx.uri) / faiss_ann.ANN_FOLDER
    dead = folder / ".build-999999999-deadbeef"  # a builder killed long ago
    dead.mkdir()
    (dead / "index.faiss").write_bytes(b"half written")

    def killed(path, text):
        raise KeyboardInterrupt  # killed just before the new index goes live

    monkeypatch.setattr(faiss_ann, "_atomic_write", killed)
    with pytest.raises(KeyboardInterrupt):
        idx.build_ann(nlist=40)
    monkeypatch.undo()
    other = Index.open(tmp_path / "kill")
    assert len(other.search(q[0], 10, mode="ann")) == 10
    assert other.__dict__[faiss_ann.STATE_ATTR].manifest["params"]["nlist"] == 20
    idx.build_ann(nlist=40)
    assert not dead.exists()
    # the first and the killed build's folders are young: kept in case a concurrent builder
    # is about to point at one of them
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 3
    monkeypatch.setattr(faiss_ann, "CLEAN_GRACE_S", 0.0)
    idx.build_ann(nlist=40)
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 1
    again = Index.open(tmp_path / "kill")
    again.search(q[0], 10, mode="ann")
    assert again.__dict__[faiss_ann.STATE_ATTR].manifest["params"]["nlist"] == 40
    assert again.ann_info()["params"]["nlist"] == 40


def test_sq8_kind_and_progress(tmp_path, data):
    x, q, cats = data
    idx = make_index(tmp_path / "sq8", x, cats)
    seen = []
    info = idx.build_ann("faiss-ivf-sq8", progress=lambda d, t: seen.append((d, t)))
    assert info["params"]["rescore"] == 4 and seen[-1] == (N, N) and seen[0] == (0, N)
    exact = idx.search_many(q, 10, mode="exact")
    assert recall(idx.search_many(q, 10, mode="ann"), exact) >= 0.95


def test_registry_takes_other_backends():
    class Fake:
        kind = "test-fake"

        def build(self, index, params, progress):
            return dict(params)

        def search(self, index, queries, k, cats, splits, params):
            return [[] for _ in queries]

    register_backend(Fake())
    assert backend_for("test-fake").kind == "test-fake"
    assert "test-fake" in ann_kinds() and "faiss-ivf-sq8" in ann_kinds()
    with pytest.raises(TypeError, match="non-empty str `kind`"):
        register_backend(object())  # type: ignore[arg-type]


def test_cli_build_ann_info_and_search_mode(tmp_path, data, capsys):
    x, q, cats = data
    idx = make_index(tmp_path / "cli", x[:1500], cats[:1500])
    path = str(tmp_path / "cli")
    assert main(["search", path, "--like", "v1", "--mode", "ann"]) == 2
    assert "vtrsearch build-ann" in capsys.readouterr().err
    assert main(["info", path]) == 0
    assert "ann:            none" in capsys.readouterr().out
    assert (
        main(["build-ann", path, "--kind", "faiss-ivf-sq8", "--nlist", "16", "--no-progress"]) == 0
    )
    out = capsys.readouterr().out
    assert "built faiss-ivf-sq8 over 1500 videos" in out and "nlist=16" in out
    assert main(["search", path, "--like", "v1", "--mode", "ann", "-k", "3"]) == 0
    assert "v1" in capsys.readouterr().out
    idx.add_videos(["late"], q[:1], categories=[1])
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert "faiss-ivf-sq8 (" in out and "stale" in out
    assert main(["build-ann", path, "--nlist", "99999"]) == 2


def test_missing_faiss_names_the_extra(tmp_path, monkeypatch):
    import sys

    from vtrsearch.extras import MissingExtraError

    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'vtrsearch\[ann\]'"):
        faiss_state.load_faiss()
