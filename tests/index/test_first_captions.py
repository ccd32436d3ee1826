"""The first-caption map searches show per hit follows writes, here and from other handles."""

from __future__ import annotations

import numpy as np

from vtrsearch import Index


def _index(tmp_path) -> Index:
    index = Index.create(tmp_path / "idx", dim=4)
    index.add_videos(["a", "b", "c"], np.eye(3, 4), categories=[0, 1, 2])
    # numeric sen_ids sort as numbers, text ones after them; written out of order
    index.add_captions(["10", "9", "x1", "2"], ["a", "a", "a", "b"], ["ten", "nine", "x", "two"])
    return index


def test_first_captions_follow_writes(tmp_path):
    index = _index(tmp_path)
    assert index.first_captions(["a", "b", "c", "zzz"]) == {"a": "nine", "b": "two"}
    index.add_captions(["1"], ["a"], ["one"])  # this process: seen at once
    assert index.first_captions(["a"]) == {"a": "one"}
    other = Index.open(tmp_path / "idx")  # another handle (process) writes...
    other.add_captions(["0"], ["c"], ["zero"])
    index.refresh_interval = 0.0  # ...and is seen after the refresh interval
    assert index.first_captions(["c"]) == {"c": "zero"}
    index.delete_videos(["a"])
    assert index.first_captions(["a", "b"]) == {"b": "two"}
