"""Data and pilot helpers of the TUI tests: 24 videos in 6 categories, 3 captions each."""

from __future__ import annotations

from typing import Any

import numpy as np

from vtrsearch import Index

from .serve_data import ACTIONS, MINILM, SUBJECTS

__all__ = ["CAPTIONS", "MINILM", "SIZE", "add_videos", "errors", "search", "settle", "status"]

SIZE = (120, 40)


def _captions() -> dict[str, tuple[str, list[str]]]:
    """video id -> (category, captions): 4 videos per category, 3 captions each."""
    out: dict[str, tuple[str, list[str]]] = {}
    for c, (category, actions) in enumerate(ACTIONS.items()):
        for i, subject in enumerate(SUBJECTS):
            caps = [f"{subject} {actions[(i + j) % 3]}" for j in range(3)]
            caps[1] += " while smiling" if i % 2 else " at night"
            out[f"video{c * 4 + i}"] = (category, caps)
    return out


CAPTIONS = _captions()


def add_videos(index: Index, vectors: np.ndarray, *, captions: bool = True) -> None:
    """Add the 24 videos (splits: ids 0 and 3 mod 4 are test) and, optionally, captions."""
    ids = list(CAPTIONS)
    splits = ["test" if int(v[5:]) % 4 == 3 or int(v[5:]) % 4 == 0 else "train" for v in ids]
    index.add_videos(ids, vectors, categories=[CAPTIONS[v][0] for v in ids], splits=splits)
    if captions:
        sen = [(f"{v}#{j}", v, t) for v in ids for j, t in enumerate(CAPTIONS[v][1])]
        index.add_captions(*(list(c) for c in zip(*sen, strict=True)))


async def settle(app: Any, pilot: Any) -> None:
    """Wait until every worker is done and the screen has caught up."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def search(app: Any, pilot: Any, text: str) -> None:
    """Type ``text`` into the query and press Enter, then settle."""
    await settle(app, pilot)
    app.search_view.query_one("#query").focus()
    app.search_view.query_one("#query").value = ""
    await pilot.press(*text)
    await pilot.press("enter")
    await settle(app, pilot)


def errors(app: Any) -> list[str]:
    """Messages of the error notifications shown so far."""
    return [m for sev, m in app.notification_log if sev == "error"]


def status(view: Any) -> str:
    """The text of a view's status line."""
    return str(view.query_one("#status" if view.id == "search-view" else "#eval-status").content)
