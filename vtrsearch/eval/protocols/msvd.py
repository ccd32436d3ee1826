"""The MSVD protocol: every test caption queries the test videos, and the reverse.

The standard test split has 670 clips and ~27,000 English captions (about 40 a clip).
Text-to-video: each caption's rank is the position of its own clip among the test clips.
Video-to-text: a clip queries every test caption and its rank is the best rank among its own
captions (the multi-caption path of :mod:`vtrsearch.eval.metrics`). This is the plain
evaluation of the ``test`` split, labelled ``msvd`` in ``metrics.json``, with a note when the
split is not the standard size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..metrics import DIRECTIONS
from ..progress import ProgressCallback
from ..run import evaluate_index
from .common import size_note

if TYPE_CHECKING:
    from ...index.index import Index
    from ..report import EvalReport

NAME = "msvd"
DEFAULT_SPLIT = "test"
#: Clips of the standard MSVD test split.
TEST_VIDEOS = 670


def evaluate_msvd(
    index: Index,
    *,
    split: str = DEFAULT_SPLIT,
    encoder: str | None = None,
    heads: Sequence[str | Path] | str | Path = (),
    baseline: bool = True,
    directions: Sequence[str] | str = DIRECTIONS,
    ties: str = "average",
    ks: Sequence[int] = (1, 5, 10),
    rerank: str | None = None,
    qb_bank_split: str = "train",
    via_index: bool = False,
    via_mode: str = "exact",
    pools: Sequence[str] | str = ("mean",),
    progress: ProgressCallback | bool | None = True,
) -> EvalReport:
    """MSVD retrieval metrics, both directions (arguments as :func:`evaluate_index`)."""
    report = evaluate_index(
        index,
        split=split,
        encoder=encoder,
        heads=heads,
        baseline=baseline,
        directions=directions,
        ties=ties,
        ks=ks,
        rerank=rerank,
        qb_bank_split=qb_bank_split,
        via_index=via_index,
        via_mode=via_mode,
        progress=progress,
        pools=pools,
    )
    report.settings = {"protocol": NAME, **report.settings}
    note = size_note("MSVD test", int(report.settings["n_videos"]), TEST_VIDEOS)
    if note:
        report.notes.append(note)
    if "v2t" in report.settings["directions"]:
        report.notes.append("v2t: a video's rank is the best rank among its own captions")
    return report
