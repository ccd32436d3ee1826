"""Moments from the command line and in the synthetic (demo) data: planted events are found."""

from __future__ import annotations

import pytest

from vtrsearch import Index
from vtrsearch.cli.main import main
from vtrsearch.ingest import ingest_msrvtt
from vtrsearch.ingest.synthetic import write_synthetic_msrvtt
from vtrsearch.ingest.synthetic_moments import EVENTS, event_vectors, read_planted
from vtrsearch.tables import clock, span


@pytest.fixture(scope="module")
def moments_index(tmp_path_factory):
    root = write_synthetic_msrvtt(
        tmp_path_factory.mktemp("frames"), num_videos=60, dim=24, seed=5, frames_per_video=8
    )
    uri = root.parent / "idx"
    ingest_msrvtt(root, uri, feature_model="synthetic", progress=False)
    return root, str(uri)


def test_planted_events_are_the_top_moments(moments_index):
    root, uri = moments_index
    index = Index.open(uri)
    planted = read_planted(root)
    assert [p.video_id for p in planted] == [
        "video3",
        "video13",
        "video23",
        "video33",
        "video43",
        "video53",
    ]
    events = event_vectors(None, lambda x: x, 24, seed=5)
    for p in planted:
        top = index.search_moments(events[EVENTS.index(p.text)], k=3)[0]
        assert top.video_id == p.video_id and p.first <= top.segment < p.first + p.count
        seg = index.segments(p.video_id)[top.segment]
        assert (top.start, top.end) == (seg.start, seg.end)
        # MaxSim ranks the video first, by that moment
        by_max = index.search(events[EVENTS.index(p.text)], k=1, pool="max")[0]
        assert (by_max.video_id, by_max.segment) == (p.video_id, top.segment)


def test_search_moments_and_max_pool_from_the_cli(moments_index, capsys):
    _, uri = moments_index
    index = Index.open(uri)
    args = ["search", uri, "--like", "video7", "--moments", "--per-video", "2", "-k", "6"]
    assert main(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["rank", "video", "start\u2013end", "score", "category"]
    rows = [line.split() for line in lines[2:]]
    expected = index.search_moments(index.get("video7").vector, k=6, per_video=2)
    assert [(r[1], r[2]) for r in rows] == [(m.video_id, span(m.start, m.end)) for m in expected]
    videos = [r[1] for r in rows]
    assert len(rows) == 6 and max(videos.count(v) for v in videos) == 2
    assert main(["search", uri, "--like", "video7", "--pool", "max", "-k", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    hit = index.search(index.get("video7").vector, k=1, pool="max")[0]
    assert "best moment" in out[0] and out[2].split()[1] == hit.video_id
    assert out[2].split()[-1] == span(hit.start, hit.end)


def test_moments_need_segments(synthetic_root, tmp_path, capsys):
    uri = str(tmp_path / "clip-level")
    ingest_msrvtt(synthetic_root, uri, progress=False)
    assert main(["search", uri, "--like", "video1", "--moments"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "segment" in err and len(err.strip().splitlines()) == 1


def test_clock_times():
    assert clock(0) == "00:00.0" and clock(221.77) == "03:41.8"
    assert clock(3725.04) == "1:02:05.0" and span(12, 14.25) == "00:12.0\u201300:14.2"
    assert clock(59.96) == "01:00.0"  # rounds into the next minute
