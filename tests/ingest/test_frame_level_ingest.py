"""Frame-level (T, D) features: every frame becomes a segment with uniform times."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vtrsearch import Index, IngestError, InvalidVectorError
from vtrsearch.cli.main import main
from vtrsearch.ingest import ingest_msrvtt

DIM = 16
#: video id -> (number of frames or None for a clip-level vector, start, end)
VIDEOS = {
    "video0": (5, 10.0, 20.0),
    "video1": (1, 0.0, 3.5),
    "video2": (8, 100.25, 112.75),
    "video3": (None, 4.0, 9.0),
}


def _write_dataset(root: Path, videos=VIDEOS, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    entries = [
        {
            "video_id": vid,
            "caption": f"caption of {vid}",
            "category": i % 20,
            "url": f"https://example.invalid/{vid}",
            "start time": start,
            "end time": end,
        }
        for i, (vid, (_, start, end)) in enumerate(videos.items())
    ]
    root.mkdir(parents=True, exist_ok=True)
    (root / "msrvtt_test_1k.json").write_text(json.dumps(entries))
    feats = root / "features"
    feats.mkdir(exist_ok=True)
    arrays = {}
    for vid, (frames, _, _) in videos.items():
        shape = (DIM,) if frames is None else (frames, DIM)
        arrays[vid] = rng.normal(size=shape).astype(np.float32)
        np.save(feats / f"{vid}.npy", arrays[vid])
    return arrays


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_frames_become_segments_with_uniform_times(tmp_path):
    arrays = _write_dataset(tmp_path / "data")
    report = ingest_msrvtt(tmp_path / "data", tmp_path / "idx", feature_model="t", progress=False)
    assert (report.videos, report.segments) == (4, 5 + 1 + 8)
    index = Index.open(tmp_path / "idx")
    for vid, (frames, start, end) in VIDEOS.items():
        segments = index.segments(vid)
        video = index.get(vid)
        if frames is None:
            assert segments == []
            assert np.allclose(video.vector, _unit(arrays[vid]), atol=1e-6)
            continue
        assert [s.segment for s in segments] == list(range(frames))
        edges = start + (end - start) * np.arange(frames + 1) / frames
        assert np.allclose([s.start for s in segments], edges[:-1], atol=1e-9)
        assert np.allclose([s.end for s in segments], edges[1:], atol=1e-9)
        assert segments[-1].end == pytest.approx(end) and segments[0].start == start
        got = np.stack([s.vector for s in segments])
        assert np.allclose(got, _unit(arrays[vid]), atol=1e-6)
        # the pooled vector is the mean of the frames, as before segments existed
        assert np.allclose(video.vector, _unit(arrays[vid].mean(axis=0)), atol=1e-6)
    # moment search finds a frame by its own vector, with its time
    top = index.search_moments(arrays["video2"][6], k=1)[0]
    assert (top.video_id, top.segment) == ("video2", 6)
    assert top.start == pytest.approx(100.25 + 6 * 12.5 / 8)


def test_rerun_replaces_segments_without_stale_or_duplicate_rows(tmp_path):
    _write_dataset(tmp_path / "data")
    ingest_msrvtt(tmp_path / "data", tmp_path / "idx", progress=False)
    # video0 now has 3 frames instead of 5; video2 turns clip-level; video3 turns frame-level
    changed = dict(VIDEOS, video0=(3, 10.0, 20.0), video2=(None, 100.25, 112.75))
    changed["video3"] = (2, 4.0, 9.0)
    _write_dataset(tmp_path / "data", changed, seed=1)
    report = ingest_msrvtt(tmp_path / "data", tmp_path / "idx", progress=False)
    index = Index.open(tmp_path / "idx")
    assert report.segments == 3 + 1 + 2
    assert [len(index.segments(v)) for v in VIDEOS] == [3, 1, 0, 2]
    assert index.store.count("segments") == 6 and index.store.count("videos") == 4
    assert [s.end for s in index.segments("video3")] == [6.5, 9.0]


def test_killed_run_rerun_ends_with_each_segment_once(tmp_path):
    _write_dataset(tmp_path / "data")

    def kill(done: int, total: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_msrvtt(
            tmp_path / "data", tmp_path / "idx", batch_size=2, on_batch=kill, progress=False
        )
    index = Index.open(tmp_path / "idx")
    assert index.store.count("videos") == 2 and index.store.count("segments") == 6
    ingest_msrvtt(tmp_path / "data", tmp_path / "idx", batch_size=2, progress=False)
    keys = index.store.scan("segments", columns=["video_id", "segment"]).to_pylist()
    assert len(keys) == 14 and len({(k["video_id"], k["segment"]) for k in keys}) == 14


def test_fps_places_frames_from_zero_via_cli(tmp_path, capsys):
    _write_dataset(tmp_path / "data")
    rc = main(
        ["ingest", "msrvtt", str(tmp_path / "data"), "--index", str(tmp_path / "idx"), "--fps", "2"]
    )
    assert rc == 0 and "14 frame segments" in capsys.readouterr().out
    segments = Index.open(tmp_path / "idx").segments("video2")
    assert [(s.start, s.end) for s in segments[:3]] == [(0.0, 0.5), (0.5, 1.0), (1.0, 1.5)]
    assert segments[-1].end == 4.0


def test_frame_matrix_file_keeps_frames(tmp_path):
    _write_dataset(tmp_path / "data")
    rng = np.random.default_rng(3)
    mat = rng.normal(size=(4, 6, DIM)).astype(np.float32)
    np.savez(tmp_path / "frames.npz", features=mat, ids=np.array(list(VIDEOS)))
    ingest_msrvtt(
        tmp_path / "data", tmp_path / "idx", features=tmp_path / "frames.npz", progress=False
    )
    index = Index.open(tmp_path / "idx")
    assert [len(index.segments(v)) for v in VIDEOS] == [6, 6, 6, 6]
    got = np.stack([s.vector for s in index.segments("video3")])
    assert np.allclose(got, _unit(mat[3]), atol=1e-6)


def test_bad_frame_input_writes_nothing(tmp_path):
    arrays = _write_dataset(tmp_path / "data")
    # a zero frame cannot become a segment: named by video and frame, before any write
    bad = arrays["video2"].copy()
    bad[4] = 0
    np.save(tmp_path / "data" / "features" / "video2.npy", bad)
    with pytest.raises(InvalidVectorError, match=r"video2 .*frame 4 of 8"):
        ingest_msrvtt(tmp_path / "data", tmp_path / "idx", progress=False)
    assert not (tmp_path / "idx").exists()
    np.save(tmp_path / "data" / "features" / "video2.npy", arrays["video2"])
    # frame-level features without times (and no --fps) are refused, naming the video
    entries = json.loads((tmp_path / "data" / "msrvtt_test_1k.json").read_text())
    del entries[0]["end time"]
    (tmp_path / "data" / "msrvtt_test_1k.json").write_text(json.dumps(entries))
    with pytest.raises(IngestError, match=r"video0 \(start 10.0, end None\).*--fps"):
        ingest_msrvtt(tmp_path / "data", tmp_path / "idx", progress=False)
    assert not (tmp_path / "idx").exists()
    ingest_msrvtt(tmp_path / "data", tmp_path / "idx", fps=3.0, progress=False)
    assert Index.open(tmp_path / "idx").store.count("segments") == 14
