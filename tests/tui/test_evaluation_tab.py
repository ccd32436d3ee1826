"""The evaluation tab's progress bar follows evaluate_index's progress events."""

from __future__ import annotations

import pytest
from helpers.tui_app import SIZE, errors, settle, status
from textual.widgets import ProgressBar

from vtrsearch.tui import make_app

pytest.importorskip("vtrsearch.eval.progress", reason="evaluate_index has no progress events")

pytestmark = pytest.mark.anyio


async def test_progress_bar_has_real_totals(index):
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        view = app.evaluation_view
        bar = view.query_one("#eval-progress", ProgressBar)
        assert not bar.display  # hidden until a run starts
        shown: list[tuple[str, float | None, float]] = []

        def record(text: str) -> None:
            shown.append((text, bar.total, bar.progress))

        view.watch(view, "status", record, init=False)
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert errors(app) == []
        steps = [(t, total, done) for t, total, done in shown if ": step " in t]
        assert steps, shown  # the status followed the events
        # every event set a determinate bar: a total, and progress within it
        assert all(total is not None and 0 <= done <= total for _, total, done in steps)
        last = view.progress_event
        assert last is not None and last.done == last.total > 0
        assert last.step == last.steps  # the run reported every planned step
        assert f"step {last.steps}/{last.steps}" in steps[-1][0]
        assert not bar.display and "videos" in status(view)  # done: bar hidden, summary shown
