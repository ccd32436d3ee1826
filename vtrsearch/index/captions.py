"""Caption order: the one place that decides which caption of a video comes first.

MSR-VTT ``sen_id`` values are numbers stored as text, so comparing them as strings puts
``"10"`` before ``"9"``. Every ordering of captions (:meth:`vtrsearch.Index.captions`, the
"first caption" of a hit) uses :func:`caption_order_key` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGITS = re.compile(r"(\d+)")


def caption_order_key(sen_id: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key of a caption: runs of digits compare as numbers ("natural" order).

    ``"9" < "10" < "100"``, ``"sen9" < "sen10"``, ``"video3#2" < "video3#10"``; ids made only
    of digits come before ids starting with a letter. Ties between spellings of one number
    (``"09"`` and ``"9"``) fall back to the plain text, so the order is total.

    Args:
        sen_id: The caption's ``sen_id``.

    Returns:
        A key for :func:`sorted` (text and number parts alternate, so keys always compare).
    """
    parts = _DIGITS.split(str(sen_id))
    chunks = tuple(int(p) if i % 2 else p for i, p in enumerate(parts))
    return chunks, str(sen_id)


def first_caption_per_video(
    sen_ids: Iterable[str], video_ids: Iterable[str], texts: Iterable[str]
) -> dict[str, str]:
    """video id -> the text of its first caption in :func:`caption_order_key` order.

    Args:
        sen_ids: Caption ids, one per row.
        video_ids: The video of each row.
        texts: The caption text of each row.
    """
    best: dict[str, tuple[tuple[tuple[str | int, ...], str], str]] = {}
    for sen, vid, text in zip(sen_ids, video_ids, texts, strict=True):
        key = caption_order_key(sen)
        if vid not in best or key < best[vid][0]:
            best[vid] = (key, text)
    return {vid: text for vid, (_, text) in best.items()}
