"""MSR-VTT ingest: both annotation formats, feature layouts, idempotence, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from vtrsearch import DimensionMismatchError, Index, IngestError, InvalidVectorError
from vtrsearch.ingest import ingest_msrvtt


def _features_for_1k(json_path: Path, folder: Path, dim: int = 24, seed: int = 0) -> list[dict]:
    entries = json.loads(json_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for e in entries:
        np.save(folder / f"{e['video_id']}.npy", rng.normal(size=dim).astype(np.float32))
    return entries


@pytest.fixture(scope="module")
def real_1k(tmp_path_factory, msrvtt_1k_json):
    root = tmp_path_factory.mktemp("msrvtt1k")
    shutil.copy(msrvtt_1k_json, root / "msrvtt_test_1k.json")
    entries = _features_for_1k(root / "msrvtt_test_1k.json", root / "clip-features-vit-h14")
    return root, entries


def test_real_1k_a_file(real_1k, tmp_path):
    root, entries = real_1k
    report = ingest_msrvtt(root, tmp_path / "idx", feature_model="test", progress=False)
    assert (report.videos, report.captions) == (1000, 1000)
    index = Index.open(tmp_path / "idx")
    assert len(index) == 1000 and index.splits() == {"test": 1000}
    counts = {c.id: c.count for c in index.categories()}
    for cid in range(20):
        assert counts[cid] == sum(1 for e in entries if e["category"] == cid)
    first = entries[0]
    video = index.get(first["video_id"])
    assert video.captions == (first["caption"],)
    assert video.start == first["start time"] and video.url == first["url"]
    # the stored vector is the normalised feature file
    raw = np.load(root / "clip-features-vit-h14" / f"{first['video_id']}.npy")
    assert np.allclose(video.vector, raw / np.linalg.norm(raw), atol=1e-6)


def test_videodatainfo_with_split_and_reingest(synthetic_root, tmp_path):
    info = json.loads((synthetic_root / "synthetic_videodatainfo.json").read_text())
    n_test = sum(v["split"] == "test" for v in info["videos"])
    ingest_msrvtt(synthetic_root, tmp_path / "idx", split="test", progress=False)
    index = Index.open(tmp_path / "idx")
    assert len(index) == n_test and set(index.splits()) == {"test"}
    report = ingest_msrvtt(synthetic_root, tmp_path / "idx", progress=False)
    assert report.videos == 120 and report.captions == 360
    again = ingest_msrvtt(synthetic_root, tmp_path / "idx", progress=False)
    assert again.videos == 120
    assert index.store.count("videos") == 120 and index.store.count("captions") == 360


def test_interrupted_ingest_rerun_ends_complete(synthetic_root, tmp_path):
    def kill(done: int, total: int) -> None:
        if done >= 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_msrvtt(
            synthetic_root, tmp_path / "idx", batch_size=25, on_batch=kill, progress=False
        )
    index = Index.open(tmp_path / "idx")
    assert index.store.count("videos") == 50 and index.store.count("captions") == 0
    ingest_msrvtt(synthetic_root, tmp_path / "idx", batch_size=25, progress=False)
    videos = index.store.scan("videos", columns=["video_id"])["video_id"].to_pylist()
    captions = index.store.scan("captions", columns=["sen_id"])["sen_id"].to_pylist()
    assert sorted(videos) == sorted(f"video{i}" for i in range(120)) and len(set(videos)) == 120
    assert len(captions) == len(set(captions)) == 360


@pytest.mark.parametrize("layout", ["npz", "pt", "frames", "matrix-npy", "matrix-npz"])
def test_feature_layouts(synthetic_root, tmp_path, layout):
    import torch

    src = synthetic_root / "features"
    ids = sorted(p.stem for p in src.glob("*.npy"))
    vecs = {i: np.load(src / f"{i}.npy") for i in ids}
    feats = tmp_path / "feats"
    feats.mkdir()
    ids_file = None
    if layout == "npz":
        for i, v in vecs.items():
            np.savez(feats / f"{i}.npz", features=v)
    elif layout == "pt":
        for i, v in vecs.items():
            torch.save(torch.from_numpy(v), feats / f"{i}.pt")
    elif layout == "frames":  # T x D frame features, mean-pooled
        for i, v in vecs.items():
            np.save(feats / f"{i}.npy", np.stack([v + 1.0, v - 1.0, v]))
    elif layout == "matrix-npy":
        feats = tmp_path / "all.npy"
        np.save(feats, np.stack([vecs[i] for i in ids]))
        ids_file = tmp_path / "ids.txt"
        ids_file.write_text("\n".join(ids))
    else:
        feats = tmp_path / "all.npz"
        np.savez(feats, features=np.stack([vecs[i] for i in ids]), ids=np.array(ids))
    ingest_msrvtt(
        synthetic_root, tmp_path / "idx", features=feats, feature_ids=ids_file, progress=False
    )
    index = Index.open(tmp_path / "idx")
    assert len(index) == 120
    v = vecs["video7"]
    assert np.allclose(index.get("video7").vector, v / np.linalg.norm(v), atol=1e-5)


def _copy(root: Path, dst: Path) -> Path:
    shutil.copytree(root, dst)
    return dst


def test_missing_features_listed_or_skipped(synthetic_root, tmp_path):
    root = _copy(synthetic_root, tmp_path / "ds")
    (root / "features" / "video3.npy").unlink()
    (root / "features" / "video77.npy").unlink()
    with pytest.raises(IngestError, match=r"2 video\(s\) have no feature file: video3, video77"):
        ingest_msrvtt(root, tmp_path / "idx", progress=False)
    assert not (tmp_path / "idx").exists() or len(Index.open(tmp_path / "idx")) == 0
    report = ingest_msrvtt(root, tmp_path / "idx", allow_missing=True, progress=False)
    assert report.videos == 118 and report.skipped_missing == ["video3", "video77"]
    assert "video3" not in Index.open(tmp_path / "idx")


def test_bad_inputs_name_the_problem_and_write_nothing(synthetic_root, tmp_path):
    ingest_msrvtt(synthetic_root, tmp_path / "idx", progress=False)
    index = Index.open(tmp_path / "idx")
    version = index.store.version("videos")

    root = _copy(synthetic_root, tmp_path / "dim")
    np.save(root / "features" / "video9.npy", np.ones(31, dtype=np.float32))
    with pytest.raises(DimensionMismatchError, match=r"video9 .*dimension 31, expected 32"):
        ingest_msrvtt(root, tmp_path / "idx", progress=False)

    root = _copy(synthetic_root, tmp_path / "nan")
    bad = np.load(root / "features" / "video5.npy")
    bad[3] = np.nan
    np.save(root / "features" / "video5.npy", bad)
    np.save(root / "features" / "video6.npy", np.full(32, np.inf, dtype=np.float32))
    with pytest.raises(InvalidVectorError, match=r"2 video\(s\): video5 .*video6"):
        ingest_msrvtt(root, tmp_path / "idx", progress=False)

    root = _copy(synthetic_root, tmp_path / "json")
    ann = root / "synthetic_videodatainfo.json"
    ann.write_text(ann.read_text()[:500] + "\n  ,]")
    with pytest.raises(
        IngestError, match=r"synthetic_videodatainfo.json: malformed JSON at line \d+, column \d+"
    ):
        ingest_msrvtt(root, tmp_path / "idx", progress=False)

    root = _copy(synthetic_root, tmp_path / "cat")
    (root / "category.txt").write_text("music\t0\npeople one\n")
    with pytest.raises(IngestError, match=r"category.txt, line 2: expected 'name<TAB>id'"):
        ingest_msrvtt(root, tmp_path / "idx", progress=False)

    root = _copy(synthetic_root, tmp_path / "field")
    data = json.loads((root / "synthetic_videodatainfo.json").read_text())
    del data["videos"][4]["category"]
    (root / "synthetic_videodatainfo.json").write_text(json.dumps(data))
    with pytest.raises(IngestError, match=r"videos\[4\] \(video video4\) has no 'category' field"):
        ingest_msrvtt(root, tmp_path / "idx", progress=False)

    with pytest.raises(IngestError, match="MSR-VTT root not found"):
        ingest_msrvtt(tmp_path / "nowhere", tmp_path / "idx", progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IngestError, match="expected one annotation JSON"):
        ingest_msrvtt(empty, tmp_path / "idx", progress=False)
    corrupt = _copy(synthetic_root, tmp_path / "corrupt")
    (corrupt / "features" / "video2.npy").write_bytes(b"not numpy at all")
    with pytest.raises(IngestError, match=r"video2.npy: cannot read features"):
        ingest_msrvtt(corrupt, tmp_path / "idx", progress=False)

    assert index.store.version("videos") == version and len(index) == 120


def test_pickled_feature_files_are_refused(synthetic_root, tmp_path):
    root = _copy(synthetic_root, tmp_path / "pkl")
    np.save(
        root / "features" / "video1.npy", np.array([{"evil": 1}], dtype=object), allow_pickle=True
    )
    with pytest.raises(IngestError, match="video1.npy: cannot read features"):
        ingest_msrvtt(root, tmp_path / "idx", progress=False)
