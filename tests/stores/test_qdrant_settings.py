"""Qdrant cluster settings: URI parsing, what the client sends, storage with the index.

No Qdrant server runs here. The requests a server would get are checked as the qdrant-client
model objects the store hands to the client: a ``qdrant://`` store is given a real
qdrant-client in-memory connection (which accepts the cluster arguments and ignores them), and
every call through the connection is recorded. So the whole path (Index.create, add, search,
migrate, ``vtrsearch info``) runs for real; only the network hop to a cluster is missing.
"""

from __future__ import annotations

import uuid
import warnings

import numpy as np
import pytest
from qdrant_client import models as m

from vtrsearch import Index
from vtrsearch.cli import main
from vtrsearch.index.migrate import migrate_index
from vtrsearch.stores import open_store
from vtrsearch.stores.qdrant import QdrantSettings
from vtrsearch.stores.qdrant import store as store_module
from vtrsearch.stores.qdrant.connection import QdrantConnection, parse_uri

DIM = 8
CLUSTER = (
    "shards=6&replicas=2&write_consistency=2&on_disk=true&on_disk_payload=1"
    "&quantization=int8&always_ram=true&m=32&ef_construct=200"
    "&consistency=majority&hnsw_ef=128&rescore=true&oversampling=2&ordering=strong"
)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture
def cluster(monkeypatch):
    """Make ``qdrant://`` stores talk to qdrant-client's in-memory mode; record every call.

    Returns ``(name, calls)``: a fresh index name and a list of ``(method, kwargs)``.
    """
    calls: list[tuple[str, dict]] = []

    def connect(location, **options):
        conn = QdrantConnection(parse_uri("qdrant+local://:memory:/x"))
        conn.location = location  # a server location: the engine sends what a server gets
        real = conn.call

        def spy(what, fn, *args, **kwargs):
            calls.append((getattr(fn, "__name__", what), kwargs))
            return real(what, fn, *args, **kwargs)

        conn.call = spy
        return conn

    monkeypatch.setattr(store_module, "QdrantConnection", connect)
    # the in-memory client ignores search params and payload indexes, and says so
    warnings.filterwarnings("ignore", "Local mode", UserWarning)
    warnings.filterwarnings("ignore", "Payload indexes have no effect", UserWarning)
    return f"c{uuid.uuid4().hex[:10]}", calls


def _calls(calls, method: str) -> list[dict]:
    return [kw for name, kw in calls if name == method]


def test_uri_settings_are_parsed_in_one_place():
    loc = parse_uri(f"qdrant://node1:6333/msrvtt?{CLUSTER}&exact=false")
    assert (loc.host, loc.port, loc.name) == ("node1", 6333, "msrvtt")
    assert loc.settings == QdrantSettings(
        shard_number=6,
        replication_factor=2,
        write_consistency_factor=2,
        on_disk=True,
        on_disk_payload=True,
        quantization="int8",
        always_ram=True,
        hnsw_m=32,
        ef_construct=200,
        consistency="majority",
        hnsw_ef=128,
        exact=False,
        rescore=True,
        oversampling=2.0,
        write_ordering="strong",
    )
    assert parse_uri("qdrant://db/x?consistency=2").settings.consistency == 2
    assert parse_uri("qdrant+local:///data/i?m=0&quantization=none").settings.hnsw_m == 0
    assert parse_uri("qdrant://db/x").settings == QdrantSettings()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("shards=0", "shards.*at least 1"),
        ("shards=six", "shards.*whole number"),
        ("replicas=2&replicas=3", "given twice"),
        ("consistency=some", "majority, quorum, all"),
        ("quantization=pq", "int8"),
        ("oversampling=0.5", ">= 1"),
        ("ordering=sometimes", "weak, medium, strong"),
        ("exact=maybe", "true or false"),
        ("shard=6", "unknown Qdrant URI setting 'shard'.*shards"),
        ("shards", "malformed|whole number"),
    ],
)
def test_bad_uri_settings_are_refused_with_the_setting_named(query, message):
    with pytest.raises(ValueError, match=message):
        parse_uri(f"qdrant://db:6333/x?{query}")


def test_secrets_and_impossible_combinations_are_refused():
    with pytest.raises(ValueError, match="credentials are not accepted") as err:
        parse_uri("qdrant://db/x?api_key=sekrit-123")
    assert "sekrit" not in str(err.value)
    with pytest.raises(ValueError, match="always_ram needs quantization"):
        open_store("qdrant://127.0.0.1:1/x?always_ram=true")
    for uri in ("qdrant+local://:memory:/x?shards=2", "qdrant+local:///tmp/nowhere/x?replicas=2"):
        with pytest.raises(ValueError, match="only a Qdrant server"):
            open_store(uri)
    with pytest.raises(ValueError, match="'shards' and 'shard_number' are the same setting"):
        open_store("qdrant://127.0.0.1:1/x", shards=2, shard_number=2)
    with pytest.raises(TypeError, match="unknown Qdrant store option"):
        open_store("qdrant://127.0.0.1:1/x", shardz=2)


def test_the_client_gets_the_cluster_settings_as_qdrant_models(cluster, rng):
    name, calls = cluster
    index = Index.create(f"qdrant://node1:6333/{name}?{CLUSTER}", dim=DIM, gallery="store")
    creates = {
        kw["collection_name"].split("__")[1]: kw for kw in _calls(calls, "create_collection")
    }
    assert set(creates) == {"meta", "videos", "captions", "segments"}
    videos = creates["videos"]
    assert videos["vectors_config"] == m.VectorParams(
        size=DIM, distance=m.Distance.DOT, memory=m.Memory.COLD
    )
    assert (videos["shard_number"], videos["replication_factor"]) == (6, 2)
    assert videos["write_consistency_factor"] == 2
    assert videos["payload"] == m.PayloadStorageParams(memory=m.Memory.COLD)
    assert videos["hnsw_config"] == m.HnswConfigDiff(m=32, ef_construct=200)
    assert videos["quantization_config"] == m.ScalarQuantization(
        scalar=m.ScalarQuantizationConfig(
            type=m.ScalarType.INT8, quantile=0.99, memory=m.Memory.PINNED
        )
    )
    # what goes over the wire (the JSON body of PUT /collections/<name>)
    assert videos["quantization_config"].model_dump(exclude_none=True) == {
        "scalar": {"type": "int8", "quantile": 0.99, "memory": "pinned"}
    }
    captions = creates["captions"]  # payload only: sharded, nothing to quantise or index
    assert captions["vectors_config"] == {} and captions["shard_number"] == 6
    assert "quantization_config" not in captions and "hnsw_config" not in captions
    indexes = {
        (kw["collection_name"].split("__")[1], kw["field_name"])
        for kw in _calls(calls, "create_payload_index")
    }
    assert {("videos", "category"), ("videos", "split"), ("segments", "video_id")} <= indexes

    calls.clear()
    index.add_videos(
        [f"v{i}" for i in range(20)], unit(rng.normal(size=(20, DIM))), categories=[0] * 20
    )
    index.add_segments(["v1", "v1"], [0.0, 2.0], [1.0, 3.0], unit(rng.normal(size=(2, DIM))))
    for kw in _calls(calls, "upsert") + _calls(calls, "set_payload"):
        assert kw["wait"] is True and kw["ordering"] == m.WriteOrdering.STRONG

    calls.clear()
    hits = index.search(unit(rng.normal(size=DIM)), k=3, categories=[0])
    moments = index.search_moments(unit(rng.normal(size=DIM)), k=2, per_video=2)
    assert len(hits) == 3 and [mo.video_id for mo in moments] == ["v1", "v1"]
    want = m.SearchParams(
        hnsw_ef=128,
        exact=False,
        quantization=m.QuantizationSearchParams(rescore=True, oversampling=2.0),
    )
    searches = _calls(calls, "query_points") + _calls(calls, "query_points_groups")
    assert len(_calls(calls, "query_points_groups")) == 2  # best moments of hits, moments
    for kw in searches:
        assert kw["search_params"] == want
        assert kw["consistency"] == m.ReadConsistencyType.MAJORITY
    for kw in _calls(calls, "scroll") + _calls(calls, "retrieve"):
        assert kw["consistency"] == m.ReadConsistencyType.MAJORITY
    groups = _calls(calls, "query_points_groups")[-1]
    assert (groups["group_by"], groups["group_size"], groups["limit"]) == ("video_id", 2, 2)


def test_settings_are_stored_with_the_index_and_shown_by_info(cluster, capsys):
    name, calls = cluster
    uri = f"qdrant://node1:6333/{name}"
    Index.create(f"{uri}?shards=6&replicas=2&consistency=quorum", dim=DIM)
    index = Index.open(uri)  # no settings in the URI: the stored ones apply
    assert index.storage()["settings"] == {
        "shard_number": 6,
        "replication_factor": 2,
        "consistency": "quorum",
    }
    assert index.store.settings.read_kwargs(m) == {"consistency": m.ReadConsistencyType.QUORUM}
    override = Index.open(uri, consistency="all", hnsw_ef=64)  # read settings: per handle
    assert override.store.settings.consistency == "all"
    assert override.store.settings.shard_number == 6
    assert main(["info", uri]) == 0
    out = capsys.readouterr().out
    assert "Qdrant server (http://node1:6333)" in out
    assert "store settings: shard_number=6, replication_factor=2, consistency=quorum" in out
    with pytest.raises(ValueError, match="created with shard_number=6 \\(asked 3\\)"):
        Index.open(f"{uri}?shards=3").store.create_table(
            "extra", Index.open(uri).store.table_schema("videos"), "video_id"
        )


def test_migrate_into_a_cluster_uri(cluster, tmp_path, rng, capsys):
    name, calls = cluster
    src = Index.create(str(tmp_path / "lance"), dim=DIM, feature_model="test:random")
    vectors = unit(rng.normal(size=(30, DIM)))
    src.add_videos([f"v{i}" for i in range(30)], vectors, categories=[i % 4 for i in range(30)])
    src.add_captions(["1", "2"], ["v1", "v2"], ["a dog", "a cat"])
    dst = f"qdrant://node1:6333/{name}?shards=6&replicas=2"
    assert main(["migrate", str(tmp_path / "lance"), dst, "--no-progress"]) == 0
    assert "migrated" in capsys.readouterr().out
    for kw in _calls(calls, "create_collection"):
        assert (kw["shard_number"], kw["replication_factor"]) == (6, 2)
    copy = Index.open(f"qdrant://node1:6333/{name}", gallery="store")
    assert copy.metadata == src.metadata and "shard_number" not in copy.metadata
    assert copy.storage()["settings"] == {"shard_number": 6, "replication_factor": 2}
    q = vectors[5]
    assert [h.video_id for h in copy.search(q, k=5)] == [h.video_id for h in src.search(q, k=5)]
    assert copy.captions("v1") == ["a dog"]
    again = migrate_index(str(tmp_path / "lance"), dst, progress=False)  # re-run: converges
    assert again.rows == 32 and copy.store.count("videos") == 30


def test_the_cluster_recipe_parses():
    """deploy/qdrant-cluster: three peers in distributed mode, and every URI in its README is
    one that vtrsearch accepts (no container engine here: the cluster itself is not run)."""
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "deploy" / "qdrant-cluster"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    uris = set(re.findall(r"qdrant://[^\s\"'`)]+", readme))
    assert "qdrant://localhost:6333/msrvtt?shards=6&replicas=2" in uris
    for uri in uris:
        parse_uri(uri.rstrip(".,:"))
    suggested = max(re.findall(r"`(\?shards=6[^`]*)`", readme), key=len)
    settings = parse_uri(f"qdrant://db/x{suggested}").settings
    assert settings.on_disk and settings.always_ram and settings.quantization == "int8"
    compose = (folder / "docker-compose.yml").read_text(encoding="utf-8")
    assert compose.count("--bootstrap http://node1:6335") == 2
    assert "./qdrant --uri http://node1:6335" in compose
    assert 'QDRANT__CLUSTER__ENABLED: "true"' in compose
    yaml = pytest.importorskip("yaml")  # a dependency of the [clip] extra, not of the core
    services = yaml.safe_load(compose)["services"]
    assert sorted(services) == ["node1", "node2", "node3"]
    assert {s["environment"]["QDRANT__CLUSTER__ENABLED"] for s in services.values()} == {"true"}


def test_qdrant_settings_on_a_lancedb_path_are_refused(tmp_path):
    with pytest.raises(TypeError, match="shards: LanceDB .* takes no store options"):
        Index.create(str(tmp_path / "lance"), dim=DIM, shards=6)
    assert not (tmp_path / "lance").exists()
