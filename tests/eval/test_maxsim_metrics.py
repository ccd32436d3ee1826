"""MaxSim ranks (eval.metrics.maxsim_ranks) against a numpy brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest

from vtrsearch.eval.metrics import TIES, maxsim_ranks, retrieval_ranks
from vtrsearch.eval.metrics import counting as C  # engine knobs patched below
from vtrsearch.eval.metrics import maxsim as MS

pytestmark = pytest.mark.filterwarnings("ignore:.*have no captions:UserWarning")
TIE_WEIGHT = {"average": 0.5, "optimistic": 0.0, "pessimistic": 1.0}


def brute_force(text, segments, segment_video, cv, ties):
    """Full caption x video MaxSim matrix, then explicit counting per query."""
    n_videos = int(segment_video.max()) + 1
    seg_scores = text.astype(np.float64) @ segments.astype(np.float64).T
    sim = np.stack([seg_scores[:, segment_video == v].max(axis=1) for v in range(n_videos)], axis=1)
    w = TIE_WEIGHT[ties]
    n = len(cv)
    gt = sim[np.arange(n), cv]
    others = np.ones_like(sim, dtype=bool)
    others[np.arange(n), cv] = False
    t2v = 1 + ((sim > gt[:, None]) & others).sum(1) + w * ((sim == gt[:, None]) & others).sum(1)
    v2t, index = [], []
    for v in range(n_videos):
        own = cv == v
        if not own.any():
            continue
        ref = sim[own, v].max()
        col = sim[~own, v]
        v2t.append(1 + (col > ref).sum() + w * (col == ref).sum())
        index.append(v)
    return t2v.astype(float), np.array(v2t, dtype=float), np.array(index)


def grouped(rng, n_videos, max_segments, d, integer=False):
    counts = rng.integers(1, max_segments + 1, size=n_videos)
    segment_video = np.repeat(np.arange(n_videos), counts)
    shape = (len(segment_video), d)
    if integer:  # small integers: every score exact in float32, many ties
        segments = rng.integers(-2, 3, size=shape).astype(np.float32)
    else:
        segments = rng.normal(size=shape).astype(np.float32)
    return segments, segment_video


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize("integer", [False, True])
def test_maxsim_ranks_equal_brute_force(rng, ties, integer):
    d, n_videos = 12, 40
    segments, segment_video = grouped(rng, n_videos, 6, d, integer)
    # every video but the last three has captions
    cv = rng.permutation(np.r_[np.arange(n_videos - 3), rng.integers(0, n_videos - 3, 113)])
    if integer:
        text = rng.integers(-2, 3, size=(150, d)).astype(np.float32)
    else:
        text = rng.normal(size=(150, d)).astype(np.float32)
    t2v, v2t, index = brute_force(text, segments, segment_video, cv, ties)
    for chunk in (7, 4096):
        got = maxsim_ranks(text, segments, segment_video, cv, ties=ties, chunk_size=chunk)
        np.testing.assert_array_equal(got["t2v"], t2v)
        np.testing.assert_array_equal(got["v2t"], v2t)
        np.testing.assert_array_equal(got["v2t_video_index"], index)
        np.testing.assert_array_equal(got["v2t_excluded"], [37, 38, 39])
    if integer:  # ties are really exercised
        assert np.any(t2v != np.floor(t2v)) or ties != "average"


def test_maxsim_blocks_and_bracket_fallback(rng, monkeypatch):
    """Tiny score blocks (many chunks) and a crowded bracket (exact second pass) agree."""
    segments, segment_video = grouped(rng, 30, 5, 8, integer=True)
    text = rng.integers(-2, 3, size=(90, 8)).astype(np.float32)
    cv = rng.integers(0, 30, size=90)
    t2v, v2t, _ = brute_force(text, segments, segment_video, cv, "average")
    monkeypatch.setattr(MS, "BLOCK_BYTES", 4 * len(segments) * 3)  # 3 captions per block
    monkeypatch.setattr(MS, "PAIR_BLOCK", 8 * 5)  # own estimates a few captions at a time
    chunks = []
    got = maxsim_ranks(text, segments, segment_video, cv, progress=lambda e, n: chunks.append(e))
    assert chunks == list(range(3, 91, 3))  # one pass: the bracket held every reference
    np.testing.assert_array_equal(got["t2v"], t2v)
    np.testing.assert_array_equal(got["v2t"], v2t)
    monkeypatch.setattr(C, "_BAND_CAP", 1)  # the bracket overflows: exact second pass
    chunks.clear()
    got = maxsim_ranks(text, segments, segment_video, cv, progress=lambda e, n: chunks.append(e))
    assert chunks == list(range(3, 91, 3)) * 2
    np.testing.assert_array_equal(got["v2t"], v2t)


def test_one_segment_per_video_is_the_mean_path(rng):
    video = rng.normal(size=(25, 16)).astype(np.float32)
    text = rng.normal(size=(60, 16)).astype(np.float32)
    cv = rng.integers(0, 25, size=60)
    plain = retrieval_ranks(text, video, cv)
    pooled = maxsim_ranks(text, video, np.arange(25), cv)
    for key in ("t2v", "v2t", "v2t_video_index"):
        np.testing.assert_array_equal(pooled[key], plain[key])


def test_one_direction(rng):
    segments, segment_video = grouped(rng, 10, 3, 8)
    text = rng.normal(size=(20, 8)).astype(np.float32)
    cv = rng.integers(0, 10, size=20)
    assert set(maxsim_ranks(text, segments, segment_video, cv, directions=("t2v",))) == {"t2v"}
    only = maxsim_ranks(text, segments, segment_video, cv, directions=("v2t",))
    assert "t2v" not in only and len(only["v2t"]) == len(set(cv.tolist()))


def test_own_max_scores(rng):
    segments, segment_video = grouped(rng, 10, 4, 8)
    text = rng.normal(size=(30, 8)).astype(np.float32)
    cv = rng.integers(0, 10, size=30)
    expected = [max(text[i] @ segments[segment_video == cv[i]].T) for i in range(30)]
    np.testing.assert_allclose(
        MS.own_max_scores(text, segments, segment_video, cv), expected, rtol=1e-5
    )


@pytest.mark.parametrize(
    ("segment_video", "message"),
    [
        ([0, 0, 2, 2], "row 2 has video 2 after video 0"),
        ([1, 1, 2, 2], "row 0 has video 1"),
        ([0, 1, 0, 1], "row 2 has video 0 after video 1"),
        ([0, 1, 1], "one entry per segment"),
    ],
)
def test_bad_segment_layout(rng, segment_video, message):
    segments = rng.normal(size=(4, 8)).astype(np.float32)
    text = rng.normal(size=(3, 8)).astype(np.float32)
    with pytest.raises(ValueError, match=message):
        maxsim_ranks(text, segments, np.array(segment_video), np.array([0, 1, 0]))


def test_bad_values(rng):
    segments = rng.normal(size=(4, 8)).astype(np.float32)
    text = rng.normal(size=(3, 8)).astype(np.float32)
    sv = np.array([0, 0, 1, 1])
    bad = segments.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="segments contains NaN or inf"):
        maxsim_ranks(text, bad, sv, np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="caption_video values must be in"):
        maxsim_ranks(text, segments, sv, np.array([0, 2, 0]))
    with pytest.raises(ValueError, match="dimensions differ"):
        maxsim_ranks(text[:, :4], segments, sv, np.array([0, 1, 0]))
