"""Video features from media: the five real MSR-VTT clips through a tiny OpenCLIP image tower."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers.sample_media import media_folder

from vtrsearch import Index, IngestError
from vtrsearch.cli.main import main
from vtrsearch.ingest.frames import ingest_frames


@pytest.fixture(scope="module")
def tiny_spec(tiny_image_spec):
    return tiny_image_spec


@pytest.fixture
def media(tmp_path, sample_videos_dir):
    return media_folder(tmp_path / "media", sample_videos_dir, [(255, 0, 0), (0, 255, 0)])


def test_real_clips_encoded_end_to_end(media, tmp_path, tiny_spec):
    report = ingest_frames(
        media,
        tmp_path / "idx",
        image_encoder=tiny_spec,
        category="music",
        split="test",
        progress=False,
    )
    real = {p.stem for p in (media / "videos").glob("video*.mp4")} - {"video9999"}
    assert report.videos == len(real) + 1 == 6
    assert list(report.failed) == ["video9999"] and "video9999.mp4" in report.failed["video9999"]
    index = Index.open(tmp_path / "idx")
    assert set(index.gallery().ids.tolist()) == real | {"video5000"}
    assert index.feature_model == tiny_spec and index.dim == 32
    vecs = index.gallery().vectors
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert len({tuple(np.round(v, 4)) for v in vecs}) == 6  # distinct clips, distinct vectors
    # two keyframes at the default 1 fps: one 2 s segment
    assert [(s.start, s.end) for s in index.segments("video5000")] == [(0.0, 2.0)]
    # re-running skips what is stored: resumable, no duplicates
    again = ingest_frames(
        media,
        tmp_path / "idx",
        image_encoder=tiny_spec,
        category="music",
        progress=False,
    )
    assert again.videos == 0 and again.skipped_existing == 6
    assert index.store.count("videos") == 6


def test_corrupt_video_fails_by_name_when_asked(media, tmp_path, tiny_spec):
    with pytest.raises(IngestError, match="video9999"):
        ingest_frames(
            media,
            tmp_path / "idx",
            image_encoder=tiny_spec,
            category=0,
            on_error="fail",
            chunk_size=2,
            progress=False,
        )
    # the chunks before the bad video were written and a re-run with skip completes
    report = ingest_frames(
        media, tmp_path / "idx", image_encoder=tiny_spec, category=0, progress=False
    )
    assert len(Index.open(tmp_path / "idx")) == 6 and report.failed.keys() == {"video9999"}


def test_frames_with_annotations_and_cli(media, tmp_path, tiny_spec, capsys):
    ann = tmp_path / "ann.json"
    ids = sorted(p.stem for p in (media / "videos").glob("*.mp4")) + ["video5000"]
    ann.write_text(
        json.dumps(
            [
                {
                    "video_id": v,
                    "caption": f"caption of {v}",
                    "category": 3,
                    "url": f"u/{v}",
                    "start time": 1.0,
                    "end time": 2.0,
                }
                for v in ids
            ]
        )
    )
    rc = main(
        [
            "ingest",
            "frames",
            str(media),
            "--index",
            str(tmp_path / "idx"),
            "--image-encoder",
            tiny_spec,
            "--annotations",
            str(ann),
            "--segments",
            "shots",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "encoded and wrote 6 videos (" in out and "unreadable: video9999" in out
    index = Index.open(tmp_path / "idx")
    video = index.get("video740")
    assert video.category_name == "sports/actions" and video.split == "test"
    assert video.captions == ("caption of video740",)
