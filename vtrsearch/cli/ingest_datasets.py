"""``vtrsearch ingest msrvtt|msvd|activitynet``: arguments and handlers.

The three datasets ingest precomputed features the same way (where the features are, which
model made them, videos without any, how frames map to time): one set of arguments and one
report printer serve all three. Only ``argparse`` is imported here; the handlers import the
ingest code when they run.
"""

from __future__ import annotations

import argparse

from .args import positive_int


def add_feature_file_args(p: argparse.ArgumentParser) -> None:
    """``--features`` and ``--feature-ids``: where the precomputed features are."""
    p.add_argument("--features", help="features folder, or one matrix file (.npy/.npz)")
    p.add_argument("--feature-ids", help="id list for a matrix file (txt or JSON)")


def add_feature_write_args(p: argparse.ArgumentParser, fps_default: str) -> None:
    """The models recorded, missing features, frame timing (``fps_default`` says how frames
    are placed without ``--fps``) and the write batch size."""
    p.add_argument(
        "--feature-model", metavar="SPEC", help="model that made the features (default: --encoder)"
    )
    p.add_argument("--encoder", metavar="SPEC", help="query text encoder recorded in the index")
    p.add_argument("--allow-missing", action="store_true", help="skip videos without features")
    p.add_argument(
        "--fps",
        type=float,
        help="frame rate of frame-level (T, D) features: frame j is the segment [j/FPS, "
        f"(j+1)/FPS) s (default: {fps_default})",
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=1000, help="rows per write (default 1000)"
    )


def feature_options(args: argparse.Namespace) -> dict:
    """The keyword arguments every feature-dataset ingest function takes, from ``args``."""
    return dict(
        features=args.features,
        feature_ids=args.feature_ids,
        allow_missing=args.allow_missing,
        feature_model=args.feature_model or args.encoder,
        encoder=args.encoder,
        fps=args.fps,
        batch_size=args.batch_size,
    )


def print_ingest_report(report) -> int:
    """Print an ingest report's summary and the first videos skipped for lack of features."""
    print(report.summary())
    if report.skipped_missing:
        print("skipped (no features): " + ", ".join(report.skipped_missing[:20]))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index path or URI (created if new)")
    add_feature_file_args(p)
    add_feature_write_args(p, fps_default="frames spread uniformly over the video")


def add_parsers(isub: argparse._SubParsersAction) -> None:
    """Register ``msrvtt``, ``msvd`` and ``activitynet`` on the ``ingest`` subcommands."""
    m = isub.add_parser("msrvtt", help="MSR-VTT layout: annotation JSON, category.txt, features")
    m.add_argument("root", help="dataset folder (or the annotation JSON itself)")
    m.add_argument("--index", required=True, help="index path or URI (created if new)")
    m.add_argument("--split", help="only this split (videodatainfo) / label for a 1k-A list")
    add_feature_file_args(m)
    m.add_argument("--annotations", help="annotation JSON (default: found in ROOT)")
    m.add_argument("--categories", help="category.txt (default: ROOT/category.txt or MSR-VTT)")
    add_feature_write_args(m, fps_default="frames spread over each video's annotated start..end")

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


def cmd_ingest_msrvtt(args: argparse.Namespace) -> int:
    """``vtrsearch ingest msrvtt``."""
    from ..ingest import ingest_msrvtt

    return print_ingest_report(
        ingest_msrvtt(
            args.root,
            args.index,
            annotations=args.annotations,
            category_file=args.categories,
            split=args.split,
            **feature_options(args),
        )
    )


def cmd_ingest_msvd(args: argparse.Namespace) -> int:
    """``vtrsearch ingest msvd``."""
    from ..ingest.msvd import ingest_msvd

    return print_ingest_report(
        ingest_msvd(
            args.root,
            args.index,
            captions=args.captions,
            language=args.language,
            split=args.split,
            **feature_options(args),
        )
    )


def cmd_ingest_activitynet(args: argparse.Namespace) -> int:
    """``vtrsearch ingest activitynet``."""
    from ..ingest.activitynet import ingest_activitynet

    splits = [s.strip() for s in args.split.split(",") if s.strip()] if args.split else None
    return print_ingest_report(
        ingest_activitynet(args.root, args.index, splits=splits, **feature_options(args))
    )


HANDLERS = {
    "msrvtt": cmd_ingest_msrvtt,
    "msvd": cmd_ingest_msvd,
    "activitynet": cmd_ingest_activitynet,
}
