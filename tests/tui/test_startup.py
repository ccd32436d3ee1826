"""Opening the TUI loads no model; the header and first captions follow the index."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.tui_app import MINILM, SIZE, add_videos, errors, search, settle, status, wait_until

from vtrsearch import Index
from vtrsearch.tui import make_app
from vtrsearch.tui.engine import BASELINE

pytestmark = pytest.mark.anyio

MISSING_MODELS = {
    # a hub model that is not in the local cache: loading it would start a download
    "hub": "hf:vtrsearch-tests/not-downloaded-model",
    # a local model folder that is gone
    "path": "hf:/nonexistent/vtrsearch-model-dir",
}


@pytest.mark.parametrize("where", sorted(MISSING_MODELS))
async def test_mount_loads_no_encoder(where, tmp_path, vectors):
    spec = MISSING_MODELS[where]
    idx = Index.create(tmp_path / "index", dim=384, feature_model=spec, encoder=spec)
    add_videos(idx, vectors)
    app = make_app(idx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        view = app.search_view
        assert app.engine.loaded_encoders == frozenset()
        assert not app.engine.is_ready(BASELINE)
        assert errors(app) == []
        assert "encoder loads on first query" in status(view)
        assert not view.query_one("#banner").display  # text search is offered
        # the evaluation tab opens without loading anything either
        await pilot.press("f3")
        await settle(app, pilot)
        assert app.engine.loaded_encoders == frozenset() and errors(app) == []
        await pilot.press("f2")
        # searching by a stored vector needs no encoder
        await search(app, pilot, "like:video3")
        expected = idx.search(idx.get("video3").vector, k=10)
        assert view.results.video_ids() == [h.video_id for h in expected]
        assert app.engine.loaded_encoders == frozenset() and errors(app) == []
        if where == "hub":
            return  # a text search would try the network (retries take most of a minute)
        # the first text search loads the encoder, fails, and says so
        await search(app, pilot, "a dog")
        assert app.engine.loaded_encoders == frozenset()  # tried, failed, nothing kept
        [message] = errors(app)
        assert message.startswith(f"text search unavailable: {spec} failed to load")
        assert "does not exist" in message
        assert "failed to load: text search unavailable" in status(view)
        assert view.results.video_ids() == [h.video_id for h in expected]  # left as it was


async def test_first_text_search_says_it_loads_the_encoder(index):
    app = make_app(index)
    seen: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.engine.loaded_encoders == frozenset()

        def record(text: str) -> None:
            seen.append(text)

        app.search_view.watch(app.search_view, "status", record, init=False)
        await search(app, pilot, "a child feeds a cat")
        assert f"loading encoder {MINILM}…" in seen
        assert app.engine.loaded_encoders == frozenset({BASELINE})
        assert app.engine.is_ready(BASELINE)
        assert status(app.search_view).startswith("10 results · baseline hf:minilm")
        # a second search does not announce a load again
        seen.clear()
        await search(app, pilot, "a man drives a red car fast")
        assert not any(s.startswith("loading encoder") for s in seen)


async def test_first_caption_orders_sen_ids_as_numbers(tmp_path, vectors):
    idx = Index.create(tmp_path / "index", dim=384, feature_model=MINILM)
    add_videos(idx, vectors, captions=False)
    first, second, third = (h.video_id for h in idx.search(vectors[3], k=3))
    idx.add_captions(
        ["10", "9", "sen10", "sen9"],
        [first, first, second, second],
        ["caption ten", "caption nine", "other ten", "other nine"],
    )
    app = make_app(idx)
    async with app.run_test(size=SIZE) as pilot:
        await search(app, pilot, f"like:{first}")
        table = app.search_view.results
        rows = {
            str(table.get_row_at(i)[1]): str(table.get_row_at(i)[4]) for i in range(table.row_count)
        }
        assert rows[first] == "caption nine" == idx.captions(first)[0]
        assert rows[second] == "other nine" == idx.captions(second)[0]
        assert rows[third] == ""  # no captions
        assert errors(app) == []


async def test_header_follows_the_video_count(tmp_path, vectors):
    idx = Index.create(tmp_path / "index", dim=384, feature_model=MINILM)
    add_videos(idx, vectors, captions=False)
    idx.refresh_interval = 0.0  # see other writers at once
    app = make_app(idx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.sub_title == "index · 24 videos · 384-d · hf:minilm"
        # another process adds two videos; the next search shows the new count
        other = Index.open(idx.uri)
        other.add_videos(["new0", "new1"], np.asarray(vectors[:2]) * -1.0, categories=[0, 1])
        await search(app, pilot, "like:video1")
        # the count reaches the App through a message passed up the widget tree
        await wait_until(pilot, lambda: app.video_count == 26, "the new video count")
        assert app.sub_title == "index · 26 videos · 384-d · hf:minilm"
        assert errors(app) == []
