"""Retrieval metrics (R@K, MedR, MeanR) for text-to-video and video-to-text, computed fast.

Conventions (the field's, made explicit):

* ``text`` is ``(n_captions, d)``, ``video`` is ``(n_videos, d)`` and ``caption_video[i]`` is the
  row of caption ``i``'s video. Similarities are ``text @ video.T`` unless a ``similarity_fn`` is
  given; rows are captions, columns are videos.
* **t2v**: every caption queries all videos; its rank is the 1-based position of its own video.
* **v2t**: every video queries all captions; its rank is the best rank among its own captions. The
  reference score of a video is the max over its own captions; only *other* videos' captions can
  beat or tie it. Videos without captions are excluded (and reported).
* **Ties** are explicit: ``rank = 1 + #(others strictly higher) + tie term`` where the tie term is
  half the number of other items tied with the reference score (``"average"``, the default), 0
  (``"optimistic"``) or all of them (``"pessimistic"``). Without ties the three agree with the usual
  sort-based reference code (CLIP4Clip ``compute_metrics``, collaborative-experts
  ``t2v_metrics``/``v2t_metrics``), and a model that scores everything equal gets no free R@1.

Speed: one pass over row chunks of the similarity matrix gives both directions. Each chunk is
counted against per-row (t2v) and per-column (v2t) thresholds; no argsort and no full
``n_captions x n_videos`` matrix is ever built. The v2t reference scores are only known after the
pass, so the default path brackets them with a rigorous floating-point error bound around a cheap
row-wise dot product, counts what lies clearly above, keeps the few scores inside the bracket and
resolves them exactly at the end (falling back to an exact second pass if the bracket ever fails).

MaxSim pooling (:func:`maxsim_ranks`): a video's score for a caption is its best segment's, from
``np.maximum.reduceat`` over blocks of caption x segment scores, counted by the same engine.

Layout: :mod:`.summary` (R@K/MedR/MeanR from ranks, breakdowns, length buckets), :mod:`.ranks`
(the public ranking functions), :mod:`.counting` (the one-pass counting engine),
:mod:`.bracket` (the v2t brackets and input checks) and :mod:`.maxsim` (the MaxSim source).
"""

from __future__ import annotations

from .counting import ProgressFn
from .ranks import (
    DIRECTIONS,
    TIES,
    SimilarityFn,
    evaluate,
    evaluate_similarity,
    maxsim_ranks,
    retrieval_ranks,
    similarity_ranks,
)
from .summary import (
    LENGTH_BUCKETS,
    RetrievalMetrics,
    breakdown,
    metrics_from_ranks,
    query_length_bucket,
)

__all__ = [
    "DIRECTIONS",
    "ProgressFn",
    "SimilarityFn",
    "LENGTH_BUCKETS",
    "TIES",
    "RetrievalMetrics",
    "breakdown",
    "evaluate",
    "evaluate_similarity",
    "maxsim_ranks",
    "metrics_from_ranks",
    "query_length_bucket",
    "retrieval_ranks",
    "similarity_ranks",
]
