"""Planted MSVD and ActivityNet Captions folders and their indexes, built once per session.

The indexes are shared: tests read them and never write to them (tests that write ingest
into their own ``tmp_path``).
"""

from __future__ import annotations

import pytest
from helpers.planted_datasets import (
    PlantedActivityNet,
    PlantedMSVD,
    write_activitynet,
    write_msvd,
)

from vtrsearch import Index, load_encoder
from vtrsearch.ingest.activitynet import ingest_activitynet
from vtrsearch.ingest.msvd import ingest_msvd

MINILM = "hf:minilm"


@pytest.fixture(scope="session")
def minilm():
    return load_encoder(MINILM, device="cpu")


@pytest.fixture(scope="session")
def planted_msvd(tmp_path_factory, minilm) -> PlantedMSVD:
    return write_msvd(tmp_path_factory.mktemp("planted") / "msvd", minilm.encode)


@pytest.fixture(scope="session")
def planted_anet(tmp_path_factory, minilm) -> PlantedActivityNet:
    return write_activitynet(tmp_path_factory.mktemp("planted") / "activitynet", minilm.encode)


@pytest.fixture(scope="session")
def msvd_index(planted_msvd, tmp_path_factory) -> Index:
    uri = tmp_path_factory.mktemp("msvd") / "index"
    ingest_msvd(
        planted_msvd.root, uri, allow_missing=True, encoder=MINILM, feature_model=MINILM,
        progress=False,
    )  # fmt: skip
    return Index.open(uri)


@pytest.fixture(scope="session")
def anet_index(planted_anet, tmp_path_factory) -> Index:
    uri = tmp_path_factory.mktemp("anet") / "index"
    ingest_activitynet(
        planted_anet.root, uri, allow_missing=True, encoder=MINILM, feature_model=MINILM,
        progress=False,
    )  # fmt: skip
    return Index.open(uri)
