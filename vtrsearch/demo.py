"""``vtrsearch demo``: the offline end-to-end tour on synthetic MSR-VTT-style data.

CLI layer: it imports :mod:`vtrsearch.ingest` lazily.
"""

from __future__ import annotations

import time
from pathlib import Path


def _say(text: str) -> None:
    print(text, flush=True)


def run_demo(directory: str | Path, num_videos: int = 600, seed: int = 0) -> int:
    """Write a synthetic dataset, ingest it into embedded LanceDB and run filtered searches."""
    from .display import hits_table
    from .index import Index
    from .ingest import ingest_msrvtt
    from .ingest.synthetic import write_synthetic_msrvtt

    started = time.perf_counter()
    root = Path(directory)
    data_dir = root / "synthetic-msrvtt"
    index_dir = root / "index"
    _say(f"== 1. writing SYNTHETIC MSR-VTT-style data to {data_dir}")
    write_synthetic_msrvtt(data_dir, num_videos=num_videos, seed=seed)
    _say("   synthetic_videodatainfo.json, category.txt, features/<video_id>.npy (512-d)")

    _say(f"== 2. ingesting into embedded LanceDB at {index_dir}")
    report = ingest_msrvtt(
        data_dir, index_dir, feature_model="synthetic:category-centres-512", progress=False
    )
    _say("   " + report.summary())
    index = Index.open(index_dir)
    _say(f"   {index!r}: {len(index)} videos, splits {index.splits()}")

    probe = index.get("video0")
    assert probe is not None
    _say(f"\n== 3. videos like video0 ({probe.category_name}: {probe.captions[0]!r})")
    _say(hits_table(index.search(probe.vector, k=5)))
    _say("\n== 4. the same query, only 'cooking' and 'food/drink' videos of the test split")
    _say(
        hits_table(
            index.search(probe.vector, k=5, categories=["cooking", "food/drink"], split="test")
        )
    )
    _say("\n== 5. filter values are typed data, never query text:")
    try:
        index.search(probe.vector, categories=["x' OR '1'='1"])
    except ValueError as exc:
        _say(f"   {type(exc).__name__}: {str(exc)[:90]}...")
    _say(
        f"\ndone in {time.perf_counter() - started:.1f} s; try:\n"
        f"  vtrsearch info {index_dir}\n"
        f"  vtrsearch search {index_dir} --like video0 -k 5 --category music"
    )
    return 0
