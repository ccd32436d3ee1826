"""End to end: ``vtrsearch serve`` as a process, driven by Debian's chromium through Playwright.

The server runs on a free 127.0.0.1 port over the five real MSR-VTT clips, with an API key (so
the page's key prompt and session cookie are exercised too). Locally, without chromium or
Playwright, the browser test skips; in CI it must run (``tests/helpers/requirements.py``).
The screenshots land in ``tests/artifacts/`` (ignored by git); the test prints their paths.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from helpers.requirements import REPO, require
from helpers.serve_data import CLIPS, XSS, add_clip_segments, build_index, make_head

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"
KEY = "e2e-key-do-not-log-me"
LAUNCH_ARGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-extensions",
    "--no-first-run",
    "--mute-audio",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_videos_dir):
    """``(base URL, log file)`` of a ``vtrsearch serve`` process over the real clips."""
    root = tmp_path_factory.mktemp("e2e")
    index = build_index(root / "index", CLIPS)
    add_clip_segments(index, sample_videos_dir)
    index.register_head("tuned", make_head(root / "tuned"))
    port = _free_port()
    log = root / "serve.log"
    env = dict(os.environ, VTRSEARCH_API_KEY=KEY, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, "-m", "vtrsearch", "serve", index.uri, "--port", str(port)]
    cmd += ["--media", str(sample_videos_dir)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"vtrsearch serve exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"server did not start:\n{log.read_text()}"
            try:
                if _get(base + "/api/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_cli_process_serves_the_api(server, sample_videos_dir):
    base, log = server
    text = log.read_text()
    assert "warmed up in" in text and "API key: required" in text
    assert _get(base + "/api/search?q=music")[0] == 401
    status, body, _ = _get(
        base + "/api/search?" + urlencode({"q": "an orchestra playing", "k": 2}),
        {"X-API-Key": KEY},
    )
    assert status == 200 and json.loads(body)["results"][0]["video_id"] == "video3696"
    status, body, headers = _get(
        base + "/media/video740", {"X-API-Key": KEY, "Range": "bytes=100-199"}
    )
    clip = (sample_videos_dir / "video740.mp4").read_bytes()
    assert status == 206 and body == clip[100:200] and headers["content-type"] == "video/mp4"
    # the encoder was warmed before the first search was answered, and the key is in no log
    text = log.read_text()
    assert text.index("warmed up in") < text.index("GET /api/search")
    assert KEY not in text


def _video_state(page) -> dict:
    return page.evaluate(
        """() => { const v = document.getElementById('video');
        return {t: v.currentTime, src: v.currentSrc, ready: v.readyState, error: v.error,
                seekedTo: v.dataset.seekedTo, duration: v.duration,
                seekedAt: Number(v.dataset.seekedAt)}; }"""
    )


def _wait_seeked(page, start: float) -> dict:
    page.wait_for_function(
        """s => { const d = document.getElementById('video').dataset.seekedTo;
        return d !== undefined && Math.abs(Number(d) - s) < 1e-6; }""",
        arg=float(start),
    )
    return _video_state(page)


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium for Playwright: skips locally when absent, fails in CI."""
    require(
        shutil.which("chromium") is not None and Path(CHROMIUM).exists(),
        f"Debian chromium not found at {CHROMIUM}",
        "install it with `apt-get update && apt-get install -y chromium`",
    )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "the playwright package is not installed", "pip install -e '.[dev]'")
    return CHROMIUM


def test_search_click_and_play_the_moment_in_chromium(chromium, server):
    from playwright.sync_api import sync_playwright

    base, log = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    query = "an orchestra playing classical music"
    status, body, _ = _get(base + "/api/search?" + urlencode({"q": query}), {"X-API-Key": KEY})
    top = json.loads(body)["results"][0]
    assert top["video_id"] == "video3696"
    expected_start = top["start"]  # the matching moment: video3696's 4-8 s segment
    assert expected_start == 4.0

    dialogs: list[str] = []
    page_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(20_000)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            # where the video stood when its seek ended: it plays on at once, so a later read
            # of currentTime on a loaded machine is later in the clip (capture phase: seeked
            # does not bubble)
            page.add_init_script(
                "document.addEventListener('seeked', "
                "e => { e.target.dataset.seekedAt = String(e.target.currentTime); }, true)"
            )
            assert page.evaluate(
                "document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.640015\"')"
            ), "this chromium cannot play H.264: transcode the clips (PyAV) for the test"

            # the key prompt, then the page loads its controls
            page.goto(base + "/")
            page.fill("#key", KEY)
            page.press("#key", "Enter")
            page.wait_for_selector("#head option[value='baseline']", state="attached")
            assert page.locator("#login").is_hidden()

            # type a query (keyboard: "/" focuses the box), see results, click the first one
            page.keyboard.press("/")
            page.keyboard.type(query)
            page.keyboard.press("Enter")
            page.wait_for_selector(".card")
            cards = page.locator(".card")
            assert cards.count() == 5
            assert cards.first.get_attribute("data-video-id") == "video3696"
            assert "music" in cards.first.text_content()
            assert f"q={query.split()[0]}" in page.url  # the URL holds the query
            cards.first.click()
            state = _wait_seeked(page, expected_start)
            clicked_at = state["seekedAt"]
            assert state["src"].endswith("/media/video3696") and state["error"] is None
            assert abs(state["seekedAt"] - expected_start) <= 0.5, state
            assert "play=video3696" in page.url
            assert "violins on stage" in page.locator("#captions").text_content()
            shot = ARTIFACTS / "serve_e2e.png"
            page.screenshot(path=str(shot))

            assert "moment 4.0–8.0 s" in cards.first.text_content()
            page.wait_for_function(  # lazy-loaded: wait for it before reading its size
                "() => { const i = document.querySelector('.card img.thumb');"
                " return i && i.complete && i.naturalWidth > 0; }"
            )
            assert (
                page.evaluate("document.querySelector('.card img.thumb').naturalWidth") == 160
            )  # the stored thumbnail, served by /thumbs
            # a shared link to a moment: results restored, the clip seeks there (HTTP Range)
            at = 9.5
            shared = base + "/?" + urlencode({"q": query, "play": "video3696", "t": at})
            page.goto(shared)
            state = _wait_seeked(page, at)
            shared_at = state["seekedAt"]
            assert abs(state["seekedAt"] - at) <= 0.5, state
            assert state["ready"] >= 2 and state["duration"] > at
            assert page.locator(".card").first.get_attribute("data-video-id") == "video3696"

            # an XSS payload in a caption is shown as text, never run
            page.fill("#q", "a man gives a talk on a stage")
            page.press("#q", "Enter")
            page.wait_for_selector(".card[data-video-id='video7595']")
            caption = page.locator(".card[data-video-id='video7595'] .caption")
            assert caption.text_content() == XSS
            page.locator(".card[data-video-id='video7595']").click()
            page.wait_for_function(
                "x => document.getElementById('captions').textContent.includes(x)", arg=XSS
            )
            assert page.locator("img[src='x']").count() == 0
            assert dialogs == [] and page_errors == []

            xss_shot = ARTIFACTS / "serve_e2e_xss.png"
            page.screenshot(path=str(xss_shot))

            # baseline vs fine-tuned head side by side
            page.select_option("#head", "tuned")
            page.check("#compare")
            page.press("#q", "Enter")
            page.wait_for_selector(".results.compare .column:nth-child(2) .card")
            titles = page.locator(".results.compare .column h2").all_text_contents()
            assert titles == ["baseline", "head tuned"]
            assert page.locator(".column:nth-child(2) .card").count() == 5
            assert "head=tuned" in page.url and "compare=1" in page.url
            page.uncheck("#compare")
            page.select_option("#head", "baseline")

            # "more like this" searches by the stored vector; Escape closes the player
            page.click("#more")
            page.wait_for_function("() => location.search.includes('like%3Avideo7595')")
            # the old results also hold video7595: wait for the new ones before reading cards
            page.wait_for_function(
                "() => document.getElementById('status').textContent.includes('videos like')"
            )
            page.wait_for_selector(".card[data-video-id='video7595'][aria-current='true']")
            page.locator(".card").first.focus()
            page.keyboard.press("Escape")
            assert page.locator("#player").is_hidden()

            page.set_viewport_size({"width": 390, "height": 844})
            second = page.locator(".card").nth(1)
            second_start = float(second.get_attribute("data-start"))
            second.click()
            _wait_seeked(page, second_start)
            phone = ARTIFACTS / "serve_e2e_phone.png"
            page.screenshot(path=str(phone))
        finally:
            browser.close()
    print(
        f"\ncurrentTime {clicked_at:.3f} s after the click (moment starts at {expected_start}), "
        f"{shared_at:.3f} s from the shared link (t={at})\nscreenshots: {shot} {xss_shot} {phone}"
    )
    assert all(p.stat().st_size > 10_000 for p in (shot, xss_shot, phone))
    assert KEY not in log.read_text()
