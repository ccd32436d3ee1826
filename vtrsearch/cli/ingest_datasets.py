"""``vtrsearch ingest msvd`` and ``vtrsearch ingest activitynet``: arguments and handlers.

Only ``argparse`` is imported here; the handlers import the ingest code when they run.
"""

from __future__ import annotations

import argparse


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index path or URI (created if new)")
    p.add_argument("--features", help="features folder, or one matrix file (.npy/.npz)")
    p.add_argument("--feature-ids", help="id list for a matrix file (txt or JSON)")
    p.add_argument(
        "--feature-model", metavar="SPEC", help="model that made the features (default: --encoder)"
    )
    p.add_argument("--encoder", metavar="SPEC", help="query text encoder recorded in the index")
    p.add_argument("--allow-missing", action="store_true", help="skip videos without features")
    p.add_argument(
        "--fps",
        type=float,
        help="frame rate of frame-level (T, D) features: frame j is the segment [j/FPS, "
        "(j+1)/FPS) s (default: frames spread uniformly over the video)",
    )
    p.add_argument("--batch-size", type=int, default=1000, help="rows per write (default 1000)")


def add_parsers(isub: argparse._SubParsersAction) -> None:
    """Register ``msvd`` and ``activitynet`` on the ``ingest`` subcommands ``isub``."""
    p = isub.add_parser(
        "msvd",
        help="MSVD: corpus CSV, split lists, features per clip",
        description="Ingest MSVD from ROOT: 'MSR Video Description Corpus.csv' (or --captions), "
        "train_list.txt/val_list.txt/test_list.txt (or their .json forms, or splits.json) and "
        "one *feat* folder with <VideoID>_<Start>_<End>.npy files. Pickles are refused.",
    )
    p.add_argument("root", help="dataset folder (or the corpus CSV itself)")
    p.add_argument("--captions", help="corpus CSV or JSON caption map (default: found in ROOT)")
    p.add_argument(
        "--language",
        default="English",
        help="keep captions in this language (CSV Language column; 'all' keeps every row; "
        "default English)",
    )
    p.add_argument("--split", help="only this split (train, val or test)")
    _common(p)

    p = isub.add_parser(
        "activitynet",
        help="ActivityNet Captions: train/val_1/val_2 JSON with timestamps, features",
        description="Ingest ActivityNet Captions from ROOT (or ROOT/captions): train.json, "
        "val_1.json, val_2.json; each sentence keeps its start/end. (T, D) features become "
        "segments over the video's duration.",
    )
    p.add_argument("root", help="dataset folder")
    p.add_argument(
        "--split",
        help="comma-separated annotation files to ingest (default train,val_1; val_1 and val_2 "
        "annotate the same videos, so an index holds one of them)",
    )
    _common(p)


def _print(report) -> int:
    print(report.summary())
    if report.skipped_missing:
        print("skipped (no features): " + ", ".join(report.skipped_missing[:20]))
    return 0


def cmd_ingest_msvd(args: argparse.Namespace) -> int:
    """``vtrsearch ingest msvd``."""
    from ..ingest.msvd import ingest_msvd

    return _print(
        ingest_msvd(
            args.root,
            args.index,
            captions=args.captions,
            language=args.language,
            split=args.split,
            features=args.features,
            feature_ids=args.feature_ids,
            allow_missing=args.allow_missing,
            feature_model=args.feature_model or args.encoder,
            encoder=args.encoder,
            fps=args.fps,
            batch_size=args.batch_size,
        )
    )


def cmd_ingest_activitynet(args: argparse.Namespace) -> int:
    """``vtrsearch ingest activitynet``."""
    from ..ingest.activitynet import ingest_activitynet

    splits = [s.strip() for s in args.split.split(",") if s.strip()] if args.split else None
    return _print(
        ingest_activitynet(
            args.root,
            args.index,
            splits=splits,
            features=args.features,
            feature_ids=args.feature_ids,
            allow_missing=args.allow_missing,
            feature_model=args.feature_model or args.encoder,
            encoder=args.encoder,
            fps=args.fps,
            batch_size=args.batch_size,
        )
    )


HANDLERS = {"msvd": cmd_ingest_msvd, "activitynet": cmd_ingest_activitynet}
