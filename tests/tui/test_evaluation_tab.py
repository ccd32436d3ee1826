"""The evaluation tab: a progress bar fed by evaluate_index's events; heads-only runs."""

from __future__ import annotations

import pytest
from helpers.tui_app import SIZE, errors, settle, status, wait_until
from textual.widgets import ProgressBar, SelectionList

from vtrsearch.tui import make_app

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
        # focus moves to the run button after a refresh; ctrl+r is bound on the view
        await wait_until(pilot, lambda: app.focused is view.query_one("#eval-run"), "focus")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: view.report is not None and not view.running, "the run")
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


async def test_heads_only_run_skips_the_baseline(index):
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        view = app.evaluation_view
        await wait_until(pilot, lambda: app.focused is view.query_one("#eval-run"), "focus")
        labels: set[str] = set()

        def record(text: str) -> None:
            if view.progress_event is not None:
                labels.add(view.progress_event.label)

        view.watch(view, "status", record, init=False)
        view.query_one("#eval-models", SelectionList).deselect("baseline")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: view.report is not None and not view.running, "the run")
        await settle(app, pilot)
        assert errors(app) == []
        table = view.query_one("#eval-metrics")
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["head:tuned"]
        assert [r.label for r in view.report.rows] == ["head:tuned"]
        assert labels == {"head:tuned"}  # no step worked for a baseline row
