"""``vtrsearch eval`` and ``vtrsearch report``: argument wiring and handlers.

Only ``argparse`` is imported here; the handlers import the evaluation and plotting code when
they run, so ``vtrsearch --help`` stays instant. Hook into :mod:`vtrsearch.cli` with
``add_parsers(sub)`` and the ``cmd_eval`` / ``cmd_report`` handlers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

TIES = ("average", "optimistic", "pessimistic")


def _split(value: str) -> str | None:
    """``--split all`` (or an empty value) means every video."""
    return None if value in ("", "all", "ALL") else value


def _ks(value: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--k expects comma-separated ints, got {value!r}"
        ) from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(f"--k expects positive ints, got {value!r}")
    return ks


def _comma_choices(flag: str, allowed: tuple[str, str]) -> Callable[[str], tuple[str, ...]]:
    """An argparse ``type`` for a comma-separated subset of the two ``allowed`` values."""

    def parse(value: str) -> tuple[str, ...]:
        chosen = tuple(v.strip() for v in value.split(",") if v.strip())
        if not chosen or any(c not in allowed for c in chosen):
            a, b = allowed
            raise argparse.ArgumentTypeError(f"{flag} expects {a}, {b} or {a},{b}; got {value!r}")
        return chosen

    return parse


_directions = _comma_choices("--direction", ("t2v", "v2t"))
_pools = _comma_choices("--pool", ("mean", "max"))


def _add_pool_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pool",
        type=_pools,
        default=("mean",),
        metavar="mean,max",
        help="score a video by its pooled vector (mean, default), its best segment (max: "
        "MaxSim, needs segments), or both side by side (mean,max)",
    )


class _Explicit(argparse._StoreAction):
    """Store the value and remember that it was given (``args.explicit``), so a protocol can
    tell its own default split or cut-offs from ones the user asked for."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[override]
        super().__call__(parser, namespace, values, option_string)
        namespace.explicit = {*getattr(namespace, "explicit", ()), self.dest}


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("index", help="index path or URI")
    p.add_argument(
        "--split",
        type=_split,
        default="test",
        action=_Explicit,
        help="split to evaluate: its videos are the gallery, their captions the queries "
        "(default test, or the protocol's; 'all' for every video)",
    )
    p.add_argument("--encoder", metavar="SPEC", help="baseline text encoder (default: the index's)")
    p.add_argument(
        "--head",
        action="append",
        default=[],
        metavar="DIR",
        help="projection head directory or registered name; one row each (repeatable)",
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the ``eval`` and ``report`` subcommands on ``sub``."""
    p = sub.add_parser(
        "eval",
        help="retrieval metrics (R@K, MedR, MeanR) of the index's encoder and heads",
        description="Evaluate text-to-video and video-to-text retrieval on a split: every "
        "caption queries the split's videos. Prints a table; --out DIR writes metrics.json.",
    )
    _add_model_args(p)
    p.add_argument(
        "--direction",
        type=_directions,
        default=("t2v", "v2t"),
        metavar="t2v,v2t",
        help="directions to evaluate (default both)",
    )
    p.add_argument(
        "--ties", choices=TIES, default="average", help="how tied scores count (default average)"
    )
    p.add_argument(
        "--k",
        type=_ks,
        default=(1, 5, 10),
        action=_Explicit,
        metavar="1,5,10",
        help="recall cut-offs (default 1,5,10; 1,5 for activitynet-moments)",
    )
    p.add_argument(
        "--protocol",
        choices=("msvd", "activitynet-paragraph", "activitynet-moments"),
        help="a standard protocol: msvd (test captions vs test clips), activitynet-paragraph "
        "(val_1 paragraphs vs videos), activitynet-moments (val_1 sentences search moments; "
        "R@1/R@5 at IoU 0.3/0.5/0.7, mIoU); named in metrics.json",
    )
    _add_pool_arg(p)
    p.add_argument(
        "--rerank",
        choices=("dsl", "qbnorm"),
        help="also report re-ranked rows: dsl (Dual Softmax, transductive) or qbnorm (QB-Norm)",
    )
    p.add_argument(
        "--qb-bank-split",
        default="train",
        metavar="SPLIT",
        help="split whose captions/videos form the QB-Norm query bank (default train)",
    )
    p.add_argument(
        "--via-index",
        action="store_true",
        help="also answer every query through the search path and report the difference",
    )
    p.add_argument(
        "--mode",
        choices=("exact", "ann", "auto"),
        default="exact",
        help="--via-index: search exactly (default) or through the ANN index (ann, auto): "
        "the R@K difference is then what the approximation costs",
    )
    p.add_argument("--out", metavar="DIR", help="write metrics.json into DIR")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")

    p = sub.add_parser(
        "report",
        help="evaluate and write figures (PNG) and metrics.json",
        description="Run the evaluation and write the report figures, EDA figures and "
        "metrics.json into --out.",
    )
    _add_model_args(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument(
        "--keyframes",
        metavar="DIR",
        help="folder with keyframes/<video_id>/ images, for thumbnails in the example figures "
        "(segment thumbnails stored in the index are used first)",
    )
    _add_pool_arg(p)
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")


def _print_report(report) -> None:
    from ..tables import plain

    s = report.settings
    where = "every video" if s["split"] is None else f"split {s['split']!r}"
    counts = ", ".join(f"{d}: {n} queries" for d, n in s["n_queries"].items())
    pools = s.get("pools") or ["mean"]
    pooling = "" if pools == ["mean"] else f"; pool={','.join(pools)}"
    print(
        plain(
            f"{s['index_uri']} ({where}, {s['n_videos']} videos; {counts}; "
            f"ties={s['ties']}{pooling})"
        )
    )
    print_table(report)
    for note in report.notes:
        print(plain(f"note: {note}"))
    for row in report.rows:
        for note in row.notes:
            print(plain(f"note ({row.label}): {note}"))


def print_table(report) -> None:
    """Print an evaluation's metrics table, then its via-index differences when it has them."""
    print(report.format_table())
    via = report.format_via_index()
    if via:
        print("\nvia index:\n" + via)


def write_metrics(report, out: str | None) -> None:
    """With ``--out DIR``: write the report's ``metrics.json`` into DIR (created) and say so."""
    if out:
        path = Path(out)
        path.mkdir(parents=True, exist_ok=True)
        report.to_json(path / "metrics.json")
        print(f"wrote {path / 'metrics.json'}")


def eval_options(args: argparse.Namespace) -> dict:
    """The options of ``vtrsearch eval`` beyond the model arguments, as ``evaluate_index``
    takes them (the ``msvd`` protocol, a plain evaluation, takes them all too)."""
    return dict(
        directions=args.direction,
        ties=args.ties,
        ks=args.k,
        rerank=args.rerank,
        qb_bank_split=args.qb_bank_split,
        via_index=args.via_index,
        pools=args.pool,
        via_mode=args.mode,
    )


def _evaluate(args: argparse.Namespace, **options):
    """Open the index and evaluate its encoder and ``--head`` heads on ``--split``."""
    from ..eval.run import evaluate_index
    from ..index.index import Index

    index = Index.open(args.index)
    report = evaluate_index(
        index,
        split=args.split,
        encoder=args.encoder,
        heads=args.head,
        progress=not args.quiet,
        **options,
    )
    return index, report


def cmd_eval(args: argparse.Namespace) -> int:
    """``vtrsearch eval``: print the metrics table; write ``metrics.json`` with ``--out``."""
    if args.protocol:
        from .eval_protocols import cmd_protocol

        return cmd_protocol(args)
    _, report = _evaluate(args, **eval_options(args))
    _print_report(report)
    write_metrics(report, args.out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``vtrsearch report``: evaluate, then write every figure and ``metrics.json``."""
    from ..plots import write_report

    index, report = _evaluate(args, pools=args.pool)
    _print_report(report)
    skipped: list[str] = []
    files = write_report(
        index,
        args.out,
        report=report,
        split=args.split,
        keyframes_dir=args.keyframes,
        skipped=skipped,
    )
    print(f"\nwrote {len(files)} files:")
    for path in files:
        print(f"  {path}")
    for reason in skipped:
        print(f"skipped {reason}")
    return 0
