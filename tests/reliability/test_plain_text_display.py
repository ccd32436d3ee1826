"""Reliability, display (issue 11, item 5): data is shown as written, never interpreted.

Captions, ids, category and split names may hold Rich markup (``[/]``, ``[bold red]``) or
terminal control characters (ESC, BEL): the TUI shows them as plain text, the CLI escapes
control characters.
"""

from __future__ import annotations

import numpy as np
import pytest

from vtrsearch import Index
from vtrsearch.cli.main import main

pytestmark = pytest.mark.anyio
DIM = 8
MARKUP_CAPTIONS = ["[bold red]RED[/]", "[/]", "a [link=http://x]link[/link] caption"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def markup_index(tmp_path) -> Index:
    """A vector-only index (a bare video id is a query) whose data is full of markup."""
    index = Index.create(str(tmp_path / "idx"), dim=DIM, categories=["[b]cats[/b]", "[/]"])
    ids = ["v[/]0", "[red]v1", "v2"]
    vectors = np.eye(3, DIM) + 0.1
    index.add_videos(ids, vectors, categories=[0, 1, 0], splits=["[i]test", "[/]", "[i]test"])
    index.add_captions([f"s{i}" for i in range(3)], ids, MARKUP_CAPTIONS)
    return index


async def test_tui_shows_markup_in_data_as_plain_text(markup_index):
    """'[/]' in a caption crashed the TUI (MarkupError); '[bold red]RED[/]' showed as RED."""
    from helpers.tui_app import SIZE, errors, settle

    from vtrsearch.tui import make_app

    app = make_app(markup_index)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        query = app.search_view.query_one("#query")
        query.focus()
        query.value = "v[/]0"
        await pilot.press("enter")
        table = app.search_view.results
        expected = ("v[/]0", "[red]v1", "[b]cats[/b]", "[bold red]RED[/]", "[/]")
        shown = ""
        # A DataTable sizes its columns for new rows when it is next idle: on a loaded machine
        # the rows can be there while the lines still use the old widths ("[b]cats..."), so
        # poll until the screen has caught up (or give up and let the asserts say what it shows).
        for _ in range(100):
            await settle(app, pilot)
            if table.row_count == 3:
                shown = "\n".join(table.render_line(y).text for y in range(table.size.height))
                if all(text in shown for text in expected):
                    break
            await pilot.pause(0.1)
        assert not errors(app), errors(app)
        assert table.video_ids()[0] == "v[/]0" and len(table.video_ids()) == 3
        for text in expected:
            assert text in shown, (text, shown)
        detail = app.search_view.query_one("#detail").text
        assert "[bold red]RED[/]" in detail and "[i]test" in detail
        filters = app.search_view.query_one("#categories")
        prompts = [str(filters.get_option_at_index(i).prompt) for i in range(filters.option_count)]
        assert "[b]cats[/b] (2)" in prompts and "[/] (1)" in prompts
        assert not errors(app)


def test_cli_output_escapes_control_characters(tmp_path, capsys):
    """ESC/BEL in category names, splits and captions reached the terminal raw."""
    uri = str(tmp_path / "idx")
    index = Index.create(uri, dim=DIM, categories=["\x1b[2Jwiped", "bell\x07"])
    index.add_videos(["v1", "v2"], np.eye(2, DIM), categories=[0, 1], splits=["\x1b]0;t\x07", ""])
    assert main(["info", uri]) == 0
    assert main(["search", uri, "--like", "v1", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2Jwiped" in out and "bell\\x07" in out and "\\x1b]0;t\\x07=1" in out
