"""Reliability, ids and inputs (issue 11, items 7, 8, 9 and 13).

Nothing is silently coerced: a bad id, category, split, url, time or feature file is refused
with the file/row named, and the stored data stays as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from vtrsearch import Index, IngestError
from vtrsearch.ingest import ingest_msrvtt

DIM = 8


@pytest.fixture
def index(tmp_path) -> Index:
    idx = Index.create(str(tmp_path / "idx"), dim=DIM, categories=["music", "people"])
    rng = np.random.default_rng(0)
    idx.add_videos(["video0", "v", "i", "d"], rng.normal(size=(4, DIM)), categories=[0] * 4)
    return idx


def _dataset(root, entries: list[dict], files: dict[str, np.ndarray] | None = None):
    """A 1k-A style annotation list plus a features folder (one .npy per video)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ann.json").write_text(json.dumps(entries))
    feats = root / "feats"
    feats.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for e in entries:
        np.save(feats / f"{e['video_id']}.npy", rng.normal(size=DIM).astype(np.float32))
    for name, array in (files or {}).items():
        np.save(feats / name, array)
    return root / "ann.json", feats


def _entries(n: int = 3, **extra) -> list[dict]:
    return [
        {"video_id": f"video{i}", "caption": f"caption {i}", "category": 0} | extra
        for i in range(n)
    ]


# item 7 ------------------------------------------------------------------------------------
def test_duplicate_ids_in_feature_ids_are_refused(tmp_path):
    """Item 7: an id listed twice in --feature-ids would give a video another row's vector."""
    ann, _ = _dataset(tmp_path / "ds", _entries(3))
    np.save(tmp_path / "mat.npy", np.random.default_rng(1).normal(size=(4, DIM)))
    (tmp_path / "ids.txt").write_text("video0\nvideo1\nvideo2\nvideo1\n")
    with pytest.raises(IngestError, match=r"ids.txt: video ids listed more than once: video1"):
        ingest_msrvtt(
            tmp_path / "ds",
            str(tmp_path / "idx"),
            annotations=ann,
            features=tmp_path / "mat.npy",
            feature_ids=tmp_path / "ids.txt",
            progress=False,
        )
    assert not (tmp_path / "idx").exists()


# item 8 ------------------------------------------------------------------------------------
def test_delete_videos_takes_one_id_as_a_string(index):
    """Item 8: delete_videos("video0") deletes video0, not the videos "v", "i", "d", ..."""
    index.delete_videos("video0")
    assert sorted(index.gallery().ids.tolist()) == ["d", "i", "v"]
    index.delete_videos(["v", "i"])
    assert index.gallery().ids.tolist() == ["d"]
    with pytest.raises(TypeError, match="not bytes"):
        index.delete_videos(b"d")


# item 9 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [None, b"video9", "", "   ", " padded", "tab\there", 1.5, True])
def test_bad_ids_are_refused_not_stringified(index, bad):
    """Item 9: None/bytes/empty/blank/padded ids are refused, never stored as text."""
    with pytest.raises(ValueError, match=r"invalid video ids: row 1"):
        index.add_videos(["ok", bad], np.ones((2, DIM)), categories=[0, 0])
    with pytest.raises(ValueError, match=r"invalid (sen_ids|caption video ids): row 0"):
        index.add_captions([bad], ["video0"], ["text"])
    with pytest.raises(ValueError, match="invalid caption video ids: row 0"):
        index.add_captions(["s0"], [bad], ["text"])
    assert "ok" not in index and len(index) == 4
    assert index.caption_table().num_rows == 0


def test_whole_number_ids_are_stored_as_text(index):
    """Item 9, the documented rule: an int id is stored as its decimal text."""
    index.add_videos([7], np.ones((1, DIM)), categories=[0])
    assert "7" in index


@pytest.mark.parametrize("bad", [1.7, True])
def test_categories_are_never_rounded(index, bad):
    """Item 9: category 1.7 or True does not become 1."""
    with pytest.raises(ValueError, match="video x"):
        index.add_videos(["x"], np.ones((1, DIM)), categories=[bad])
    assert "x" not in index
    index.add_videos(["y"], np.ones((1, DIM)), categories=[1.0])  # a pandas float column
    assert index.get("y").category == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", {"href": "http://x"}, "field 'url' must be text"),
        ("split", ["train"], "field 'split' must be text"),
        ("start time", "inf", "field 'start time' must be a finite time"),
        ("end time", float("nan"), "field 'end time' must be a finite time"),
        ("category", "no-such-category", "categories not in the category list"),
        ("video_id", " ", "not a usable id"),
    ],
)
def test_annotation_values_are_checked_not_stringified(tmp_path, field, value, message):
    """Item 9: url dicts, split lists, infinite times, unknown category names and blank ids
    in an annotation file fail naming the file and the video; nothing is created."""
    entries = _entries(2)
    entries[1][field] = value
    ann, feats = _dataset(tmp_path / "ds", entries[:1])
    ann.write_text(json.dumps(entries))
    with pytest.raises(IngestError, match=message) as err:
        ingest_msrvtt(
            tmp_path / "ds",
            str(tmp_path / "idx"),
            annotations=ann,
            features=feats,
            allow_missing=True,
            progress=False,
        )
    assert "ann.json" in str(err.value) and ("video1" in str(err.value) or field == "video_id")
    assert not (tmp_path / "idx").exists()


def test_category_names_in_annotations_are_resolved(tmp_path):
    """Item 9: a category given by name is looked up in the category list (documented rule)."""
    entries = _entries(2)
    entries[0]["category"], entries[1]["category"] = "people", "3"
    ann, feats = _dataset(tmp_path / "ds", entries)
    ingest_msrvtt(
        tmp_path / "ds", str(tmp_path / "idx"), annotations=ann, features=feats, progress=False
    )
    index = Index.open(str(tmp_path / "idx"))
    assert index.get("video0").category_name == "people" and index.get("video1").category == 3


def test_two_feature_files_for_one_video_are_refused(tmp_path):
    """Item 9: with both video1.npy and video1.npz the choice depended on directory order."""
    ann, feats = _dataset(tmp_path / "ds", _entries(2))
    np.savez(feats / "video1.npz", features=np.ones(DIM, np.float32))
    with pytest.raises(
        IngestError,
        match=r"more than one feature file \(video1: video1.npy, "
        r"video1.npz\)",
    ):
        ingest_msrvtt(
            tmp_path / "ds", str(tmp_path / "idx"), annotations=ann, features=feats, progress=False
        )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_named_like_a_feature_file_does_not_hang(tmp_path):
    """Item 9: a FIFO named video1.npy blocked ingest forever; now it is refused at once."""
    ann, feats = _dataset(tmp_path / "ds", _entries(2))
    (feats / "video1.npy").unlink()
    os.mkfifo(feats / "video1.npy")
    argv = [
        "ingest",
        "msrvtt",
        str(tmp_path / "ds"),
        "--annotations",
        str(ann),
        "--features",
        str(feats),
        "--index",
        str(tmp_path / "idx"),
    ]
    try:
        out = subprocess.run(
            [sys.executable, "-m", "vtrsearch", *argv], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("ingest hung on a FIFO")
    assert out.returncode == 2
    assert "video1.npy is not a regular file" in out.stderr


# item 13 -----------------------------------------------------------------------------------
def test_a_write_sees_videos_another_handle_just_added(index):
    """Item 13: add_captions checks the store, not a gallery cached less than 1 s ago."""
    other = Index.open(index.uri)
    assert len(other) == 4  # its gallery is now cached
    index.add_videos(["fresh"], np.ones((1, DIM)), categories=[0])
    assert other.add_captions(["fresh#0"], ["fresh"], ["a fresh caption"]) == 1
    assert index.captions("fresh") == ["a fresh caption"]
