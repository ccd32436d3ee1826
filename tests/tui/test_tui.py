"""The Textual TUI on a small real index: MiniLM text search, filters, details, heads, eval."""

from __future__ import annotations

import json

import pytest
from helpers.tui_app import CAPTIONS, SIZE, errors, search, settle, wait_until
from textual.widgets import Select, SelectionList

from vtrsearch import Index
from vtrsearch.eval.run import evaluate_index
from vtrsearch.tui import make_app
from vtrsearch.tui.widgets.metrics_tables import SortableTable, fmt

pytestmark = pytest.mark.anyio


async def test_text_search_ranks_like_index_search(index):
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await search(app, pilot, "someone cooks pasta")
        expected = index.search("someone cooks pasta", k=10)
        table = app.search_view.results
        assert table.video_ids() == [h.video_id for h in expected]
        assert [table.get_row_at(i)[2] for i in range(3)] == [
            f"{h.score:.4f}" for h in expected[:3]
        ]
        assert expected[0].video_id in {v for v, (c, _) in CAPTIONS.items() if c == "cooking"}
        # the detail pane shows every caption of the highlighted (first) row
        detail = app.search_view.query_one("#detail").text
        for caption in CAPTIONS[expected[0].video_id][1]:
            assert caption in detail
        # move to the third row: its captions replace the first's
        table.focus()
        await pilot.press("down", "down")
        await settle(app, pilot)
        third = expected[2].video_id
        assert CAPTIONS[third][1][0] in app.search_view.query_one("#detail").text
        # history: up in the query brings the query back
        app.search_view.query_one("#query").focus()
        app.search_view.query_one("#query").value = ""
        await pilot.press("up")
        assert app.search_view.query_one("#query").value == "someone cooks pasta"
        assert not errors(app)


async def test_category_and_split_filters(index):
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.search_view.query_one("#categories", SelectionList).select("music")
        app.search_view.query_one("#split", Select).value = "test"
        await search(app, pilot, "a person plays with a dog")
        expected = index.search(
            "a person plays with a dog", k=10, categories=["music"], split="test"
        )
        ids = app.search_view.results.video_ids()
        assert ids == [h.video_id for h in expected] and len(ids) == 2
        assert {CAPTIONS[v][0] for v in ids} == {"music"}
        assert "split test · music" in str(app.search_view.query_one("#status").content)
        # search as you type (ctrl+t): a pause after typing searches, no Enter needed
        query = app.search_view.query_one("#query")
        query.value = ""
        hits = index.search("drums", k=10, categories=["music"], split="test")
        await pilot.press("ctrl+t", *"drums")
        await wait_until(  # the pause after typing fires the search: poll, not a fixed sleep
            pilot,
            lambda: (
                app.search_view.last_query == "drums"
                and app.search_view.results.video_ids() == [h.video_id for h in hits]
            ),
            "the search as you type",
        )
        await settle(app, pilot)
        assert app.search_view.results.video_ids() == [h.video_id for h in hits]
        assert app.search_view.last_query == "drums"


async def test_more_like_this_and_head_switch(index, head_dir):
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await search(app, pilot, "a red car")
        table = app.search_view.results
        table.focus()
        second = index.search("a red car", k=10)[1].video_id
        await pilot.press("down", "m")
        await wait_until(
            pilot,
            lambda: (
                app.search_view.query_one("#query").value == f"like:{second}"
                and table.video_ids()[:1] == [second]
            ),
            "the more-like-this search",
        )
        await settle(app, pilot)
        like = index.search(index.get(table.video_ids()[0]).vector, k=10)
        assert app.search_view.query_one("#query").value == f"like:{second}"
        expected = index.search(index.get(second).vector, k=10)
        assert table.video_ids() == [h.video_id for h in expected]
        assert table.video_ids()[0] == second and like
        # switch to the registered head: the current query is re-run through it
        app.search_view.query_one("#query").value = ""
        await search(app, pilot, "a red car")
        other = Index.open(index.uri)
        other.use_head(head_dir)
        through_head = [h.video_id for h in other.search("a red car", k=10)]
        app.search_view.query_one("#head", Select).value = "tuned"
        await wait_until(  # the Select's change reaches the view as a message, then re-runs
            pilot,
            lambda: (
                "head tuned" in str(app.search_view.query_one("#status").content)
                and table.video_ids() == through_head
            ),
            "the re-run through the head",
        )
        await settle(app, pilot)
        assert table.video_ids() == through_head
        assert through_head != [h.video_id for h in index.search("a red car", k=10)]
        assert "head tuned" in str(app.search_view.query_one("#status").content)
        assert not errors(app)


async def test_errors_are_notifications(index, tmp_path):
    app = make_app(index, head=str(tmp_path / "no-such-head"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert any("projection head not found" in m for m in errors(app))
        assert app.search_view.head == ""  # fell back to the baseline
        await pilot.press("enter")  # empty query
        await settle(app, pilot)
        assert any("empty query" in m for m in errors(app))
        await search(app, pilot, "like:video999")
        assert any("video999" in m and "not in the index" in m for m in errors(app))
        await pilot.press("f1")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ != "HelpScreen"


async def test_index_without_encoder(bare_index, tmp_path):
    app = make_app(bare_index.uri)  # a path works as well as an open Index
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        banner = app.search_view.query_one("#banner")
        assert banner.display and "no query encoder" in str(banner.content)
        await search(app, pilot, "video5")  # a bare video id searches by its vector
        expected = bare_index.search(bare_index.get("video5").vector, k=10)
        assert app.search_view.results.video_ids() == [h.video_id for h in expected]
        assert not errors(app)
    # a registered head whose folder is gone: an error notification when it is picked
    (tmp_path / "gone").mkdir()
    other = Index.open(bare_index.uri)
    other.register_head("gone", tmp_path / "gone")
    (tmp_path / "gone").rmdir()
    app = make_app(other)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.search_view.query_one("#head", Select).value = "gone"
        await wait_until(
            pilot,
            lambda: any(m.startswith("head gone unavailable") for m in errors(app)),
            "the error about the missing head",
        )


async def test_evaluation_matches_evaluate_index(index, head_dir, tmp_path):
    report = evaluate_index(index, split="test", heads=[head_dir], progress=False)
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f3")
        view = app.evaluation_view
        # focus moves to the run button after a refresh; ctrl+r is bound on the view
        await wait_until(pilot, lambda: app.focused is view.query_one("#eval-run"), "focus")
        await pilot.press("ctrl+r")
        table = view.query_one("#eval-metrics")
        await wait_until(pilot, lambda: table.row_count == 2, "the evaluation")
        await settle(app, pilot)
        assert [r.label for r in report.rows] == ["baseline", "head:tuned"]
        assert table.row_count == 2
        for i, row in enumerate(report.rows):
            cells = table.get_row_at(i)
            assert str(cells[0]) == row.label
            want = []
            for d in ("t2v", "v2t"):
                m = row.metrics[d]
                want += [fmt(m.r1), fmt(m.r5), fmt(m.r10), fmt(m.medr), fmt(m.meanr)]
            assert list(cells[1:]) == want
        # per-category table: one row per category of the split, sortable by clicking a header
        cats = view.query_one("#eval-categories", SortableTable)
        base_cat = report.rows[0].per_category["t2v"]
        assert sorted(cats.column_values(0)) == sorted(base_cat)
        col = 2  # "base R@1"
        # a DataTable widens its columns for new rows when next idle: wait for the widths
        widest = max(len(str(v)) for v in cats.column_values(0))
        await wait_until(
            pilot, lambda: cats.ordered_columns[0].content_width >= widest, "column widths"
        )
        x = sum(c.get_render_width(cats) for c in cats.ordered_columns[:col]) + 2
        await pilot.click(cats, offset=(x, 0))
        await wait_until(pilot, lambda: cats.sorted_by == "baseline R@1", "the sort")
        values = [float(v) for v in cats.column_values(col)]
        assert values == sorted(values) and cats.sorted_by == "baseline R@1"
        await pilot.click(cats, offset=(x, 0))

        def descending() -> bool:
            return [float(v) for v in cats.column_values(col)] == sorted(values, reverse=True)

        await wait_until(pilot, descending, "the reversed sort")
        lengths = view.query_one("#eval-lengths", SortableTable)
        assert lengths.column_values(0) == list(report.rows[0].per_length)
        # save the report: metrics.json + PNG figures
        out = tmp_path / "report"
        view.query_one("#eval-out").value = str(out)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        saved = json.loads((out / "metrics.json").read_text())
        assert [r["label"] for r in saved["rows"]] == ["baseline", "head:tuned"]
        assert saved["rows"][0]["metrics"]["t2v"]["r1"] == pytest.approx(
            report.rows[0].metrics["t2v"].r1
        )
        assert len(list(out.glob("*.png"))) >= 5
        assert not errors(app)


def test_search_screen_snapshot(index, snap_compare):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        # a steady cursor: a blinking one is drawn or not depending on how long the search took
        app.search_view.query_one("#query").cursor_blink = False
        app.search_view.query_one("#categories", SelectionList).select("cooking")
        await search(app, pilot, "someone cooks food")

    assert snap_compare(make_app(index), terminal_size=SIZE, run_before=run_before)
