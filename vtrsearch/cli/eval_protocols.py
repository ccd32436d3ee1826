"""``vtrsearch eval --protocol NAME``: run a standard protocol, print it, write metrics.json."""

from __future__ import annotations

import argparse
from typing import Any

from .eval import eval_options, print_table, write_metrics


def _options(args: argparse.Namespace, explicit: set[str]) -> dict[str, Any]:
    """The protocol function's options from the command line (refusing ones it lacks)."""
    name = args.protocol
    opts: dict[str, Any] = {"progress": not args.quiet}
    if name == "msvd":  # the plain evaluation: every option applies
        opts.update(eval_options(args))
        return opts
    refused = {"--rerank": args.rerank is not None, "--via-index": args.via_index}
    if name == "activitynet-paragraph":
        opts.update(directions=args.direction, ties=args.ties, ks=args.k, pools=args.pool)
    else:  # moments: sentences search moments (t2v only), ranked as search_moments ranks
        refused["--direction v2t"] = "t2v" not in args.direction
        refused["--ties"] = args.ties != "average"
        refused["--pool"] = tuple(args.pool) != ("mean",)
        if "k" in explicit:
            opts["ks"] = args.k
    bad = [flag for flag, given in refused.items() if given]
    if bad:
        raise ValueError(f"--protocol {name} does not take {', '.join(bad)}")
    return opts


def _print_eval(report) -> None:
    s = report.settings
    counts = ", ".join(f"{d}: {n} queries" for d, n in s["n_queries"].items())
    pools = s.get("pools") or ["mean"]
    pooling = "" if pools == ["mean"] else f"; pool={','.join(pools)}"
    print(
        f"{s['protocol']}: {s['index_uri']} (split {s['split']!r}, {s['n_videos']} videos; "
        f"{counts}; ties={s['ties']}{pooling})"
    )
    print_table(report)


def _print_moments(report) -> None:
    s = report.settings
    print(
        f"{s['protocol']}: {s['index_uri']} (split {s['split']!r}, {s['n_videos']} videos; "
        f"{s['n_queries']['t2v']} sentence queries)"
    )
    print(report.format_table())


def cmd_protocol(args: argparse.Namespace) -> int:
    """Run ``args.protocol`` on the index; print its table and notes; ``--out`` writes JSON."""
    from ..eval.protocols import PROTOCOLS, MomentReport, run_protocol
    from ..index.index import Index

    explicit = set(getattr(args, "explicit", ()))
    if "split" in explicit and args.split is None:
        raise ValueError(f"--protocol {args.protocol} evaluates one split; 'all' is not one")
    split = args.split if "split" in explicit else PROTOCOLS[args.protocol]
    options = _options(args, explicit)
    index = Index.open(args.index)
    report = run_protocol(
        args.protocol, index, split=split, encoder=args.encoder, heads=args.head, **options
    )
    if isinstance(report, MomentReport):
        _print_moments(report)
    else:
        _print_eval(report)
    for note in report.notes:
        print(f"note: {note}")
    write_metrics(report, args.out)
    return 0
