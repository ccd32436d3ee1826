"""Safe defaults: the API key (constant-time, never logged), the session cookie, the bind rule."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from vtrsearch import Index
from vtrsearch.cli.main import main
from vtrsearch.serve import ServeConfig, ServeConfigError, check_bind
from vtrsearch.serve import security as security_module
from vtrsearch.serve.app import create_app
from vtrsearch.serve.engine import SearchService

KEY = "s3cret-KEY-0123456789"


@pytest.fixture(scope="module")
def locked(served):
    index, media = served
    svc = SearchService(Index.open(index.uri), media=media)
    config = ServeConfig(index=index.uri, media=media, api_key=KEY)
    with TestClient(create_app(config, service=svc)) as c:
        yield c


PROTECTED = [
    "/api/search?q=a+dog",
    "/api/search?q=like:video1",
    "/api/info",
    "/api/categories",
    "/api/videos/video0",
    "/media/video0",
    "/thumbs/video0/0",
]


def test_every_data_route_needs_the_key(locked):
    locked.cookies.clear()
    for path in PROTECTED:
        r = locked.get(path)
        assert r.status_code == 401, path
        assert r.json() == {"detail": "missing or wrong API key"}
        for wrong in ({"X-API-Key": KEY[:-1]}, {"X-API-Key": ""}, {"Authorization": "Bearer x"}):
            assert locked.get(path, headers=wrong).status_code == 401, (path, wrong)
    ok = locked.get("/api/search?q=a+dog", headers={"X-API-Key": KEY})
    assert ok.status_code == 200 and ok.json()["results"]
    assert locked.get("/api/info", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert locked.get("/media/video0", headers={"X-API-Key": KEY}).status_code == 200
    # the page shell, the docs and the health check stay public (they hold no data)
    assert locked.get("/").status_code == 200 and locked.get("/docs").status_code == 200
    health = locked.get("/api/health").json()
    assert health == {"status": "ok", "auth": True, "authorised": False}


def test_session_cookie_for_the_page(locked):
    locked.cookies.clear()
    assert locked.post("/api/session", json={"key": "guess"}).status_code == 401
    assert "set-cookie" not in locked.post("/api/session", json={"key": "guess"}).headers
    r = locked.post("/api/session", json={"key": KEY})
    assert r.status_code == 204
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and KEY.lower() not in cookie
    # the cookie now authorises the page's requests, <video src> included
    assert locked.get("/api/search?q=a+dog").status_code == 200
    assert locked.get("/media/video0", headers={"Range": "bytes=0-3"}).status_code == 206
    assert locked.get("/api/health").json()["authorised"] is True
    locked.cookies.clear()
    locked.cookies.set("vtrsearch_session", "forged")
    assert locked.get("/api/info").status_code == 401
    locked.cookies.clear()
    assert locked.delete("/api/session").status_code == 204


def test_key_comparisons_are_constant_time(locked, monkeypatch):
    calls = []
    real = security_module.secrets.compare_digest

    def spy(a, b):
        calls.append((type(a), type(b)))
        return real(a, b)

    monkeypatch.setattr(security_module.secrets, "compare_digest", spy)
    locked.cookies.clear()
    locked.get("/api/info", headers={"X-API-Key": "wrong"})
    locked.get("/api/info", headers={"X-API-Key": KEY})
    locked.post("/api/session", json={"key": "wrong"})
    locked.cookies.set("vtrsearch_session", "forged")
    locked.get("/api/info")
    locked.cookies.clear()
    assert len(calls) == 4 and all(c == (bytes, bytes) for c in calls)


def test_the_key_is_never_logged_or_shown(served, caplog):
    index, media = served
    config = ServeConfig(index=index.uri, media=media, api_key=KEY)
    assert KEY not in repr(config)
    with caplog.at_level(logging.DEBUG):
        svc = SearchService(Index.open(index.uri), media=media)
        with TestClient(create_app(config, service=svc)) as c:
            c.get("/api/search?q=a+dog", headers={"X-API-Key": KEY})
            c.get("/api/search?q=a+dog", headers={"X-API-Key": KEY + "x"})
            c.post("/api/session", json={"key": KEY})
            body = c.get("/openapi.json").text + c.get("/api/info").text
    assert caplog.records and KEY not in caplog.text
    assert KEY not in body


@pytest.mark.parametrize(
    ("host", "key", "insecure", "ok"),
    [
        ("127.0.0.1", None, False, True),
        ("127.0.0.2", None, False, True),
        ("localhost", None, False, True),
        ("::1", None, False, True),
        ("0.0.0.0", None, False, False),
        ("::", None, False, False),
        ("192.168.1.20", None, False, False),
        ("myhost.example", None, False, False),
        ("0.0.0.0", KEY, False, True),
        ("0.0.0.0", None, True, True),
    ],
)
def test_bind_rule(host, key, insecure, ok):
    if ok:
        check_bind(host, key, insecure)
    else:
        with pytest.raises(ServeConfigError, match="--api-key"):
            check_bind(host, key, insecure)


def test_cli_refuses_a_public_bind_without_a_key_before_loading(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VTRSEARCH_API_KEY", raising=False)
    start = time.perf_counter()
    assert main(["serve", str(tmp_path / "no-index"), "--host", "0.0.0.0"]) == 2
    assert time.perf_counter() - start < 1.0  # refused before opening anything
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0 without an API key" in err and "--insecure" in err
    assert main(["serve", str(tmp_path), "--media", str(tmp_path / "missing")]) == 2
    assert "--media" in capsys.readouterr().err
    assert main(["serve", str(tmp_path / "no-index"), "--port", "1"]) == 2
    assert "no vtrsearch index at" in capsys.readouterr().err  # one line, no traceback


def test_serve_help_does_not_import_the_web_stack():
    code = (
        "import sys, contextlib, io\n"
        "from vtrsearch.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['serve', '--help'])\n"
        "    except SystemExit: pass\n"
        "print([m for m in ('fastapi', 'uvicorn', 'starlette', 'torch') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
