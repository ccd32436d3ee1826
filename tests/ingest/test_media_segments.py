"""Segments from media: the five real MSR-VTT clips cut by time, by frames and by shots."""

from __future__ import annotations

import io
import math
import shutil

import av
import numpy as np
import pytest
from PIL import Image

from vtrsearch import Index, IngestError
from vtrsearch.ingest.frames import ingest_frames
from vtrsearch.ingest.media import FrameOptions, segment_media
from vtrsearch.ingest.segmenting import parse_segments


def _durations(folder) -> dict[str, tuple[float, int]]:
    """Each clip's duration (stream header) and decoded frame count, read with PyAV."""
    out = {}
    for path in sorted(folder.glob("*.mp4")):
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            out[path.stem] = (float(s.duration * s.time_base), sum(1 for _ in c.decode(s)))
    return out


@pytest.fixture(scope="module")
def fixed_index(tmp_path_factory, sample_videos_dir, tiny_image_spec):
    tmp = tmp_path_factory.mktemp("fixed")
    shutil.copytree(sample_videos_dir, tmp / "media" / "videos")
    report = ingest_frames(
        tmp / "media", tmp / "idx", image_encoder=tiny_image_spec, category=0, progress=False
    )
    return report, Index.open(tmp / "idx"), tmp


def _assert_tiles(segments, duration):
    assert segments[0].start == 0.0 and [s.segment for s in segments] == list(range(len(segments)))
    for a, b in zip(segments[:-1], segments[1:], strict=True):
        assert a.end == b.start and a.start < a.end
    assert segments[-1].end == pytest.approx(duration, abs=1e-9)


def test_fixed_2s_segments_tile_each_clips_duration(fixed_index, sample_videos_dir):
    report, index, _ = fixed_index
    durations = _durations(sample_videos_dir)
    assert report.videos == 5 and report.failed == {}
    assert report.segments == sum(math.ceil(d / 2.0) for d, _ in durations.values())
    for vid, (duration, _) in durations.items():
        segments = index.segments(vid)
        assert len(segments) == math.ceil(duration / 2.0)
        _assert_tiles(segments, duration)
        assert all(s.end - s.start == 2.0 for s in segments[:-1])
        for s in segments:
            img = Image.open(io.BytesIO(s.thumbnail))
            assert img.format == "JPEG" and img.width == 160 and 100 < img.height < 130
        # the video's vector is the mean of its (unit) segment vectors
        mean = np.stack([s.vector for s in segments]).mean(axis=0)
        assert np.allclose(index.get(vid).vector, mean / np.linalg.norm(mean), atol=1e-5)


def test_rerun_skips_done_videos_and_redoes_one_without_segments(fixed_index, tiny_image_spec):
    _, index, tmp = fixed_index
    before = {v: [s.vector for s in index.segments(v)] for v in index.gallery().ids.tolist()}
    index.delete_segments("video740")  # as if a run died between the video and its segments
    report = ingest_frames(
        tmp / "media", tmp / "idx", image_encoder=tiny_image_spec, category=0, progress=False
    )
    assert (report.videos, report.skipped_existing) == (1, 4)
    again = Index.open(tmp / "idx")
    assert again.store.count("videos") == 5
    assert again.store.count("segments") == sum(len(v) for v in before.values())
    got = np.stack([s.vector for s in again.segments("video740")])
    assert np.allclose(got, np.stack(before["video740"]), atol=1e-6)


def test_shots_find_the_cuts_of_the_real_clips(sample_videos_dir):
    durations = _durations(sample_videos_dir)
    options = FrameOptions(segments=parse_segments("shots"))
    for vid, (duration, _) in durations.items():
        video = segment_media(vid, sample_videos_dir / f"{vid}.mp4", options)
        assert len(video.starts) >= 1 and video.ends[-1] == pytest.approx(duration)
        assert np.array_equal(video.starts[1:], video.ends[:-1])
        assert np.array_equal(np.unique(video.frame_segment), np.arange(len(video.starts)))
    # video3696: orchestra -> drum close-up at 3.0 s, back at 7.0 s, wide choir shot at 8.67 s
    cuts = segment_media("v", sample_videos_dir / "video3696.mp4", options).starts[1:]
    assert np.allclose(cuts, [3.0, 7.0, 26 / 3], atol=1e-6)
    # a threshold above any frame difference finds no cut: one shot spanning the clip
    calm = FrameOptions(segments=parse_segments("shots", shot_threshold=255))
    one = segment_media("v", sample_videos_dir / "video3696.mp4", calm)
    assert one.starts.tolist() == [0.0] and one.ends[-1] == pytest.approx(35 / 3)


def test_fixed_frames_and_sampling_rate(sample_videos_dir):
    durations = _durations(sample_videos_dir)
    duration, frames = durations["video1085"]
    path = sample_videos_dir / "video1085.mp4"
    by_frames = segment_media("v", path, FrameOptions(segments=parse_segments("fixed:16frames")))
    assert len(by_frames.starts) == math.ceil(frames / 16)  # 59 frames at 3 fps
    assert np.allclose(by_frames.starts, np.arange(4) * 16 / 3)
    dense = segment_media("v", path, FrameOptions(sample_fps=6.0))
    sparse = segment_media("v", path, FrameOptions(sample_fps=0.1))
    assert len(dense.frames) == frames  # sampling faster than the clip (3 fps) keeps all
    # at 0.1 fps most segments have no grid frame and are represented by their first frame
    assert len(sparse.frames) == len(sparse.starts) == math.ceil(duration / 2)
    assert sparse.frames.shape[1:] == (224, 298, 3)


def test_bad_segment_specs_are_refused_before_anything_is_written(tmp_path, sample_videos_dir):
    for bad in ("fixed:0s", "fixed:2", "fixed:2.5frames", "scenes", "fixed:-1s"):
        with pytest.raises(IngestError, match="fixed:<"):
            parse_segments(bad)
    with pytest.raises(IngestError, match="sample_fps"):
        FrameOptions(sample_fps=0)
    with pytest.raises(IngestError, match="unknown segments 'every 2s'"):
        ingest_frames(
            sample_videos_dir,
            tmp_path / "idx",
            image_encoder="open_clip:ViT-B-32/missing.safetensors",
            category=0,
            segments="every 2s",
            progress=False,
        )
    assert not (tmp_path / "idx").exists()
