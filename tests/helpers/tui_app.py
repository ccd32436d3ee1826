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


async def wait_until(pilot: Any, predicate: Any, what: str, timeout: float = 60.0) -> None:
    """Poll ``predicate`` between pauses (never a fixed sleep) until it holds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        if predicate():
            return
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        await pilot.pause(0.05)


def _detail_caught_up(app: Any) -> bool:
    """The detail pane shows the highlighted result (or there is none)."""
    from vtrsearch.tables import plain

    view = app.search_view
    video_id = view.results.current_video_id()
    if video_id is None:
        return True
    text = view.query_one("#detail").text
    return text.startswith(plain(video_id)) or "is no longer in the index" in text


async def settle(app: Any, pilot: Any) -> None:
    """Wait until no worker runs and the detail pane shows the highlighted row."""

    def quiet() -> bool:
        running = [w for w in app.workers if not w.is_finished]
        return not running and _detail_caught_up(app)

    from textual.worker import WorkerCancelled

    await pilot.pause()
    try:
        await app.workers.wait_for_complete()
    except WorkerCancelled:
        pass  # superseded by a newer worker of its group (exclusive=True): quiet() waits for it
    await wait_until(pilot, quiet, "the TUI to settle")


async def search(app: Any, pilot: Any, text: str) -> None:
    """Type ``text`` into the query and press Enter; wait for its results (or an error)."""
    await settle(app, pilot)
    view = app.search_view
    before, notes = view.outcome, len(app.notification_log)
    view.query_one("#query").focus()
    view.query_one("#query").value = ""
    await pilot.press(*text)
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: view.outcome is not before or len(app.notification_log) > notes,
        f"the search {text!r}",
    )
    await settle(app, pilot)


def errors(app: Any) -> list[str]:
    """Messages of the error notifications shown so far."""
    return [m for sev, m in app.notification_log if sev == "error"]


def status(view: Any) -> str:
    """The text of a view's status line."""
    return str(view.query_one("#status" if view.id == "search-view" else "#eval-status").content)
