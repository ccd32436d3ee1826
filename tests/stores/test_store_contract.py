"""One contract for every VectorStore: embedded LanceDB, the embedded Qdrant engine
(qdrant-edge, ``qdrant+local:///dir/name``) and qdrant-client in memory (the client code path a
Qdrant server gets).

Everything :class:`vtrsearch.Index` relies on is checked on each backend, then Index end to
end. Qdrant searches here are exact: in-memory mode is brute force, and the fixture passes
``exact=True``, which the embedded engine (and a server) honour. Qdrant-only behaviour (URIs,
retries, unreachable server, payload indexes) is at the end; settings, the embedded engine's
folder and the legacy layout are in ``test_qdrant_settings.py`` and ``test_qdrant_edge.py``.
"""

from __future__ import annotations

import socket
import time
import uuid

import numpy as np
import pyarrow as pa
import pytest

from vtrsearch import Index, StoreUnavailableError
from vtrsearch.filters import Filter, In
from vtrsearch.index.schema import vector_array, videos_schema
from vtrsearch.stores import SCORE, VectorStore, open_store

DIM = 16
INJECTION = "x' OR '1'='1"
HOSTILE = [INJECTION, "music' --", '"; DROP TABLE videos; --', "1 OR 1=1", "%", "*"]
BACKENDS = ["lance", "qdrant-local", "qdrant-memory"]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    """``(uri, open)``: a fresh store URI and an opener that closes what it opened."""
    kind = request.param
    if kind == "lance":
        uri = str(tmp_path / "lance")
    elif kind == "qdrant-local":
        uri = f"qdrant+local://{tmp_path}/qdrant/idx"
    else:
        uri = f"qdrant+local://:memory:/t{uuid.uuid4().hex[:12]}"
    opened: list[VectorStore] = []

    def open_(**options) -> VectorStore:
        if kind != "lance":
            options.setdefault("exact", True)
        store = open_store(uri, **options)
        opened.append(store)
        return store

    open_.kind, open_.uri = kind, uri
    yield open_
    for store in opened:
        store.close()


def _rows(n: int, rng: np.random.Generator, prefix: str = "video") -> pa.Table:
    vecs = rng.normal(size=(n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return pa.table(
        {
            "video_id": [f"{prefix}{i}" for i in range(n)],
            "category": pa.array([i % 20 for i in range(n)], pa.int32()),
            "category_name": [f"cat{i % 20}" for i in range(n)],
            "split": ["test" if i % 3 == 0 else "train" for i in range(n)],
            "start": [float(i) for i in range(n)],
            "end": [None if i % 7 == 0 else float(i) + 0.5 for i in range(n)],
            "url": [f"https://example.invalid/{i}" for i in range(n)],
            "vector": vector_array(vecs),
        },
        schema=videos_schema(DIM),
    )


@pytest.fixture
def store(backend, rng) -> VectorStore:
    s = backend()
    s.create_table("videos", videos_schema(DIM), "video_id")
    s.upsert("videos", _rows(200, rng), "video_id")
    return s


def _by_key(table: pa.Table, key: str = "video_id") -> dict[str, dict]:
    return {row[key]: row for row in table.to_pylist()}


# tables -----------------------------------------------------------------------------------
def test_create_table_is_idempotent_and_typed(backend):
    s = backend()
    assert not s.exists() and s.list_tables() == [] and not s.has_table("videos")
    s.create_table("videos", videos_schema(DIM), "video_id")
    s.create_table("videos", videos_schema(DIM), "video_id")
    assert s.has_table("videos") and s.list_tables() == ["videos"]
    assert s.table_schema("videos").names == videos_schema(DIM).names
    assert s.table_schema("videos").field("vector").type == pa.list_(pa.float32(), DIM)
    with pytest.raises(ValueError, match="columns"):
        s.create_table("videos", pa.schema([pa.field("video_id", pa.string())]), "video_id")
    with pytest.raises(KeyError):
        s.count("missing")
    s.drop_table("missing")  # no-op
    s.create_table("caption_vectors_abc", videos_schema(4), "video_id")
    assert s.list_tables() == ["caption_vectors_abc", "videos"]
    s.drop_table("caption_vectors_abc")
    assert s.list_tables() == ["videos"] and not s.has_table("caption_vectors_abc")


def test_upsert_same_key_twice_is_one_row_with_new_values(store, rng):
    assert store.count("videos") == 200
    changed = _rows(50, rng)
    changed = changed.set_column(2, "category_name", pa.array(["renamed"] * 50))
    assert store.upsert("videos", changed, "video_id") == 50
    assert store.upsert("videos", changed, "video_id") == 50
    assert store.count("videos") == 200
    rows = _by_key(store.scan("videos"))
    assert len(rows) == 200
    assert rows["video3"]["category_name"] == "renamed" and rows["video60"]["category_name"] != (
        "renamed"
    )
    want = changed["vector"].to_pylist()[3]
    assert np.allclose(rows["video3"]["vector"], want, atol=1e-7)


def test_invalid_batch_writes_nothing(store, rng):
    """Rows are cast to the schema before any write, so a bad batch is refused whole."""
    bad = _rows(10, rng, prefix="bad").to_pydict()
    bad["category"] = ["not a number"] * 10
    bad["vector"] = [list(v) for v in bad["vector"]]
    version = store.version("videos")
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, ValueError)):
        store.upsert("videos", pa.table(bad), "video_id")
    assert store.count("videos") == 200 and store.version("videos") == version


def test_scan_columns_filters_and_types(store):
    full = store.scan("videos")
    assert full.schema.names == videos_schema(DIM).names and full.num_rows == 200
    assert full.schema.field("category").type == pa.int32()
    assert full.schema.field("end").type == pa.float64()
    assert _by_key(full)["video7"]["end"] is None and _by_key(full)["video8"]["end"] == 8.5
    part = store.scan("videos", columns=["split", "video_id"])
    assert part.column_names == ["split", "video_id"]
    assert sorted(part["video_id"].to_pylist()) == sorted(f"video{i}" for i in range(200))

    def ids(**where) -> list[str]:
        rows = store.scan("videos", columns=["video_id"], where=Filter.where(**where))
        return sorted(rows["video_id"].to_pylist())

    assert ids(video_id=["video1", "video5", "nope"]) == ["video1", "video5"]
    assert ids(category=[3, 7]) == sorted(f"video{i}" for i in range(200) if i % 20 in (3, 7))
    assert ids(category=np.array([3], dtype=np.int64)) == ids(category=[3])
    expected = sorted(f"video{i}" for i in range(200) if i % 20 in (3, 7) and i % 3 == 0)
    assert ids(category=[3, 7], split="test") == expected
    assert ids(split=["nope"]) == [] and ids(category=[]) == []
    # values of the wrong kind match nothing instead of being coerced or evaluated
    assert ids(category=["3"]) == [] and ids(video_id=[1]) == []
    assert ids(category=[3, "3"]) == ids(category=[3])
    empty = store.scan("videos", columns=["video_id", "vector"], where=Filter.where(split="x"))
    assert empty.num_rows == 0 and empty.column_names == ["video_id", "vector"]
    with pytest.raises(KeyError, match="no column 'nope'"):
        store.scan("videos", where=Filter.where(nope=1))


def test_hostile_filter_values_are_plain_values(store, rng):
    for value in HOSTILE:
        for column in ("video_id", "split", "category_name", "url"):
            assert store.count("videos", Filter.where(**{column: value})) == 0
        assert store.count("videos", Filter.where(category=value)) == 0
    store.upsert("videos", _rows(1, rng, prefix=INJECTION), "video_id")
    assert store.count("videos") == 201
    assert store.count("videos", Filter.where(video_id=INJECTION)) == 0  # no prefix match
    key = f"{INJECTION}0"
    assert store.scan("videos", where=Filter.where(video_id=key))["video_id"].to_pylist() == [key]
    store.delete("videos", Filter.where(video_id=[key, *HOSTILE]))
    assert store.count("videos") == 200


def _brute(table: pa.Table, q: np.ndarray, k: int, cats=None, split=None) -> tuple[list, list]:
    vecs = np.array(table["vector"].to_pylist(), dtype=np.float32)
    keep = np.ones(len(vecs), dtype=bool)
    if cats is not None:
        keep &= np.isin(table["category"].to_numpy(), list(cats))
    if split is not None:
        keep &= np.array([s == split for s in table["split"].to_pylist()])
    scores = vecs @ q
    order = [i for i in np.argsort(-scores, kind="stable") if keep[i]][:k]
    ids = table["video_id"].to_pylist()
    return [ids[i] for i in order], [float(scores[i]) for i in order]


def test_search_top_k_is_numpy_brute_force(store, rng):
    table = store.scan("videos")
    for _ in range(10):
        q = rng.normal(size=DIM).astype(np.float32)
        q /= np.linalg.norm(q)
        for cats, split, k in ((None, None, 10), ([1, 4, 9], None, 5), ([2, 3], "test", 50)):
            where = Filter.where(category=cats, split=split)
            got = store.search("videos", q, k, where, columns=["video_id", "category"])
            assert got.column_names == ["video_id", "category", SCORE]
            want_ids, want_scores = _brute(table, q, k, cats, split)
            assert got["video_id"].to_pylist() == want_ids
            assert np.allclose(got[SCORE].to_numpy(), want_scores, atol=1e-5)
    default = store.search("videos", q, 3)
    assert "vector" not in default.column_names and default.num_rows == 3
    assert store.search("videos", q, 5, Filter.where(split=INJECTION)).num_rows == 0


def test_count_and_delete_by_filter(store):
    assert store.count("videos", Filter.where(split="test")) == 67
    doomed = sum(1 for i in range(200) if i % 20 in (0, 1) and i % 3)
    assert store.count("videos", Filter.where(category=[0, 1], split="train")) == doomed == 13
    for empty in (Filter(), Filter.where(split=None)):
        with pytest.raises(ValueError, match="empty filter"):
            store.delete("videos", empty)
    store.delete("videos", Filter((In("category", (0, 1)), In("split", ("train",)))))
    assert store.count("videos") == 200 - doomed
    assert store.count("videos", Filter.where(category=[0, 1], split="train")) == 0
    store.delete("videos", Filter.where(category=["0"]))  # wrong kind: nothing
    assert store.count("videos") == 187


def test_version_changes_after_every_write(store, backend, rng):
    other = backend()
    seen = [store.version("videos")]
    assert other.version("videos") == seen[-1]
    store.upsert("videos", _rows(3, rng, prefix="new"), "video_id")
    seen.append(store.version("videos"))
    store.delete("videos", Filter.where(video_id="new1"))
    seen.append(store.version("videos"))
    assert len(set(seen)) == 3
    assert other.version("videos") == seen[-1]  # another handle sees the same change
    store.scan("videos")
    store.count("videos")
    assert store.version("videos") == seen[-1]  # reads do not change it


def test_metadata_get_set_merge(backend):
    s = backend()
    assert s.get_metadata() == {} and not s.exists()
    s.set_metadata({"dim": 16, "nested": {"a": [1, 2]}, "name": INJECTION})
    assert s.exists()
    s.set_metadata({"nested": {"b": None}, "created": "2024-01-01T00:00:00Z"})
    assert s.get_metadata() == {
        "dim": 16,
        "nested": {"b": None},
        "name": INJECTION,
        "created": "2024-01-01T00:00:00Z",
    }
    assert s.list_tables() == []  # the metadata is not a data table


def test_iter_batches_streams_every_row(store):
    batches = list(store.iter_batches("videos", columns=["video_id", "vector"], batch_size=64))
    assert all(b.num_rows <= 64 for b in batches) and sum(b.num_rows for b in batches) == 200
    joined = pa.concat_tables(batches)
    assert joined.column_names == ["video_id", "vector"]
    assert sorted(joined["video_id"].to_pylist()) == sorted(
        store.scan("videos")["video_id"].to_pylist()
    )


def test_reopen_from_the_same_uri_sees_everything(store, backend):
    store.set_metadata({"dim": DIM})
    second = backend()  # while the first handle is still open
    assert second.count("videos") == 200 and second.get_metadata() == {"dim": DIM}
    before = store.scan("videos")
    store.close()
    second.close()
    again = backend()  # qdrant local mode: a new client that reloads from disk
    assert again.exists() and again.get_metadata() == {"dim": DIM}
    assert again.list_tables() == ["videos"]
    after = again.scan("videos")
    assert after.schema == before.schema
    assert _by_key(after) == _by_key(before)


# Index end to end -------------------------------------------------------------------------
def _index_brute(index: Index, q: np.ndarray, k: int, cats=None, split=None) -> list[str]:
    qn = (q / np.linalg.norm(q)).astype(np.float32)
    return _brute(index.store.scan("videos"), qn, k, cats, split)[0]


def test_index_end_to_end(backend, rng):
    uri = backend.uri
    opts = {} if backend.kind == "lance" else {"exact": True}
    index = Index.create(uri, dim=DIM, feature_model="test:random", **opts)
    frame = _rows(200, rng).drop_columns(["category_name"]).to_pandas()
    assert index.add_videos(frame, batch_size=64) == 200
    assert index.add_videos(frame.iloc[:30]) == 30  # re-add: replaced, not duplicated
    assert len(index) == 200 and index.store.count("videos") == 200
    assert index.splits() == {"test": 67, "train": 133}
    index.add_captions(["1", "2", "3"], ["video1", "video1", "video2"], ["a dog", "a cat", "x"])
    for q in rng.normal(size=(8, DIM)).astype(np.float32):
        assert [h.video_id for h in index.search(q, k=10)] == _index_brute(index, q, 10)
        hits = index.search(q, k=7, categories=["music", 3], split="test")
        assert [h.video_id for h in hits] == _index_brute(index, q, 7, {0, 3}, "test")
        via_store = index.search_store(q, k=7, categories=["music", 3], split="test")
        assert [h.video_id for h in via_store] == [h.video_id for h in hits]
        assert np.allclose([h.score for h in via_store], [h.score for h in hits], atol=1e-5)
    video = index.get("video7")
    assert video.category == 7 and video.end is None and video.url.endswith("/7")
    assert np.isclose(np.linalg.norm(video.vector), 1.0, atol=1e-6)
    assert index.get(INJECTION) is None and index.captions(INJECTION) == []
    assert index.captions("video1") == ["a dog", "a cat"]
    reader = Index.open(uri, **opts)  # a second handle while the first is open
    index.delete_videos(["video1", INJECTION])
    reader.refresh()
    assert len(reader) == 199 and "video1" not in reader
    assert index.store.count("captions") == 1
    q = rng.normal(size=DIM)
    before = index.search(q, k=5, split="train")
    index.store.close()
    reader.store.close()
    again = Index.open(uri, **opts)
    assert len(again) == 199 and again.feature_model == "test:random"
    assert again.search(q, k=5, split="train") == before
    assert again.captions("video2") == ["x"]


# Qdrant only -------------------------------------------------------------------------------
def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_unreachable_server_is_one_clear_error_in_bounded_time(monkeypatch):
    monkeypatch.setenv("QDRANT_API_KEY", "sekrit-key-123")
    port = _closed_port()
    start = time.monotonic()
    with pytest.warns(UserWarning), pytest.raises(StoreUnavailableError) as err:  # insecure key
        Index.open(f"qdrant://127.0.0.1:{port}/x", timeout=2)
    assert time.monotonic() - start < 10
    message = str(err.value)
    assert f"http://127.0.0.1:{port}" in message and "unavailable" in message
    assert "sekrit" not in message and "sekrit" not in repr(err.value)
    store = open_store(f"qdrant+https://127.0.0.1:{port}/x", api_key="other-sekrit", timeout=1)
    assert "sekrit" not in repr(store) and "sekrit" not in repr(store._engine.conn)
    with pytest.raises(StoreUnavailableError) as err:
        store.count("videos")
    assert "sekrit" not in str(err.value) and f"https://127.0.0.1:{port}" in str(err.value)


def test_transient_errors_are_retried_others_raised_at_once():
    import httpx
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    conn = open_store(f"qdrant://127.0.0.1:{_closed_port()}/x", timeout=5)._engine.conn
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ResponseHandlingException(httpx.ConnectError("refused"))
        return "ok"

    assert conn.call("test", flaky) == "ok" and len(calls) == 3

    def bad_request():
        calls.append(1)
        raise UnexpectedResponse(400, "Bad Request", b"wrong", httpx.Headers())

    calls.clear()
    with pytest.raises(UnexpectedResponse):
        conn.call("test", bad_request)
    assert len(calls) == 1

    def unauthorized():
        raise UnexpectedResponse(401, "Unauthorized", b"", httpx.Headers())

    with pytest.raises(StoreUnavailableError, match="check the API key"):
        conn.call("test", unauthorized)


@pytest.mark.parametrize(
    ("uri", "display", "name"),
    [
        ("qdrant://db:6333/idx", "http://db:6333", "idx"),
        ("qdrant://db/idx", "http://db:6333", "idx"),
        (
            "qdrant+https://q.example.com:443/pre/fix/my-idx",
            "https://q.example.com:443/pre/fix",
            "my-idx",
        ),
        ("qdrant+local://:memory:/m", "qdrant-client in memory", "m"),
        (
            "qdrant+local:///data/idx/my_index",
            "embedded Qdrant (qdrant-edge) in /data/idx/my_index",
            "my_index",
        ),
        ("qdrant+legacy:///data/idx/old", "qdrant-client local mode /data/idx", "old"),
    ],
)
def test_uri_forms(uri, display, name):
    from vtrsearch.stores.qdrant.connection import parse_uri

    loc = parse_uri(uri)
    assert (loc.display, loc.name) == (display, name)


@pytest.mark.parametrize(
    "uri", ["qdrant://user:pw-sekrit@db/idx", "qdrant://db/", "qdrant://db:x/i", "qdrant://db/a.b"]
)
def test_bad_uris_are_refused_without_echoing_secrets(uri):
    from vtrsearch.stores.qdrant.connection import parse_uri

    with pytest.raises(ValueError) as err:
        parse_uri(uri)
    assert "sekrit" not in str(err.value)


def test_deterministic_ids_and_server_side_setup(monkeypatch):
    """Point ids are UUID5 of the key; a server gets payload indexes and exact search params."""
    from vtrsearch.stores.qdrant.store import point_id

    assert point_id("video1") == point_id("video1") != point_id("video2")
    assert str(uuid.UUID(point_id("video1"))) == point_id("video1")
    s = open_store(f"qdrant+local://:memory:/p{uuid.uuid4().hex[:8]}", exact=True)
    calls = []
    monkeypatch.setattr(s._engine, "server", True)  # pretend to be a server: indexes are made
    real = s._engine.conn.call

    def spy(what, fn, *args, **kwargs):
        if getattr(fn, "__name__", "") == "create_payload_index":
            calls.append((kwargs["collection_name"], kwargs["field_name"], kwargs["field_schema"]))
            return None
        return real(what, fn, *args, **kwargs)

    monkeypatch.setattr(s._engine.conn, "call", spy)
    s.create_table("videos", videos_schema(4), "video_id", indexed=("category", "split"))
    s.create_table(
        "captions",
        pa.schema([("sen_id", pa.string()), ("video_id", pa.string())]),
        "sen_id",
        indexed=("video_id",),
    )
    got = {(c.split("__")[1], f, str(getattr(k, "value", k))) for c, f, k in calls}
    assert {
        ("videos", "category", "integer"),
        ("videos", "split", "keyword"),
        ("videos", "video_id", "keyword"),
        ("captions", "video_id", "keyword"),
        ("captions", "sen_id", "keyword"),
        ("meta", "kind", "keyword"),
    } <= got
    server = open_store(
        f"qdrant://127.0.0.1:{_closed_port()}/x", exact=True, write_ordering="strong"
    )
    assert server._engine._search_kw()["search_params"].exact is True
    assert server._engine._write["ordering"].value == "strong"
    with pytest.raises(ValueError, match="write_ordering"):
        open_store(f"qdrant://127.0.0.1:{_closed_port()}/x", write_ordering="sometimes")


def test_local_path_opened_twice_shares_the_engine(tmp_path):
    """Two handles in one process share the embedded engine's shards; another index in the
    same parent folder is independent."""
    uri = f"qdrant+local://{tmp_path}/q/idx"
    a = Index.create(uri, dim=4)
    b = Index.open(uri)
    a.add_videos(["v"], np.ones((1, 4)), categories=[0])
    b.refresh()
    assert len(b) == 1
    other = Index.create(f"qdrant+local://{tmp_path}/q/second", dim=4)  # same parent folder
    assert len(other) == 0 and len(b) == 1
    a.store.close()
    assert len(b) == 1 and b.search(np.ones(4), k=1)[0].video_id == "v"  # b still works


def test_interrupted_ingest_into_qdrant_reruns_to_completion(synthetic_root, tmp_path):
    from vtrsearch.ingest import ingest_msrvtt

    uri = f"qdrant+local://{tmp_path}/q/idx"

    def kill(done: int, total: int) -> None:
        if done >= 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_msrvtt(synthetic_root, uri, batch_size=25, on_batch=kill, progress=False)
    index = Index.open(uri)
    assert index.store.count("videos") == 50 and index.store.count("captions") == 0
    ingest_msrvtt(synthetic_root, uri, batch_size=25, progress=False)
    videos = index.store.scan("videos", columns=["video_id"])["video_id"].to_pylist()
    captions = index.store.scan("captions", columns=["sen_id"])["sen_id"].to_pylist()
    assert sorted(videos) == sorted(f"video{i}" for i in range(120)) and len(set(videos)) == 120
    assert len(captions) == len(set(captions)) == 360
    index.refresh()
    assert len(index) == 120
