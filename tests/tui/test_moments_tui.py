"""Moments in the TUI: best moment per result, top moments in the detail pane, pooled/MaxSim
ranking, and playing a video at its moment (the argv is checked, nothing is launched).

The index is the TUI tests' 24 videos (real MiniLM) with 3 segments of 2 s each: segment j is
the MiniLM vector of the video's caption j, so a caption as query has a known best moment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.tui_app import CAPTIONS, MINILM, SIZE, add_videos, errors, search, settle, status

from vtrsearch import Index, load_encoder
from vtrsearch.cli.main import build_parser
from vtrsearch.tables import moment_span
from vtrsearch.tui import make_app
from vtrsearch.tui.media import PLAYER_ENV, player_command, video_file

pytestmark = pytest.mark.anyio
TARGET = "video5"
QUERY = CAPTIONS[TARGET][1][2]  # the caption of segment 2: 00:04–00:06


@pytest.fixture(scope="module")
def moment_index(tmp_path_factory, vectors) -> Index:
    root = tmp_path_factory.mktemp("tui-moments")
    idx = Index.create(root / "index", dim=384, feature_model=MINILM, encoder=MINILM)
    add_videos(idx, vectors)
    enc = load_encoder(MINILM)
    ids = list(CAPTIONS)
    idx.add_segments(
        [v for v in ids for _ in range(3)],
        [2.0 * j for _ in ids for j in range(3)],
        [2.0 * j + 2.0 for _ in ids for j in range(3)],
        np.concatenate([enc.encode(CAPTIONS[v][1]) for v in ids]),
    )
    (root / "videos").mkdir()
    (root / "videos" / f"{TARGET}.mp4").write_bytes(b"not really a video")
    return idx


async def test_results_and_detail_show_moments(moment_index):
    app = make_app(moment_index)
    async with app.run_test(size=SIZE) as pilot:
        await search(app, pilot, QUERY)
        table = app.search_view.results
        expected = moment_index.search(QUERY, k=10)
        assert table.video_ids() == [h.video_id for h in expected]
        assert [str(c.label) for c in table.columns.values()][3] == "best moment"
        assert [table.get_row_at(i)[3] for i in range(len(expected))] == [
            moment_span(h.start, h.end) for h in expected
        ]
        # the detail pane of the highlighted video lists its moments for this query, best first
        first = expected[0].video_id
        q = moment_index.query_vector(QUERY)
        segs = moment_index.segments(first)
        scores = [float(s.vector @ q) for s in segs]
        order = np.argsort(scores)[::-1]
        detail = app.search_view.query_one("#detail").text
        header = "top moments for this query (3 of 3 segments; ctrl+p: pooled/MaxSim ranking):"
        assert header in detail
        lines = [line for line in detail.splitlines() if "segment " in line]
        assert lines == [
            f"{i:>3}. {moment_span(segs[j].start, segs[j].end)}  {scores[j]:.4f}  segment {j}"
            for i, j in enumerate(order.tolist(), 1)
        ]
        assert status(app.search_view).endswith(" · pooled ranking")
        assert not errors(app)


async def test_ctrl_p_toggles_pooled_and_maxsim(moment_index):
    app = make_app(moment_index)
    async with app.run_test(size=SIZE) as pilot:
        await search(app, pilot, QUERY)
        pooled = app.search_view.results.video_ids()
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        view = app.search_view
        assert view.pool == "max" and status(view).endswith(" · MaxSim ranking (best moment)")
        by_max = moment_index.search(QUERY, k=10, pool="max")
        assert view.results.video_ids() == [h.video_id for h in by_max] != pooled
        assert by_max[0].video_id == TARGET and by_max[0].segment == 2
        assert view.results.get_row_at(0)[3] == "00:04\u201300:06"
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        assert view.pool == "mean" and view.results.video_ids() == pooled
        assert status(view).endswith(" · pooled ranking")


async def test_maxsim_without_segments_falls_back(index):
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await search(app, pilot, "someone cooks pasta")
        assert app.search_view.results.columns.get("moment") is None  # no moment column
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        assert app.search_view.pool == "mean"
        assert any("this index has no segments" in e for e in errors(app))
        assert app.search_view.results.video_ids() == [
            h.video_id for h in index.search("someone cooks pasta", k=10)
        ]


async def test_open_plays_the_local_file_at_the_moment(moment_index):
    app = make_app(moment_index, player="mpv --fs")
    launched: list[list[str]] = []
    app.launcher = launched.append
    async with app.run_test(size=SIZE) as pilot:
        await search(app, pilot, QUERY)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        app.search_view.results.focus()
        await pilot.press("o")
        await settle(app, pilot)
        clip = (Path(moment_index.uri).parent / "videos" / f"{TARGET}.mp4").resolve()
        assert launched == [["mpv", "--fs", "--start=4.000", str(clip)]]
        assert ("information", f"playing {TARGET} at 00:04.0 in mpv") in app.notification_log
        assert "o: play it at the best moment" in app.search_view.query_one("#detail").text
        # a video without a local file: an error, nothing launched
        await pilot.press("down")
        await settle(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        assert len(launched) == 1
        assert any(e.startswith("no local video file for") for e in errors(app))


def test_player_commands(tmp_path, monkeypatch):
    clip = tmp_path / "v.mp4"
    monkeypatch.delenv(PLAYER_ENV, raising=False)
    none = player_command(clip, 12.5, which=lambda name: None, platform="linux")
    assert none.argv == ["xdg-open", str(clip)] and not none.seeks
    assert player_command(clip, 1, which=lambda n: None, platform="darwin").argv[0] == "open"
    vlc = player_command(clip, 12.5, which=lambda n: "/usr/bin/vlc" if n == "vlc" else None)
    assert vlc.argv == ["vlc", "--start-time=12.500", str(clip)] and vlc.seeks
    assert player_command(clip, None, "ffplay").argv == ["ffplay", str(clip)]
    assert player_command(clip, 3, "/opt/bin/ffplay -fs").argv == [
        "/opt/bin/ffplay",
        "-fs",
        "-ss",
        "3.000",
        str(clip),
    ]
    monkeypatch.setenv(PLAYER_ENV, "mpv")
    assert player_command(clip, 2, which=lambda n: None).argv == ["mpv", "--start=2.000", str(clip)]
    odd = tmp_path / "a; rm -rf ~ $(x).mp4"  # stored data is one argv element, never a shell
    assert player_command(odd, 2, "mpv").argv[-1] == str(odd)
    with pytest.raises(ValueError, match="empty player command"):
        player_command(clip, 2, "  ")


def test_video_file_stays_in_its_folder(tmp_path):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "ok.webm").write_bytes(b"x")
    (tmp_path / "secret.mp4").write_bytes(b"x")
    (videos / "link.mp4").symlink_to(tmp_path / "secret.mp4")
    media = tmp_path / "media"
    media.mkdir()
    (media / "m1.mkv").write_bytes(b"x")
    uri = str(index_dir)
    assert video_file(uri, "ok") == (videos / "ok.webm").resolve()
    assert video_file(uri, "m1") is None and video_file(uri, "m1", media) == media / "m1.mkv"
    for bad in ("../secret", "link", "", "..", ".hidden", "a/b"):
        assert video_file(uri, bad) is None, bad


def test_cli_tui_options():
    args = build_parser().parse_args(["tui", "idx", "--media", "clips", "--player", "vlc -f"])
    assert (args.media, args.player) == ("clips", "vlc -f")
