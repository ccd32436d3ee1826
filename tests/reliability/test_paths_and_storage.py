"""Reliability, files (issue 11, items 3 and 12): ids never pick files outside their folder,
and commands that only read never create storage.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from vtrsearch import Index, IngestError, load_encoder
from vtrsearch.plots import figure
from vtrsearch.plots.cases import keyframe_path

LONG_ID = "v" * 300  # longer than NAME_MAX (255) of every common file system


def _image(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(len(str(path))).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def keyframes(tmp_path):
    """keyframes/v1/ inside the folder; secret/ beside it; keyframes/link -> secret/."""
    root = tmp_path / "frames"
    _image(root / "keyframes" / "v1" / "000.jpg")
    _image(tmp_path / "secret" / "000.jpg")
    os.symlink(tmp_path / "secret", root / "keyframes" / "link")
    return root


# item 3 ------------------------------------------------------------------------------------
def test_keyframe_lookup_stays_inside_the_keyframes_folder(keyframes, tmp_path):
    """Ids such as an absolute path, ../x or a symlink out of the folder find no image."""
    assert keyframe_path(keyframes, "v1") == (keyframes / "keyframes" / "v1" / "000.jpg")
    for vid in (str(tmp_path / "secret"), "../../secret", "../secret", "link", "/etc", ".."):
        assert keyframe_path(keyframes, vid) is None, vid
    assert keyframe_path(keyframes, LONG_ID) is None  # ENAMETOOLONG raised before


def test_tui_media_lookup_stays_beside_the_index(tmp_path):
    """The TUI listed '/etc/ (137 files)' for a video whose id is /etc."""
    from vtrsearch.tui.engine import media_paths

    uri = tmp_path / "idx"
    uri.mkdir()
    (tmp_path / "keyframes" / "v1").mkdir(parents=True)
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "v1.mp4").write_bytes(b"clip")
    (tmp_path / "outside.mp4").write_bytes(b"not media of the index")
    assert media_paths(str(uri), "v1") == [
        f"{tmp_path / 'keyframes' / 'v1'}/ (0 files)",
        str(tmp_path / "videos" / "v1.mp4"),
    ]
    for vid in ("/etc", "../../etc", "../outside", "/", LONG_ID):
        assert media_paths(str(uri), vid) == [], vid


def test_served_media_lookup_survives_too_long_ids(tmp_path):
    """vtrsearch serve's /media lookup: a too-long id is 'no media', not an OSError."""
    pytest.importorskip("fastapi")
    from vtrsearch.serve.media import find_media

    (tmp_path / "v1.mp4").write_bytes(b"clip")
    assert find_media(tmp_path, "v1") == (tmp_path / "v1.mp4", "video/mp4")
    for vid in (LONG_ID, "../v1", "/etc/passwd"):
        assert find_media(tmp_path, vid) is None


def test_report_with_a_too_long_id_writes_every_figure(tmp_path, keyframes, monkeypatch):
    """An id longer than the file system allows aborted `report --keyframes` half-way
    (figures written, no metrics.json); now every figure and metrics.json are written."""
    from vtrsearch.eval import evaluate_index
    from vtrsearch.plots.report import write_report

    monkeypatch.setattr(figure, "DPI", 50)
    texts = [
        "a dog runs on a beach",
        "a man cooks pasta",
        "a band plays on stage",
        "a car drives at night",
        "a child paints a wall",
        "two people dance",
    ]
    ids = ["v1", LONG_ID, "../secret", "v4", "v5", "v6"]
    index = Index.create(
        str(tmp_path / "idx"), dim=384, encoder="hf:minilm", feature_model="hf:minilm"
    )
    index.add_videos(ids, load_encoder("hf:minilm").encode(texts), categories=[0] * 6)
    index.add_captions([f"c{i}" for i in range(6)], ids, texts)
    report = evaluate_index(index, split=None, progress=False)
    skipped: list[str] = []
    files = write_report(
        index, tmp_path / "out", report=report, split=None, keyframes_dir=keyframes, skipped=skipped
    )
    names = {p.name for p in files}
    assert "metrics.json" in names and "success_case_examples.png" in names
    assert (tmp_path / "out" / "metrics.json").is_file()
    assert not any("success" in s for s in skipped), skipped


# item 12 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        ["info"],
        ["search", "--like", "v1"],
        ["eval"],
        ["report", "--out", "{tmp}/report"],
        ["train", "--out", "{tmp}/head"],
        ["migrate", "{tmp}/copy"],
        ["tui"],
    ],
)
def test_read_only_commands_create_no_lancedb_storage(tmp_path, command):
    """Commands given a LanceDB path that does not exist (also through '..'), an empty
    folder or a file create nothing (no index, no outputs) and say there is no index."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "afile").write_text("not an index")
    before = sorted(p for p in tmp_path.rglob("*"))
    args = [a.format(tmp=tmp_path) for a in command[1:]]
    missing = (tmp_path / "no" / "idx", tmp_path / "empty" / ".." / "other")
    for uri in (*missing, tmp_path / "empty", tmp_path / "afile"):
        out = subprocess.run(
            [sys.executable, "-m", "vtrsearch", command[0], str(uri), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
        said = "is a file, not" if uri.name == "afile" else "no vtrsearch index"
        assert out.returncode == 2 and said in out.stderr, out.stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_frames_ingest_with_a_bad_category_creates_no_index(tmp_path):
    """Frames ingest checked --category only when writing the first chunk, after creating
    the index: an empty index stayed behind."""
    from helpers.tiny_models import save_tiny_open_clip

    from vtrsearch.ingest.frames import ingest_frames

    spec, _ = save_tiny_open_clip(tmp_path / "oc", name="vtr-tiny-frames-rel")
    _image(tmp_path / "media" / "keyframes" / "v1" / "000.jpg")
    with pytest.raises(IngestError, match="unknown category 'no-such-category'"):
        ingest_frames(
            tmp_path / "media",
            str(tmp_path / "idx"),
            image_encoder=spec,
            category="no-such-category",
            progress=False,
        )
    assert not (tmp_path / "idx").exists()
