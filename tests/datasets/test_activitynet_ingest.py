"""``ingest activitynet``: sentences keep their moments, features become segments over the
duration; messy timestamps are clipped and counted; one split per video."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vtrsearch import Index, IngestError
from vtrsearch.ingest.activitynet import ingest_activitynet, load_activitynet

DIM = 8


def write_split(root: Path, name: str, videos: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.json").write_text(json.dumps(videos), encoding="utf-8")


def features(root: Path, shapes: dict[str, tuple[int, ...]], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    (root / "features").mkdir(parents=True, exist_ok=True)
    for vid, shape in shapes.items():
        np.save(root / "features" / f"{vid}.npy", rng.normal(size=shape).astype(np.float32))


def _times(index: Index) -> dict[str, tuple[float, float]]:
    t = index.caption_times()
    return {
        s: (a, b)
        for s, a, b in zip(
            t["sen_id"].to_pylist(), t["start"].to_pylist(), t["end"].to_pylist(), strict=True
        )  # fmt: skip
    }


def test_planted_folder(planted_anet, anet_index) -> None:
    index = anet_index
    assert index.splits() == {"train": 8, "val_1": 19}
    assert not index.category_map.has_categories
    vid = planted_anet.val_videos[2]  # C runs past the end: clipped to the duration
    video = index.get(vid)
    assert (video.start, video.end) == (0.0, 100.0)
    assert video.url == f"https://www.youtube.com/watch?v={vid[2:]}"
    times = _times(index)
    assert times[f"{vid}#2"] == (85.0, 100.0)
    assert times[f"{planted_anet.val_videos[4]}#0"][0] == 0.0  # started at -1.5
    segs = index.segments(vid, vectors=False)
    assert len(segs) == 20 and segs[0].start == 0.0 and segs[-1].end == pytest.approx(100.0)
    assert all(b.start == pytest.approx(a.end) for a, b in zip(segs, segs[1:], strict=False))
    overlap = planted_anet.val_videos[1]  # B 7-8 and C 8-10 (frames of 4 s) overlap
    assert times[f"{overlap}#1"] == (28.0, 36.0) and times[f"{overlap}#2"] == (32.0, 44.0)
    three = planted_anet.val_videos[3]
    assert len(index.captions(three)) == 4  # 3 events + the one past the end (blank left out)
    assert f"{three}#4" not in times and f"{three}#3" not in times
    listed = json.loads((planted_anet.root / "captions" / "val_1.json").read_text())
    assert len(listed) == 20 and set(listed) - set(index.gallery().ids.tolist()) == {
        v for v in listed if v not in planted_anet.val_videos
    }  # the one video without features was skipped


def test_default_splits_and_val_2_alone(planted_anet) -> None:
    ann, notes = load_activitynet(planted_anet.root)
    assert {v.split for v in ann.videos} == {"train", "val_1"}
    assert "3 timestamps outside [0, duration] were clipped to it" in notes
    assert "1 blank sentences were left out" in notes
    ann2, _ = load_activitynet(planted_anet.root, ["val_2"])
    assert {v.split for v in ann2.videos} == {"val_2"} and len(ann2.videos) == 20
    with pytest.raises(IngestError, match="is in both val_1.json and val_2.json"):
        load_activitynet(planted_anet.root, ["val_1", "val_2"])
    with pytest.raises(IngestError, match="unknown split.*test.*train, val_1, val_2"):
        load_activitynet(planted_anet.root, ["test"])


def test_val_2_into_a_val_1_index_is_refused(planted_anet, tmp_path) -> None:
    uri = tmp_path / "idx"
    ingest_activitynet(planted_anet.root, uri, splits=["val_1"], allow_missing=True,
                       progress=False)  # fmt: skip
    before = Index.open(uri).store.count("captions")
    with pytest.raises(IngestError, match="already in split 'val_1'.*index of its own"):
        ingest_activitynet(planted_anet.root, uri, splits=["val_2"], allow_missing=True,
                           progress=False)  # fmt: skip
    assert Index.open(uri).store.count("captions") == before


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"duration": 10, "timestamps": [[0, 1]], "sentences": []}, "1 timestamps but 0 sent"),
        ({"duration": 0, "timestamps": [], "sentences": []}, "duration must be positive"),
        ({"timestamps": [], "sentences": []}, "has no 'duration' field"),
        ({"duration": 9, "timestamps": [[0]], "sentences": ["x"]}, "sentence 0: timestamp must"),
        ({"duration": 9, "timestamps": [[0, "b"]], "sentences": ["x"]}, "0: end is not a num"),
        ({"duration": 9, "timestamps": [[0, 2]], "sentences": [3]}, "sentence 0: not text"),
    ],
)
def test_bad_entries_name_file_and_video(tmp_path, entry, message) -> None:
    write_split(tmp_path, "val_1", {"v_a": entry})
    with pytest.raises(IngestError, match=f"val_1.json: video v_a.*{message}"):
        load_activitynet(tmp_path)


def test_malformed_json_and_missing_files(tmp_path) -> None:
    tmp_path.joinpath("train.json").write_text('{"v_a": {', encoding="utf-8")
    with pytest.raises(IngestError, match="train.json: malformed JSON at line 1"):
        load_activitynet(tmp_path)
    with pytest.raises(IngestError, match="val_2.json not found"):
        load_activitynet(tmp_path, ["val_2"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="none of train.json, val_1.json found"):
        load_activitynet(tmp_path / "empty")
    with pytest.raises(IngestError, match="root not found"):
        load_activitynet(tmp_path / "nowhere")


def test_frames_and_pooled_features(tmp_path) -> None:
    write_split(tmp_path, "val_1", {
        "v_f": {"duration": 30.0, "timestamps": [[3, 9], [6, 40]], "sentences": ["a", "b"]},
        "v_p": {"duration": 12.5, "timestamps": [[0, 2]], "sentences": ["c"]},
    })  # fmt: skip
    features(tmp_path, {"v_f": (6, DIM), "v_p": (DIM,)})
    report = ingest_activitynet(tmp_path, tmp_path / "idx", progress=False)
    assert (report.videos, report.captions, report.segments) == (2, 3, 6)
    index = Index.open(tmp_path / "idx")
    segs = index.segments("v_f", vectors=False)
    assert [(s.start, s.end) for s in segs] == [(5.0 * i, 5.0 * (i + 1)) for i in range(6)]
    assert index.segments("v_p") == []
    assert _times(index) == {"v_f#0": (3.0, 9.0), "v_f#1": (6.0, 30.0), "v_p#0": (0.0, 2.0)}
    # --fps places frames at j/fps instead of spreading them over the duration
    ingest_activitynet(tmp_path, tmp_path / "idx2", fps=0.5, progress=False)
    assert Index.open(tmp_path / "idx2").segments("v_f", vectors=False)[1].start == 2.0


def test_missing_features_and_rerun(tmp_path) -> None:
    write_split(tmp_path, "train", {
        f"v_{i}": {"duration": 20.0, "timestamps": [[0, 5], [5, 20]], "sentences": ["x", "y"]}
        for i in range(5)
    })  # fmt: skip
    features(tmp_path, {f"v_{i}": (4, DIM) for i in range(4)})
    with pytest.raises(IngestError, match=r"1 video\(s\) have no feature file: v_4"):
        ingest_activitynet(tmp_path, tmp_path / "idx", progress=False)
    assert not (tmp_path / "idx").exists()
    for _ in range(2):
        report = ingest_activitynet(tmp_path, tmp_path / "idx", allow_missing=True,
                                    batch_size=3, progress=False)  # fmt: skip
        assert report.skipped_missing == ["v_4"]
    index = Index.open(tmp_path / "idx")
    assert len(index) == 4 and index.store.count("captions") == 8
    assert index.caption_times().num_rows == 8 and index.store.count("segments") == 16


def test_reversed_timestamps_keep_the_sentence_without_times(tmp_path) -> None:
    write_split(tmp_path, "val_1", {
        "v_r": {"duration": 20.0, "timestamps": [[9, 4], [2, 6]], "sentences": ["b", "a"]},
    })  # fmt: skip
    ann, notes = load_activitynet(tmp_path)
    assert [s for s, _, _ in ann.captions] == ["v_r#0", "v_r#1"]
    assert ann.caption_times == {"v_r#1": (2.0, 6.0)}
    assert any("1 sentences have no moment left after clipping (empty or reversed)" in n
               for n in notes)  # fmt: skip
