"""Frames ingest throughput: videos/s in one process vs on a local Ray instance, same run.

Usage::

    python bench/ingest_frames.py                      # 5 sample clips x 8 = 40 videos, ViT-B-32
    python bench/ingest_frames.py --copies 4 --model tiny --actors 1 2

The five MSR-VTT sample clips (``../shared/data/msrvtt/sample_videos``, or
``$VTRSEARCH_SHARED_DATA/msrvtt/sample_videos``) are linked ``--copies`` times under new ids.
The image tower is an OpenCLIP architecture with random weights saved to a temp dir (no
download): ``ViT-B-32`` (the compute of the real model) or ``tiny`` (decode-bound). Each run
ingests every video with ``fixed:2s`` segments into a fresh LanceDB index: first in this
process, then with ``--ray`` on ``ray.init(num_cpus=--cpus)`` for each actor count. Prints wall
seconds, videos/s, Ray's start-up time (not in the Ray rows' wall time), the largest difference
between the two paths' video vectors, and the machine's load average before each run. Ray's
actors run torch with one thread per CPU they hold (at least 1); the single process uses
torch's default (all cores) unless ``--torch-threads`` says otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from vtrsearch import Index
from vtrsearch.ingest.frames import ingest_frames
from vtrsearch.ingest.ray_frames import RayOptions
from vtrsearch.tables import format_table

TINY = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2},
}


def sample_videos() -> Path:
    """The shared folder of the five MSR-VTT sample clips."""
    repo = Path(__file__).resolve().parents[1]
    data = Path(os.environ.get("VTRSEARCH_SHARED_DATA", repo.parent / "shared" / "data"))
    folder = data / "msrvtt" / "sample_videos"
    if not any(folder.glob("*.mp4")):
        raise SystemExit(f"no sample clips in {folder}; set VTRSEARCH_SHARED_DATA")
    return folder


def make_media(tmp: Path, copies: int) -> Path:
    """``copies`` symlinks of each sample clip under ``tmp/media/videos``."""
    out = tmp / "media" / "videos"
    out.mkdir(parents=True)
    for clip in sorted(sample_videos().glob("*.mp4")):
        for i in range(copies):
            (out / f"{clip.stem}_{i}.mp4").symlink_to(clip)
    return tmp / "media"


def make_model(tmp: Path, model: str) -> str:
    """An ``open_clip:`` spec for a randomly initialised tower saved as safetensors."""
    import json

    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    if model == "tiny":
        (tmp / "bench-tiny.json").write_text(json.dumps(TINY))
        net, name = open_clip.CLIP(**TINY), "bench-tiny"
    else:
        net, name = open_clip.create_model(model), model
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(tmp / "weights.safetensors"))
    return f"open_clip:{name}/{tmp / 'weights.safetensors'}"


def run(media: Path, uri: Path, spec: str, **ray) -> tuple[float, int, int, float]:
    """Ingest ``media`` into a new index at ``uri``: wall s, videos, segments, load before."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    report = ingest_frames(media, uri, image_encoder=spec, category=0, progress=False, **ray)
    wall = time.perf_counter() - start
    return wall, report.videos, report.segments, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=8, help="copies of each clip (default 8)")
    parser.add_argument("--model", default="ViT-B-32", help="ViT-B-32 (default) or tiny")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance")
    parser.add_argument("--actors", type=int, nargs="+", default=[2], help="actor counts")
    parser.add_argument(
        "--torch-threads",
        type=int,
        help="torch threads of the single-process path (default: torch's own, all cores)",
    )
    args = parser.parse_args()
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    import ray

    with tempfile.TemporaryDirectory(prefix="vtrbench") as name:
        tmp = Path(name)
        media = make_media(tmp, args.copies)
        spec = make_model(tmp, args.model)
        n = len(list((media / "videos").glob("*.mp4")))
        wall, videos, segments, load = run(media, tmp / "one", spec)
        rows = [["single process", "-", f"{wall:.1f}", f"{videos / wall:.2f}", "-", "-", load]]
        started = time.perf_counter()
        ray.init(
            num_cpus=args.cpus,
            num_gpus=0,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            object_store_memory=300 * 1024**2,
            _temp_dir=str(tmp / "ray"),
        )
        init_s = time.perf_counter() - started
        one = Index.open(tmp / "one").gallery()
        for actors in args.actors:
            uri = tmp / f"ray{actors}"
            r_wall, r_videos, r_segments, r_load = run(
                media, uri, spec, ray="auto", ray_options=RayOptions(actors=actors)
            )
            assert (r_videos, r_segments) == (videos, segments)
            other = Index.open(uri).gallery()
            row = {v: i for i, v in enumerate(other.ids.tolist())}
            diff = np.abs(one.vectors - other.vectors[[row[v] for v in one.ids.tolist()]]).max()
            rows.append(
                [
                    f"Ray local, {args.cpus} CPUs",
                    actors,
                    f"{r_wall:.1f}",
                    f"{r_videos / r_wall:.2f}",
                    f"{init_s:.1f}",
                    f"{diff:.1e}",
                    r_load,
                ]
            )
        ray.shutdown()
    import torch

    print(
        f"{n} videos ({args.copies} x 5 MSR-VTT clips), {segments} fixed:2s segments, "
        f"image tower {args.model} (random weights), {os.cpu_count()} CPUs on this machine, "
        f"single-process torch threads {torch.get_num_threads()}"
    )
    print(
        format_table(
            ["path", "actors", "wall s", "videos/s", "ray init s", "max |diff|", "load avg"],
            [[*r[:-1], f"{r[-1]:.1f}"] for r in rows],
        )
    )


if __name__ == "__main__":
    main()
