"""``ingest msvd``: the corpus CSV, split lists, features; checked first, idempotent, no pickles.

Small files in the real formats are written per test; the planted folder (39 clips, English,
Spanish and German rows, edge cases) is shared and only read.
"""

from __future__ import annotations

import csv
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from vtrsearch import Index, IngestError
from vtrsearch.ingest import ingest_msrvtt
from vtrsearch.ingest.msvd import ingest_msvd, load_msvd

HEADER = ["VideoID", "Start", "End", "WorkerID", "Source", "AnnotationTime", "Language",
          "Description"]  # fmt: skip
DIM = 8


def write_corpus(root: Path, rows: list[list[str]], name: str = "video_corpus.csv") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / name, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return root / name


def row(video: str, start: int, end: int, lang: str, text: str) -> list[str]:
    return [video, str(start), str(end), "42", "clean", "10", lang, text]


def small_dataset(root: Path, n: int = 6, rng=None) -> list[str]:
    """``n`` clips with 2 English captions each, split lists 3/1/rest, (D,) features."""
    rng = rng or np.random.default_rng(0)
    clips = [(f"-yt{i}_x", i, i + 4) for i in range(n)]
    rows = [row(v, s, e, "English", f"clip {i} caption {k}") for i, (v, s, e) in
            enumerate(clips) for k in range(2)]  # fmt: skip
    write_corpus(root, rows)
    ids = [f"{v}_{s}_{e}" for v, s, e in clips]
    (root / "train_list.txt").write_text("\n".join(ids[:3]) + "\n", encoding="utf-8")
    (root / "val_list.txt").write_text(ids[3] + "\n", encoding="utf-8")
    (root / "test_list.txt").write_text("\n".join(ids[4:]) + "\n", encoding="utf-8")
    (root / "feats").mkdir(exist_ok=True)
    for clip in ids:
        np.save(root / "feats" / f"{clip}.npy", rng.normal(size=DIM).astype(np.float32))
    return ids


def test_planted_folder_ingests_with_its_edge_cases(planted_msvd, msvd_index) -> None:
    index = msvd_index
    assert index.splits() == {"train": 20, "val": 4, "test": 14}
    test_ids = set(index.gallery().ids[index.gallery().split == "test"].tolist())
    assert test_ids == set(planted_msvd.test_clips)
    # ids are <VideoID>_<Start>_<End>, VideoIDs with - and _ kept as written
    clip = planted_msvd.test_clips[0]
    video = index.get(clip)
    assert video is not None and video.url.startswith("https://www.youtube.com/watch?v=")
    assert clip == f"{video.url.rsplit('=', 1)[1]}_{video.start:g}_{video.end:g}"
    # English only: 3 captions per clip, the unquoted-comma row joined back into one caption
    assert len(video.captions) == 3
    comma = [c for v in test_ids for c in index.captions(v) if c.endswith(", indoors, slowly")]
    assert len(comma) == 1
    texts = index.caption_table(columns=["text"])["text"].to_pylist()
    assert not any("escena" in t or "Mann" in t for t in texts)
    spanish_only = planted_msvd.test_clips[-1]
    assert index.captions(spanish_only) == []  # gallery only
    # no categories: one placeholder category, and a clip-level and frame-level mix
    assert not index.category_map.has_categories
    assert index.segments(planted_msvd.test_clips[6])  # clip 30 came as (T, D) frames
    assert not index.segments(planted_msvd.test_clips[0])


def test_language_all_keeps_every_row(planted_msvd, tmp_path) -> None:
    ann, notes = load_msvd(planted_msvd.root, language="all", allow_missing=True)
    langs = {t for _, _, t in ann.captions if "escena" in t}
    assert len(langs) == 39 and not any("rows not in" in n for n in notes)
    spanish, _ = load_msvd(planted_msvd.root, language="spanish", allow_missing=True)
    assert {t for _, _, t in spanish.captions} >= {"un hombre toca la guitarra en la calle"}
    assert not any(t.startswith("a man is slicing") for _, _, t in spanish.captions)


def test_sen_ids_are_stable_and_unique_across_languages(planted_msvd) -> None:
    a, _ = load_msvd(planted_msvd.root, language="all", allow_missing=True)
    b, _ = load_msvd(planted_msvd.root, language="all", allow_missing=True)
    sen = [s for s, _, _ in a.captions]
    assert sen == [s for s, _, _ in b.captions] and len(set(sen)) == len(sen)
    assert all(s.startswith(f"{v}#") for s, v, _ in a.captions)


def test_listed_clip_absent_from_the_csv_is_an_error_naming_it(planted_msvd, tmp_path) -> None:
    with pytest.raises(IngestError, match=r"1 listed clip\(s\) are not in .*--allow-missing"):
        load_msvd(planted_msvd.root)
    root = shutil.copytree(planted_msvd.root, tmp_path / "msvd")
    listed = (root / "test_list.txt").read_text(encoding="utf-8").split()
    (root / "test_list.txt").write_text("\n".join(listed[:-1]), encoding="utf-8")
    with pytest.raises(IngestError, match=r"1 video\(s\) have no feature file: \S+_\d+_\d+;"):
        ingest_msvd(root, tmp_path / "idx", progress=False, split="test")
    assert not (tmp_path / "idx").exists()  # nothing written


def test_split_option_and_json_lists(tmp_path) -> None:
    ids = small_dataset(tmp_path / "d")
    report = ingest_msvd(tmp_path / "d", tmp_path / "idx", split="test", progress=False)
    assert report.videos == 2 and Index.open(tmp_path / "idx").splits() == {"test": 2}
    for name in ("train", "val", "test"):
        (tmp_path / "d" / f"{name}_list.txt").unlink()
    (tmp_path / "d" / "splits.json").write_text(
        json.dumps({"train": ids[:4], "test": ids[4:]}), encoding="utf-8"
    )
    ann, notes = load_msvd(tmp_path / "d")
    assert {v.split for v in ann.videos} == {"train", "test"}
    (tmp_path / "d" / "splits.json").unlink()
    (tmp_path / "d" / "test_list.json").write_text(json.dumps(ids[:2]), encoding="utf-8")
    ann, notes = load_msvd(tmp_path / "d")
    assert [v.video_id for v in ann.videos] == ids[:2]
    assert any("4 clips of video_corpus.csv are in no split list" in n for n in notes)
    with pytest.raises(IngestError, match="unknown split 'val'; the split lists have: test"):
        load_msvd(tmp_path / "d", split="val")


def test_without_lists_every_clip_is_ingested_without_a_split(tmp_path) -> None:
    small_dataset(tmp_path / "d")
    for name in ("train", "val", "test"):
        (tmp_path / "d" / f"{name}_list.txt").unlink()
    ann, notes = load_msvd(tmp_path / "d")
    assert len(ann.videos) == 6 and {v.split for v in ann.videos} == {""}
    assert "no split lists found" in notes[-1]


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ({"train": ["a_0_4", "a_0_4"]}, "clip a_0_4 is listed twice"),
        ({"train": ["a_0_4"], "test": ["a_0_4"]}, "in both split 'train' and 'test'"),
    ],
)
def test_bad_split_lists(tmp_path, lists, message) -> None:
    write_corpus(tmp_path, [row("a", 0, 4, "English", "x")])
    (tmp_path / "splits.json").write_text(json.dumps(lists), encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        load_msvd(tmp_path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a,0,4,1,clean,3,English", "line 2: 7 fields, expected 8"),
        ("a,zero,4,1,clean,3,English,x", "line 2: Start 'zero' is not a number"),
        ("a,5,4,1,clean,3,English,x", "line 2: clip a has Start 5, End 4"),
        (",0,4,1,clean,3,English,x", "line 2: empty VideoID"),
    ],
)
def test_bad_rows_name_the_line(tmp_path, line, message) -> None:
    (tmp_path / "c.csv").write_text(",".join(HEADER) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        load_msvd(tmp_path)


def test_wrong_header_is_refused(tmp_path) -> None:
    (tmp_path / "c.csv").write_text("video,caption\nx,y\n", encoding="utf-8")
    with pytest.raises(IngestError, match="line 1: expected the columns VideoID, Start"):
        load_msvd(tmp_path)


class _Boom:
    """A pickle that, if anyone loaded it, would create a file (it must never be loaded)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickled_captions_are_refused_never_loaded(tmp_path) -> None:
    marker = tmp_path / "unpickled"
    root = tmp_path / "fork"
    root.mkdir()
    (root / "raw-captions.pkl").write_bytes(pickle.dumps({"x": _Boom(marker)}))
    with pytest.raises(IngestError, match="never unpickles.*MSR Video Description Corpus.csv"):
        ingest_msvd(root, tmp_path / "idx", progress=False)
    with pytest.raises(IngestError, match=r"JSON caption map"):
        ingest_msvd(root, tmp_path / "idx", captions=root / "raw-captions.pkl", progress=False)
    assert not marker.exists() and not (tmp_path / "idx").exists()


def test_json_caption_map_with_token_lists(tmp_path) -> None:
    ids = small_dataset(tmp_path / "d")
    (tmp_path / "d" / "video_corpus.csv").unlink()
    caps = {clip: [["a", "dog", "runs"], "a dog is running", " "] for clip in ids}
    (tmp_path / "d" / "raw-captions.json").write_text(json.dumps(caps), encoding="utf-8")
    ann, notes = load_msvd(tmp_path / "d")
    assert [t for s, v, t in ann.captions if v == ids[0]] == ["a dog runs", "a dog is running"]
    assert "6 empty descriptions were left out" in notes


def test_rerun_and_interrupted_run_leave_each_row_once(tmp_path) -> None:
    small_dataset(tmp_path / "d")
    calls = []

    def stop_after_first(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_msvd(tmp_path / "d", tmp_path / "idx", batch_size=2, progress=False,
                    on_batch=stop_after_first)  # fmt: skip
    assert len(Index.open(tmp_path / "idx")) == 2
    for _ in range(2):
        report = ingest_msvd(tmp_path / "d", tmp_path / "idx", batch_size=2, progress=False)
        assert (report.videos, report.captions) == (6, 12)
    index = Index.open(tmp_path / "idx")
    assert len(index) == 6 and index.store.count("captions") == 12


def test_bad_features_write_nothing(tmp_path) -> None:
    ids = small_dataset(tmp_path / "d")
    np.save(tmp_path / "d" / "feats" / f"{ids[2]}.npy", np.full(DIM, np.nan, np.float32))
    with pytest.raises(Exception, match=f"NaN or infinite feature values .*{ids[2]}"):
        ingest_msvd(tmp_path / "d", tmp_path / "idx", progress=False)
    assert not (tmp_path / "idx").exists()


def test_msvd_is_refused_into_an_index_with_categories(tmp_path, synthetic_root) -> None:
    shutil.copytree(synthetic_root, tmp_path / "msrvtt")
    ingest_msrvtt(tmp_path / "msrvtt", tmp_path / "idx", progress=False)
    index = Index.open(tmp_path / "idx")
    small_dataset(tmp_path / "d")
    for f in (tmp_path / "d" / "feats").iterdir():
        np.save(f, np.ones(index.dim, np.float32))
    with pytest.raises(IngestError, match="has no categories but the index's videos have"):
        ingest_msvd(tmp_path / "d", tmp_path / "idx", progress=False)
