"""Text queries through the index's encoder, the feature-space check, the caption cache."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vtrsearch import (
    DimensionMismatchError,
    Index,
    MissingCaptionVectorsError,
    SpaceMismatchError,
    load_encoder,
)
from vtrsearch.cli.main import main
from vtrsearch.encoders.space import UnknownSpaceWarning
from vtrsearch.index.caption_cache import caption_vectors, encode_captions

MINILM = "hf:minilm"
CAPTIONS = {
    "video0": ["a dog runs after a ball in the park", "a puppy chases a ball"],
    "video1": ["a man is cooking pasta in a kitchen", "a chef boils noodles"],
    "video2": ["a woman sings a song on stage", "a singer performs live music"],
    "video3": ["a red car drives fast on the highway", "a sports car races on a road"],
}
CATEGORIES = {"video0": 13, "video1": 17, "video2": 0, "video3": 9}


@pytest.fixture(scope="module")
def minilm():
    return load_encoder(MINILM)


@pytest.fixture
def text_index(tmp_path, minilm) -> Index:
    """Videos whose vectors are the mean MiniLM embedding of their captions."""
    index = Index.create(tmp_path / "idx", dim=384, feature_model=MINILM, encoder=MINILM)
    ids = list(CAPTIONS)
    vecs = np.stack([minilm.encode(CAPTIONS[v]).mean(axis=0) for v in ids])
    index.add_videos(ids, vecs, categories=[CATEGORIES[v] for v in ids])
    sen = [(f"{v}#{j}", v, t) for v in ids for j, t in enumerate(CAPTIONS[v])]
    index.add_captions(*(list(c) for c in zip(*sen, strict=True)))
    return index


def test_text_search_uses_the_index_encoder(text_index):
    assert text_index.encoder_spec == str(load_encoder(MINILM).spec)
    assert text_index.search("a dog playing with a ball", k=1)[0].video_id == "video0"
    assert text_index.search("someone making dinner", k=1)[0].video_id == "video1"
    hits = text_index.search("a dog playing with a ball", k=4, categories=["music", "cooking"])
    assert {h.video_id for h in hits} == {"video1", "video2"}
    batch = text_index.search_many(["a singer on stage", "a fast car"], k=1)
    assert [row[0].video_id for row in batch] == ["video2", "video3"]


def test_reopened_index_rebuilds_its_encoder(text_index, tmp_path):
    again = Index.open(tmp_path / "idx")
    assert again.search("a race car on the road", k=1)[0].video_id == "video3"
    assert again.query_encoder.spec == text_index.encoder_spec


def test_empty_and_long_queries(text_index):
    for bad in ("", "   \t"):
        with pytest.raises(ValueError, match="empty"):
            text_index.search(bad)
    with pytest.warns(UserWarning, match="truncat"):
        text_index.search("dog " * 600, k=1)


def test_feature_space_check(tmp_path, text_index):
    h14 = "open_clip:ViT-H-14/laion2b_s32b_b79k"
    other = Index.create(tmp_path / "h14", dim=1024, feature_model=h14)
    with pytest.raises(SpaceMismatchError, match="not in the space"):
        other.set_encoder(MINILM)
    with pytest.raises(SpaceMismatchError):
        Index.create(tmp_path / "h14b", dim=1024, feature_model=h14, encoder=MINILM)
    other.add_videos(["v"], np.ones((1, 1024)), categories=[0])
    other.set_encoder(MINILM, allow_foreign_space=True)  # expert override...
    with pytest.raises(DimensionMismatchError, match="384-d vectors, the index holds 1024-d"):
        Index.open(tmp_path / "h14").search("a dog")  # ...but a wrong dim is always an error
    unknown = Index.create(tmp_path / "unknown", dim=384)
    unknown.add_videos(["v"], np.ones((1, 384)), categories=[0])
    with pytest.warns(UnknownSpaceWarning):
        unknown.set_encoder(MINILM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownSpaceWarning)
        assert Index.open(tmp_path / "unknown").search("a dog", k=1)[0].video_id == "v"


def test_caption_cache_is_resumable_and_keyed_by_spec(text_index, minilm):
    calls = []

    def kill(done, total):
        calls.append(done)
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        encode_captions(text_index, minilm, chunk_size=3, on_chunk=kill, progress=False)
    with pytest.raises(MissingCaptionVectorsError, match="vtrsearch encode"):
        caption_vectors(text_index, MINILM)
    report = encode_captions(text_index, minilm, chunk_size=3, progress=False)
    assert (report.encoded, report.already_cached) == (5, 3)
    cached = caption_vectors(text_index, MINILM)
    assert len(cached) == 8 and len(set(cached.sen_ids)) == 8
    expected = minilm.encode(cached.texts)
    assert np.abs(cached.vectors - expected).max() < 1e-5
    assert encode_captions(text_index, minilm, progress=False).encoded == 0
    # an edited caption is re-encoded, nothing else
    text_index.add_captions(["video0#0"], ["video0"], ["a cat sleeps on a sofa"])
    assert encode_captions(text_index, minilm, progress=False).encoded == 1
    cached = caption_vectors(text_index, MINILM)
    row = cached.sen_ids.index("video0#0")
    assert np.allclose(cached.vectors[row], minilm.encode(["a cat sleeps on a sofa"])[0], atol=1e-5)
    with pytest.raises(MissingCaptionVectorsError, match="no cached caption vectors"):
        caption_vectors(text_index, "hf-clip:/nonexistent/other")


def test_training_arrays_are_row_aligned(text_index):
    from vtrsearch.trainer.from_index import training_arrays

    text_index.add_videos(
        ["video1", "video3"],
        np.stack([text_index.get(v).vector for v in ("video1", "video3")]),
        categories=[CATEGORIES["video1"], CATEGORIES["video3"]],
        splits=["validate", "test"],
    )
    caps, caption_video, videos, splits = training_arrays(text_index, MINILM, progress=False)
    cached = caption_vectors(text_index, MINILM)
    assert np.array_equal(caps, cached.vectors) and len(caption_video) == len(cached.sen_ids)
    for video_id, row in zip(cached.video_ids, caption_video.tolist(), strict=True):
        stored = text_index.get(video_id)
        assert np.allclose(videos[row], stored.vector, atol=1e-6)
        assert splits[row] == stored.split
    assert sorted(splits.tolist()) == ["", "", "test", "validate"]


def test_cache_table_left_by_a_kill_before_its_metadata_is_recovered(text_index, minilm):
    from vtrsearch.index.caption_cache import cache_info
    from vtrsearch.index.schema import caption_vectors_schema, caption_vectors_table

    table = caption_vectors_table(minilm.spec)
    text_index.store.create_table(table, caption_vectors_schema(384), "sen_id")
    assert minilm.spec not in cache_info(text_index)
    encode_captions(text_index, minilm, progress=False)
    assert len(caption_vectors(text_index, MINILM)) == 8


def test_cache_recorded_by_another_handle_is_seen(text_index, tmp_path, minilm):
    """A handle opened before another one encoded the captions still finds the cache."""
    early = Index.open(tmp_path / "idx")
    encode_captions(Index.open(tmp_path / "idx"), minilm, progress=False)
    assert encode_captions(early, minilm, progress=False).encoded == 0
    assert len(caption_vectors(early, MINILM)) == 8


def test_caption_cache_never_mixes_encoders(text_index, tmp_path):
    from helpers.tiny_models import save_tiny_hf_clip

    spec, _ = save_tiny_hf_clip(tmp_path / "tinyclip")
    encode_captions(text_index, MINILM, progress=False)
    encode_captions(text_index, spec, progress=False)
    a = caption_vectors(text_index, MINILM)
    b = caption_vectors(text_index, spec)
    assert a.vectors.shape[1] == 384 and b.vectors.shape[1] != 384
    assert len(text_index.metadata["caption_cache"]) == 2


def test_cli_encode_and_text_search(text_index, tmp_path, capsys):
    uri = str(tmp_path / "idx")
    assert main(["encode", uri, "--batch-size", "4"]) == 0
    assert "8 captions; encoded 8 now" in capsys.readouterr().out
    assert main(["search", uri, "a singer on stage", "-k", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "video2" in out[2]
    assert main(["search", uri, "   "]) == 2
    assert "empty query" in capsys.readouterr().err
