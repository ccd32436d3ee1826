"""``vtrsearch build-ann`` and the ANN lines of ``vtrsearch info``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .args import non_negative_int, positive_int

if TYPE_CHECKING:
    from ..index.index import Index

#: ``--mode`` of ``search`` and ``eval --via-index``.
MODE_CHOICES = ("exact", "ann", "auto")
#: vtrsearch.index.ann.DEFAULT_KIND (not imported: ``vtrsearch --help`` stays instant).
DEFAULT_KIND = "faiss-ivf-pq4fs"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the ``build-ann`` command."""
    p = sub.add_parser(
        "build-ann",
        help="build the index's ANN index (for search --mode ann/auto)",
        description="Build (or rebuild) an approximate nearest-neighbour index over the "
        "index's videos. Its kind and parameters are stored with the index; a killed build "
        "leaves the previous one in use, and running the command again completes it.",
    )
    p.add_argument("index", help="index path or URI")
    p.add_argument(
        "--kind",
        default=DEFAULT_KIND,
        help=f"ANN kind: {DEFAULT_KIND} (default: 4-bit fast-scan codes, float32 rescore), "
        "faiss-ivf-sq8 or faiss-ivf-fp16 (8/16-bit codes, slower to scan)",
    )
    p.add_argument("--nlist", type=positive_int, help="IVF lists (default 2 x sqrt(videos))")
    p.add_argument(
        "--nprobe",
        type=positive_int,
        help="lists scanned per query (default: enough for ~40k vectors)",
    )
    p.add_argument(
        "--rescore",
        type=non_negative_int,
        help="re-score k x N candidates exactly in float32 (default 2 fp16, 4 sq8; 0 = off)",
    )
    p.add_argument("--train-size", type=positive_int, help="k-means training sample size")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def cmd_build_ann(args: argparse.Namespace) -> int:
    """Build the ANN index and print what was stored."""
    from ..index.index import Index

    index = Index.open(args.index, gallery="memory")
    params: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("nlist", "nprobe", "rescore", "train_size")
        if getattr(args, name) is not None
    }
    bar = None
    progress = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(index), unit="vec", desc=f"build {args.kind}", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

    try:
        info = index.build_ann(args.kind, progress=progress, **params)
    finally:
        if bar is not None:
            bar.close()
    print(f"built {info['kind']} over {len(index)} videos (version {info['version']})")
    print("params: " + ", ".join(f"{k}={v}" for k, v in sorted(info["params"].items())))
    return 0


def ann_lines(index: Index) -> list[str]:
    """``info`` lines on the ANN index: kind, parameters, built-from version, stale or not."""
    info = index.ann_info()
    if info is None:
        return ["ann:            none (exact search; `vtrsearch build-ann` builds one)"]
    params = ", ".join(f"{k}={v}" for k, v in sorted(info.get("params", {}).items()))
    state = (
        "stale (videos written since; new ones are searched exactly)"
        if info["stale"]
        else "current"
    )
    return [
        f"ann:            {info['kind']} ({params})",
        f"ann built from: videos version {info.get('version')}, {state}",
    ]
