"""``vtrsearch tui`` and ``vtrsearch demo``: the interactive UI and the offline tour.

Only ``argparse`` is imported here; textual and the demo's data code load when they run.
"""

from __future__ import annotations

import argparse

from .args import MIN_DEMO_VIDEOS, at_least


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the ``tui`` and ``demo`` commands on ``sub``."""
    p = sub.add_parser("tui", help="interactive terminal UI: search, compare heads, evaluate")
    p.add_argument("index", help="index path or URI")
    p.add_argument("--head", metavar="DIR", help="start with this head (directory or name)")
    p.add_argument(
        "--media",
        metavar="DIR",
        help="folder of video files <video_id>.<ext> to play moments from "
        "(videos/ beside the index is always looked at)",
    )
    p.add_argument(
        "--player",
        metavar="CMD",
        help="player for moments, e.g. 'mpv' or 'vlc' (default $VTRSEARCH_PLAYER, else mpv or "
        "VLC when installed, else the system opener)",
    )

    p = sub.add_parser("demo", help="offline demo on synthetic MSR-VTT-style data")
    p.add_argument("dir", nargs="?", default="vtrsearch-demo", help="output folder")
    p.add_argument(
        "--videos",
        type=at_least(MIN_DEMO_VIDEOS, "every split and filtered query needs videos"),
        default=400,
        help=f"number of synthetic videos (default 400, at least {MIN_DEMO_VIDEOS})",
    )


def cmd_tui(args: argparse.Namespace) -> int:
    """``vtrsearch tui``: open the index in the terminal UI."""
    from ..extras import require_extra
    from ..index.index import Index

    require_extra("textual", "tui")
    from ..tui import make_app

    make_app(Index.open(args.index), head=args.head, media=args.media, player=args.player).run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``vtrsearch demo``: write synthetic data, ingest it and run example searches."""
    from .demo import run_demo

    return run_demo(args.dir, num_videos=args.videos)
