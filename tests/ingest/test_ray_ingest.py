"""``ingest frames --ray`` on a local Ray instance: same vectors as one process, resumable.

One session-wide Ray instance (``ray_local``, 2 CPUs) serves every test here; each Ray test has
a timeout so a scheduling hang fails instead of stalling the suite.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from helpers.sample_media import media_folder
from helpers.tiny_models import save_tiny_open_clip

from vtrsearch import Index, IngestError
from vtrsearch.cli.main import main
from vtrsearch.ingest.frames import ingest_frames
from vtrsearch.ingest.media import FrameOptions
from vtrsearch.ingest.ray_frames import RayOptions, build_pipeline, plan_actors


@pytest.fixture
def media(tmp_path, sample_videos_dir):
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    return media_folder(tmp_path / "media", sample_videos_dir, colors)


def _segments(index: Index) -> dict[str, list]:
    return {v: index.segments(v) for v in sorted(index.gallery().ids.tolist())}


@pytest.mark.timeout(420)
def test_ray_matches_single_process_and_resumes_after_a_kill(
    ray_local, media, tmp_path, tiny_image_spec, capsys
):
    single = ingest_frames(
        media, tmp_path / "one", image_encoder=tiny_image_spec, category=0, progress=False
    )

    def kill(done: int, total: int) -> None:
        raise KeyboardInterrupt  # the driver dies after its first chunk was written

    with pytest.raises(KeyboardInterrupt):
        ingest_frames(
            media,
            tmp_path / "ray",
            image_encoder=tiny_image_spec,
            category=0,
            chunk_size=2,
            progress=False,
            on_chunk=kill,
            ray="auto",
        )
    partial = Index.open(tmp_path / "ray").store.count("videos")
    assert 0 < partial <= 2
    # the re-run goes through the CLI, with two actors of 0.5 CPU each next to the decoder
    rc = main(
        [
            "ingest",
            "frames",
            str(media),
            "--index",
            str(tmp_path / "ray"),
            "--image-encoder",
            tiny_image_spec,
            "--category",
            "0",
            "--chunk-size",
            "2",
            "--ray",
            "--ray-actors",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and f"({partial} already there)" in out and "unreadable: video9999" in out
    assert single.failed.keys() == {"video9999"}

    one, ray = Index.open(tmp_path / "one"), Index.open(tmp_path / "ray")
    assert ray.store.count("videos") == one.store.count("videos") == 6
    keys = ray.store.scan("segments", columns=["video_id", "segment"]).to_pylist()
    assert len(keys) == len({(k["video_id"], k["segment"]) for k in keys})
    assert len(keys) == one.store.count("segments") == single.segments
    g1, g2 = one.gallery(), ray.gallery()
    row = {v: i for i, v in enumerate(g2.ids.tolist())}
    order = [row[v] for v in g1.ids.tolist()]
    assert np.abs(g1.vectors - g2.vectors[order]).max() <= 1e-5
    s1, s2 = _segments(one), _segments(ray)
    assert s1.keys() == s2.keys()
    for vid in s1:
        assert [(s.start, s.end, s.thumbnail) for s in s1[vid]] == [
            (s.start, s.end, s.thumbnail) for s in s2[vid]
        ]
        diff = np.abs(np.stack([s.vector for s in s1[vid]]) - np.stack([s.vector for s in s2[vid]]))
        assert diff.max() <= 1e-5


@pytest.mark.timeout(240)
def test_an_actor_that_cannot_load_the_model_fails_in_one_line(ray_local, tmp_path, media):
    # the config says the width (the driver loads no weights), the checkpoint is garbage:
    # what a worker node sees when the weights are not where the spec says
    spec, _ = save_tiny_open_clip(tmp_path / "broken")
    (tmp_path / "broken" / "tiny.safetensors").write_bytes(b"not safetensors" * 64)
    with pytest.raises(IngestError, match=r"Ray pipeline failed .*cannot load encoder"):
        ingest_frames(
            media,
            tmp_path / "idx",
            image_encoder=spec,
            category=0,
            progress=False,
            ray="auto",
            ray_options=RayOptions(actor_start_timeout=120),
        )
    assert Index.open(tmp_path / "idx").store.count("videos") == 0


@pytest.mark.timeout(120)
def test_decoding_stays_in_tasks_apart_from_the_actors(ray_local, capsys):
    # one actor of 1 CPU next to 1-CPU decode tasks: resources that Ray would fuse for a map
    plan = plan_actors(2, 0, RayOptions())
    assert plan.cpus_per_actor == plan.decode_cpus == 1.0
    ds = build_pipeline(
        [{"video_id": "v", "path": "v.mp4"}], plan, RayOptions(), "x", FrameOptions(), 8
    )
    ds.explain()
    physical = capsys.readouterr().out.split("Physical Plan (Optimized)")[1]
    assert "TaskPoolMapOperator[FlatMap(_decode_rows)]" in physical
    assert "ActorPoolMapOperator[MapBatches(EncoderActor)]" in physical


def test_actor_plans_never_take_the_cpus_decoding_needs():
    assert plan_actors(2, 0, RayOptions()) == plan_actors(2, 0, RayOptions(actors=1))
    assert plan_actors(2, 0, RayOptions()).cpus_per_actor == 1.0
    two = plan_actors(2, 0, RayOptions(actors=2))
    assert (two.actors, two.cpus_per_actor, two.gpus_per_actor) == (2, 0.5, 0.0)
    gpu = plan_actors(16, 2, RayOptions())
    assert (gpu.actors, gpu.gpus_per_actor, gpu.cpus_per_actor) == (2, 1.0, 1.0)
    assert plan_actors(16, 0, RayOptions()).actors == 8
    with pytest.raises(IngestError, match="wait forever"):
        plan_actors(2, 0, RayOptions(actors=2, cpus_per_actor=1))
    with pytest.raises(IngestError, match="GPU"):
        plan_actors(8, 0, RayOptions(gpus_per_actor=1))
    with pytest.raises(IngestError, match="decoding needs"):
        plan_actors(0.5, 0, RayOptions())


def test_ray_flag_without_ray_names_the_install_command(tmp_path):
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from vtrsearch.cli.main import main\n"
        f"sys.exit(main(['ingest', 'frames', {str(tmp_path)!r}, '--index', "
        f"{str(tmp_path / 'idx')!r}, '--image-encoder', 'open_clip:ViT-B-32/x.pt', "
        "'--category', '0', '--ray']))\n"
    )
    (tmp_path / "v.mp4").write_bytes(b"x")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'vtrsearch[distributed]'" in lines[0]
    assert not (tmp_path / "idx").exists()
