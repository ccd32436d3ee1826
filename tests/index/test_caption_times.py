"""Caption times (the moment a caption describes) and moment search inside given videos.

Both stores; an index made without times keeps working, and migration copies the times.
"""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from vtrsearch import Index
from vtrsearch.index.migrate import migrate_index
from vtrsearch.index.schema import CAPTION_TIMES, CAPTIONS_SCHEMA

DIM = 8


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture(params=["lance", "qdrant-memory"])
def index(request, tmp_path) -> Index:
    if request.param == "lance":
        uri = str(tmp_path / "idx")
    else:
        uri = f"qdrant+local://:memory:/t{uuid.uuid4().hex[:10]}"
    idx = Index.create(uri, dim=DIM, categories=["a", "b"])
    rng = np.random.default_rng(0)
    idx.add_videos(["v1", "v2", "v3"], unit(rng.normal(size=(3, DIM))), categories=[0, 1, 0])
    return idx


def _times(index: Index) -> dict[str, tuple[str, float, float]]:
    t = index.caption_times()
    return {
        s: (v, a, b)
        for s, v, a, b in zip(
            t["sen_id"].to_pylist(),
            t["video_id"].to_pylist(),
            t["start"].to_pylist(),
            t["end"].to_pylist(),
            strict=True,
        )
    }


def test_times_are_kept_next_to_captions(index: Index) -> None:
    assert not index.has_caption_times()
    assert index.caption_times().num_rows == 0  # no table yet: an empty answer, not an error
    index.add_captions(
        ["a", "b", "c"],
        ["v1", "v1", "v2"],
        ["a man runs", "he stops", "a dog barks"],
        starts=[0.0, 4.5, None],
        ends=[5.0, 9.25, None],
    )
    assert index.store.table_schema("captions").names == CAPTIONS_SCHEMA.names  # unchanged
    assert _times(index) == {"a": ("v1", 0.0, 5.0), "b": ("v1", 4.5, 9.25)}
    assert index.has_caption_times()
    only_v2 = index.caption_times(["v2", "v3"])
    assert only_v2.num_rows == 0
    # a frame with start/end columns; re-writing "a" without times forgets its times
    frame = pd.DataFrame(
        {
            "sen_id": ["a", "d"],
            "video_id": ["v1", "v3"],
            "text": ["a man runs", "rain"],
            "start": [None, 1.0],
            "end": [None, 2.0],
        }
    )
    index.add_captions(frame)
    assert _times(index) == {"b": ("v1", 4.5, 9.25), "d": ("v3", 1.0, 2.0)}
    assert sorted(index.captions("v1")) == ["a man runs", "he stops"]
    index.delete_videos("v1")
    assert _times(index) == {"d": ("v3", 1.0, 2.0)}


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ([1.0, 2.0], [0.5, 3.0], "0 <= start < end: x"),
        ([-1.0, 2.0], [0.5, 3.0], "0 <= start < end: x"),
        ([1.0, float("inf")], [2.0, 3.0], "y"),
        ([1.0, None], [2.0, 3.0], "caption y: a start time needs an end time"),
        (["1", 2.0], [2.0, 3.0], "caption x: start and end must be numbers"),
    ],
)
def test_bad_times_write_nothing(index: Index, starts, ends, message) -> None:
    with pytest.raises(ValueError, match=message):
        index.add_captions(["x", "y"], ["v1", "v2"], ["t1", "t2"], starts=starts, ends=ends)
    assert index.store.count("captions") == 0
    assert not index.has_caption_times()


def test_one_of_starts_or_ends_is_refused(index: Index) -> None:
    with pytest.raises(ValueError, match="both starts and ends"):
        index.add_captions(["x"], ["v1"], ["t"], starts=[1.0])


def test_old_index_without_times_table_opens_and_migrates(tmp_path) -> None:
    """An index made before caption times: no table; adding times later creates it; migration
    to Qdrant and back copies it."""
    src = Index.create(tmp_path / "src", dim=DIM, categories=["a"])
    src.add_videos(["v1"], unit(np.ones((1, DIM))), categories=[0])
    src.add_captions(["s0"], ["v1"], ["whole clip"])
    assert CAPTION_TIMES not in src.store.list_tables()
    reopened = Index.open(tmp_path / "src")
    reopened.add_captions(["s1"], ["v1"], ["a moment"], starts=[2.0], ends=[3.0])
    assert CAPTION_TIMES in reopened.store.list_tables()
    dst = f"qdrant+local://{tmp_path / 'q'}/m"
    report = migrate_index(tmp_path / "src", dst, progress=False)
    assert CAPTION_TIMES in [t.name for t in report.tables]
    back = migrate_index(dst, tmp_path / "back", progress=False)
    assert back.rows == report.rows
    assert _times(Index.open(tmp_path / "back")) == {"s1": ("v1", 2.0, 3.0)}


def test_search_moments_inside_given_videos(index: Index) -> None:
    rng = np.random.default_rng(3)
    vecs = unit(rng.normal(size=(6, DIM)))
    index.add_segments(
        ["v1", "v1", "v1", "v2", "v2", "v3"],
        [0.0, 2.0, 4.0, 0.0, 3.0, 0.0],
        [2.0, 4.0, 6.0, 3.0, 6.0, 1.0],
        vecs,
    )
    q = vecs[4]  # v2's second segment
    everywhere = index.search_moments(q, k=3, per_video=3)
    assert (everywhere[0].video_id, everywhere[0].start) == ("v2", 3.0)
    inside = index.search_moments(q, k=5, per_video=5, video_ids="v1")
    assert {m.video_id for m in inside} == {"v1"} and len(inside) == 3
    want = np.argsort(-(vecs[:3] @ q), kind="stable")
    assert [m.start for m in inside] == [[0.0, 2.0, 4.0][i] for i in want]
    both = index.search_moments(q, k=5, per_video=5, video_ids=["v1", "v3"], categories=["a"])
    assert {m.video_id for m in both} == {"v1", "v3"}
    assert index.search_moments(q, k=5, video_ids=["v2"], categories=["a"]) == []
    with pytest.raises(ValueError, match="not in the index: nope"):
        index.search_moments(q, video_ids=["nope"])
