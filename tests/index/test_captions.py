"""One caption order: numeric sen_ids sort as numbers everywhere ("9" before "10")."""

from __future__ import annotations

import numpy as np

from vtrsearch import Index
from vtrsearch.index.captions import caption_order_key


def test_caption_order_key_is_natural_and_total():
    ids = ["10", "9", "100", "sen10", "sen9", "v3#10", "v3#2", "b", "a", "09"]
    assert sorted(ids, key=caption_order_key) == [
        "09",
        "9",
        "10",
        "100",
        "a",
        "b",
        "sen9",
        "sen10",
        "v3#2",
        "v3#10",
    ]
    # "09" and "9" name the same number; the text breaks the tie, so the order is total
    assert caption_order_key("09") != caption_order_key("9")
    # an id that extends another with digits compares without a TypeError
    assert caption_order_key("a1x") < caption_order_key("a1x2")


def test_captions_and_first_captions_agree_on_nine_before_ten(tmp_path):
    idx = Index.create(tmp_path / "i", dim=4)
    idx.add_videos(["x", "y"], np.eye(2, 4, dtype=np.float32), categories=[0, 1])
    idx.add_captions(
        ["10", "9", "100", "sen10", "sen9"],
        ["x", "x", "x", "y", "y"],
        ["ten", "nine", "hundred", "y ten", "y nine"],
    )
    assert idx.captions("x") == ["nine", "ten", "hundred"]
    assert idx.captions("y") == ["y nine", "y ten"]
    assert idx.first_captions(["x", "y", "missing"]) == {"x": "nine", "y": "y nine"}
    assert idx.first_captions([]) == {}
    # the stored video's captions use the same order
    video = idx.get("x")
    assert video is not None and video.captions[0] == "nine"
