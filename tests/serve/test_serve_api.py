"""The HTTP API through FastAPI's test client on a real MiniLM index: search, filters, heads,
moments, videos, media with Range, errors and limits."""

from __future__ import annotations

import asyncio
import logging

import anyio
import numpy as np
import pytest
from fastapi.testclient import TestClient
from helpers.serve_data import MINILM, VIDEOS, XSS

from vtrsearch import Index
from vtrsearch.index.session import QueryEncoder
from vtrsearch.serve import Limits, ServeConfig
from vtrsearch.serve.app import create_app
from vtrsearch.serve.engine import SearchService


@pytest.fixture(scope="module")
def service(served) -> SearchService:
    index, media = served
    return SearchService(Index.open(index.uri), media=media)


@pytest.fixture(scope="module")
def client(served, service):
    index, media = served
    app = create_app(ServeConfig(index=index.uri, media=media), service=service)
    with TestClient(app) as c:  # runs the lifespan: the encoder is warmed here
        yield c


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["video_id"] for r in response.json()["results"]]


def test_encoder_is_warmed_at_start_up(served, caplog):
    index, media = served
    service = SearchService(Index.open(index.uri), media=media)
    assert not service.index.query_encoder.encoder.loaded
    with caplog.at_level(logging.INFO, logger="vtrsearch.serve"):
        with TestClient(create_app(ServeConfig(index=index.uri), service=service)):
            assert service.index.query_encoder.encoder.loaded  # before any request
    assert any(
        "warmed up in" in r.getMessage() and MINILM in r.getMessage() for r in caplog.records
    )


def test_text_search_matches_the_index(client, served):
    index, _ = served
    r = client.get("/api/search", params={"q": "someone cooks pasta", "k": 5})
    expected = index.search("someone cooks pasta", k=5)
    assert ids(r) == [h.video_id for h in expected]
    body = r.json()
    assert body["mode"] == "text" and body["head"] == "baseline" and body["moments"] is False
    assert body["encoder"] == index.encoder_spec
    first = body["results"][0]
    assert first["category_name"] == "cooking" and first["rank"] == 1
    assert first["score"] == pytest.approx(expected[0].score, abs=1e-5)
    assert first["caption"] == VIDEOS[first["video_id"]][1][0]  # first caption by sen_id
    best = expected[0]  # with segments, every hit names its best moment
    assert (first["segment"], first["start"], first["end"]) == (best.segment, best.start, best.end)
    assert first["thumbnail"] == f"/thumbs/{best.video_id}/{best.segment}"


def test_filters_k_and_like(client, served):
    index, _ = served
    r = client.get("/api/search", params={"q": "a dog", "k": 30, "category": ["music", "travel"]})
    assert {x["category_name"] for x in r.json()["results"]} == {"music", "travel"}
    assert len(ids(r)) == 9  # 4 + 4 + the travel video outside the media folder
    r = client.get("/api/search", params={"q": "a dog", "k": 30, "split": "test"})
    assert len(ids(r)) == 12
    assert set(ids(r)) == {h.video_id for h in index.search("a dog", k=30, split="test")}
    r = client.get("/api/search", params={"q": "a dog", "k": 3})
    assert len(ids(r)) == 3
    r = client.get("/api/search", params={"q": "like:video5", "k": 4})
    assert ids(r)[0] == "video5" and r.json()["mode"] == "like"
    assert r.json()["results"][0]["score"] == pytest.approx(1.0, abs=1e-5)
    expected = index.search(index.get("video5").vector, k=4)
    assert ids(r) == [h.video_id for h in expected]


def test_heads(client, served, head_dir):
    index, _ = served
    tuned = QueryEncoder(MINILM, 384, MINILM, head=head_dir)
    query = "a woman plays the guitar"
    expected = index.search(tuned.encode_one(query), k=8)
    r = client.get("/api/search", params={"q": query, "k": 8, "head": "tuned"})
    assert ids(r) == [h.video_id for h in expected]
    assert r.json()["head"] == "tuned" and "head tuned" in r.json()["encoder"]
    baseline = ids(client.get("/api/search", params={"q": query, "k": 8, "head": "baseline"}))
    assert baseline == [h.video_id for h in index.search(query, k=8)]
    assert baseline != ids(r)  # the head really changes the ranking
    r = client.get("/api/search", params={"q": query, "head": "/etc"})
    assert r.status_code == 400 and "unknown head '/etc'" in r.json()["detail"]
    assert "baseline, tuned" in r.json()["detail"]


def test_server_head_is_the_default(served, head_dir):
    index, _ = served
    svc = SearchService(Index.open(index.uri), head=str(head_dir))
    assert svc.default_head == "tuned"  # a directory registered under a name resolves to it
    with TestClient(create_app(ServeConfig(index=index.uri), service=svc)) as c:
        r = c.get("/api/search", params={"q": "a cat", "k": 3})
        assert r.json()["head"] == "tuned"
        assert c.get("/api/info").json()["default_head"] == "tuned"


def test_concurrent_requests_match_sequential_answers(client):
    import httpx

    queries = [
        {"q": q, "k": 5, "head": h}
        for q in ("a man sings", "a red car", "a sunny beach", "feeds a cat", "like:video7")
        for h in ("baseline", "tuned")
    ]
    sequential = [ids(client.get("/api/search", params=p)) for p in queries]

    async def all_at_once():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*(c.get("/api/search", params=p) for p in queries * 3))

    answers = asyncio.run(all_at_once())
    assert [ids(a) for a in answers] == sequential * 3


def test_moments_pool_and_thumbnails(client, served):
    index, _ = served
    query = "a child sings a song on stage"  # caption 1 of video2: segment 1, 2-4 s
    r = client.get("/api/search", params={"q": query, "k": 6, "moments": "true"})
    assert r.status_code == 200 and r.json()["moments"] is True
    expected = index.search_moments(query, k=6)
    got = r.json()["results"]
    assert [(m["video_id"], m["segment"], m["start"], m["end"]) for m in got] == [
        (m.video_id, m.segment, m.start, m.end) for m in expected
    ]
    assert (got[0]["video_id"], got[0]["start"], got[0]["end"]) == ("video2", 2.0, 4.0)
    assert len({m["video_id"] for m in got}) == 6  # one moment per video by default
    r = client.get("/api/search", params={"q": query, "k": 6, "moments": "true", "per_video": 3})
    per = [m["video_id"] for m in r.json()["results"]]
    assert max(per.count(v) for v in per) >= 2
    assert client.get("/api/search", params={"q": query, "per_video": 0}).status_code == 422
    r = client.get("/api/search", params={"q": query, "k": 5, "pool": "max"})
    assert ids(r) == [h.video_id for h in index.search(query, k=5, pool="max")]
    assert client.get("/api/search", params={"q": "a song", "pool": "median"}).status_code == 422
    # thumbnails: stored JPEG bytes; none for the last segment, an unknown one or video
    r = client.get("/thumbs/video2/1")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content == index.thumbnail("video2", 1)
    for bad in ("/thumbs/video2/2", "/thumbs/video2/9", "/thumbs/nope/0", "/thumbs/video2/x"):
        assert client.get(bad).status_code in (404, 422), bad
    assert client.get("/api/info").json()["moments"] is True


def test_video_details_and_categories(client):
    r = client.get("/api/videos/video23")
    assert r.status_code == 200
    body = r.json()
    assert body["captions"] == VIDEOS["video23"][1]  # in sen_id order, XSS text verbatim
    assert XSS in body["captions"] and body["category_name"] == "travel"
    assert body["media"] is None
    assert body["segments"] == [
        {"segment": 0, "start": 0.0, "end": 2.0, "thumbnail": "/thumbs/video23/0"},
        {"segment": 1, "start": 2.0, "end": 4.0, "thumbnail": "/thumbs/video23/1"},
        {"segment": 2, "start": 4.0, "end": 6.0, "thumbnail": None},
    ]
    assert client.get("/api/videos/video0").json()["media"] == "/media/video0"
    r = client.get("/api/videos/nope")
    assert r.status_code == 404 and r.json() == {"detail": "video 'nope' is not in the index"}
    cats = {c["name"]: c["count"] for c in client.get("/api/categories").json()}
    assert cats["cooking"] == 4 and cats["travel"] == 5 and cats["news/events/politics"] == 0
    info = client.get("/api/info").json()
    assert info["videos"] == 25 and info["heads"] == ["baseline", "tuned"]
    assert info["splits"] == {"test": 12, "train": 13} and info["max_k"] == 1000


def test_media_range_types_and_traversal(client, served):
    _, media = served
    r = client.get("/media/video0")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    assert (
        r.headers["accept-ranges"] == "bytes" and r.content == (media / "video0.mp4").read_bytes()
    )
    r = client.get("/media/video0", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == bytes(range(10, 20))
    assert r.headers["content-range"] == "bytes 10-19/1024"
    assert client.get("/media/video1").headers["content-type"] == "video/webm"
    for bad in (
        "/media/..%2F..%2F..%2Fetc%2Fpasswd",
        "/media/%2Fetc%2Fpasswd",
        "/media/..%2Fsecret",  # in the index, but its clip would be outside the folder
        "/media/video2",  # a symlink leaving the folder
        "/media/video3",  # only known video types are served
        "/media/video4",  # no file
        "/media/unknown",
        "/media/video0%00.mp4",
    ):
        r = client.get(bad)
        assert r.status_code == 404, bad
        assert "outside the media folder" not in r.text and "root:" not in r.text


def test_errors_are_json_and_limits_hold(client, served):
    r = client.get("/api/search", params={"q": "x" * 1001})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "q"]
    assert "x" * 1001 not in r.text  # the input is not echoed back
    for k in (0, 1001, "many"):
        assert client.get("/api/search", params={"q": "a dog", "k": k}).status_code == 422
    assert client.get("/api/search", params={"q": "a dog", "k": 1000}).status_code == 200
    assert client.get("/api/search").status_code == 422
    r = client.get("/api/search", params={"q": "   "})
    assert r.status_code == 400 and "empty query" in r.json()["detail"]
    r = client.get("/api/search", params={"q": "a dog", "category": "nonsense"})
    assert r.status_code == 400 and "unknown category 'nonsense'" in r.json()["detail"]
    r = client.get("/api/search", params={"q": "a dog", "split": "val"})
    assert r.status_code == 400 and "unknown split 'val'" in r.json()["detail"]
    r = client.get("/api/search", params={"q": "like:video999"})
    assert r.status_code == 400 and "'video999' is not in the index" in r.json()["detail"]
    r = client.get("/no/such/route")
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    r = client.post("/api/session", content=b"{" + b" " * 20000 + b"}")
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    def chunks():
        for _ in range(40):
            yield b" " * 1000

    r = client.post("/api/session", content=chunks())  # no Content-Length: counted as it streams
    assert r.status_code == 413


def test_internal_errors_hide_the_traceback(served, monkeypatch, caplog):
    index, _ = served
    svc = SearchService(Index.open(index.uri))

    def broken():
        raise RuntimeError("secret internals at /srv/private")

    monkeypatch.setattr(svc, "categories", broken)
    app = create_app(ServeConfig(index=index.uri), service=svc)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/categories")
    assert r.status_code == 500 and r.json() == {"detail": "internal server error"}
    assert "Traceback" not in r.text and "secret" not in r.text
    assert "secret internals" in caplog.text  # ...but the server log has it


def test_no_cors_by_default_and_only_for_listed_origins(client, served, service):
    index, _ = served
    origin = {"Origin": "http://evil.example"}
    r = client.get("/api/search", params={"q": "a dog"}, headers=origin)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    config = ServeConfig(index=index.uri, cors=("http://ok.example",))
    with TestClient(create_app(config, service=service)) as c:
        ok = c.get("/api/categories", headers={"Origin": "http://ok.example"})
        assert ok.headers["access-control-allow-origin"] == "http://ok.example"
        assert "access-control-allow-origin" not in c.get("/api/categories", headers=origin).headers


def test_page_docs_and_headers(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert 'src="/static/app.js"' in r.text and "http" not in r.text.split("<body>")[0]
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "textContent" in js.text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js.text, f"app.js uses {sink}"
    assert client.get("/static/style.css").status_code == 200
    docs = client.get("/docs").text
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    k = next(p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "k")
    assert k["schema"]["maximum"] == 1000
    assert {"/api/search", "/api/videos/{video_id}", "/media/{video_id}"} <= set(spec["paths"])


def test_smaller_limits_from_the_config(served, service):
    index, _ = served
    config = ServeConfig(index=index.uri, limits=Limits(max_query_chars=10, max_k=5), threads=3)
    svc = SearchService(service.index, max_k=5, max_query_chars=10)
    with TestClient(create_app(config, service=svc)) as c:
        limiter = c.portal.call(anyio.to_thread.current_default_thread_limiter)
        assert limiter.total_tokens == 3  # the worker pool the config asked for
        assert c.get("/api/search", params={"q": "a dog", "k": 6}).status_code == 422
        assert c.get("/api/search", params={"q": "a dog on a beach"}).status_code == 422
        assert len(ids(c.get("/api/search", params={"q": "a dog", "k": 5}))) == 5


def test_text_queries_need_an_encoder(tmp_path):
    bare = Index.create(tmp_path / "bare", dim=4)
    bare.add_videos(["a", "b"], np.eye(2, 4), categories=[0, 1])
    with TestClient(create_app(ServeConfig(index=str(tmp_path / "bare")))) as c:
        r = c.get("/api/search", params={"q": "a dog"})
        assert r.status_code == 400 and "no query encoder" in r.json()["detail"]
        assert ids(c.get("/api/search", params={"q": "like:b"})) == ["b", "a"]
        assert c.get("/api/info").json()["text_queries"] is False
        # no segments: moments and MaxSim pooling are clear 400s, thumbnails 404s
        r = c.get("/api/search", params={"q": "like:b", "moments": "true"})
        assert r.status_code == 400 and "no segments" in r.json()["detail"]
        r = c.get("/api/search", params={"q": "like:b", "pool": "max"})
        assert r.status_code == 400 and "pool=max" in r.json()["detail"]
        assert c.get("/thumbs/a/0").status_code == 404
        assert c.get("/api/info").json()["moments"] is False
        assert c.get("/api/search", params={"q": "like:b"}).json()["results"][0]["start"] is None
