"""Token counts: how long a text is for an encoder, and whether encode() truncates it.

The counts agree with the truncation each backend reports (``QueryTruncatedWarning`` names
exactly the texts whose count exceeds the context), on a tiny open_clip model, a tiny
transformers CLIP and the real MiniLM.
"""

from __future__ import annotations

import re
import warnings

import pytest
from helpers.tiny_models import save_tiny_hf_clip, save_tiny_open_clip

from vtrsearch.encoders import load_encoder
from vtrsearch.encoders.spec import QueryTruncatedWarning

TEXTS = ["a dog!", "word " * 10, "word " * 75, "word " * 76, "x " * 300]


@pytest.fixture(scope="module", params=["open_clip", "hf-clip", "minilm"])
def encoder(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "open_clip":
        spec, _ = save_tiny_open_clip(folder)
    elif request.param == "hf-clip":
        spec, _ = save_tiny_hf_clip(folder)
    else:
        spec = "hf:minilm"
    return load_encoder(spec, device="cpu")


def test_counts_include_special_tokens(encoder) -> None:
    counts = encoder.token_counts(TEXTS)
    # start + words + end: "a dog!" is a, dog, ! in both CLIP BPE and WordPiece
    assert counts[:4] == [5, 12, 77, 78]
    assert counts[4] == 302
    assert encoder.token_counts([]) == []


def test_counts_match_the_truncation_encode_reports(encoder) -> None:
    counts = encoder.token_counts(TEXTS)
    ctx = encoder.context_length
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoder.encode(TEXTS)
    reported: set[int] = set()
    for w in caught:
        if issubclass(w.category, QueryTruncatedWarning):
            found = re.search(r"indices ([\d, .]+)\)", str(w.message))
            assert found is not None
            reported |= {int(i) for i in re.findall(r"\d+", found.group(1))}
    assert reported == {i for i, n in enumerate(counts) if n > ctx}


def test_blank_text_is_refused(encoder) -> None:
    with pytest.raises(ValueError, match="empty"):
        encoder.token_counts(["ok", "  "])
