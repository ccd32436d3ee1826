"""Standard evaluation protocols of the field, by name (``vtrsearch eval --protocol NAME``).

* ``msvd`` (:mod:`.msvd`): every test caption queries the test clips; v2t with the best rank
  over a clip's captions.
* ``activitynet-paragraph`` (:mod:`.paragraphs`): ActivityNet Captions ``val_1``, a video's
  sentences joined into one paragraph query; encoder truncation reported.
* ``activitynet-moments`` (:mod:`.moments`): each timed sentence searches moments in its own
  video and across the corpus; R@1/R@5 at IoU 0.3/0.5/0.7 and mIoU.

Each report carries ``settings["protocol"]``, so ``metrics.json`` says which protocol it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .moment_report import MomentReport, MomentRow

if TYPE_CHECKING:
    from ...index.index import Index
    from ..report import EvalReport

#: Protocol name -> the split it evaluates by default.
PROTOCOLS = {
    "msvd": "test",
    "activitynet-paragraph": "val_1",
    "activitynet-moments": "val_1",
}

__all__ = ["PROTOCOLS", "MomentReport", "MomentRow", "run_protocol"]


def run_protocol(
    name: str,
    index: Index,
    *,
    split: str | None = None,
    encoder: str | None = None,
    heads: Sequence[str | Path] | str | Path = (),
    baseline: bool = True,
    **options: Any,
) -> EvalReport | MomentReport:
    """Run protocol ``name`` on ``index``.

    Args:
        name: One of :data:`PROTOCOLS`.
        index: The index to evaluate.
        split: The split to evaluate (default: the protocol's, e.g. ``val_1``).
        encoder: Baseline text encoder spec (default: the index's).
        heads: Projection heads; one row each.
        baseline: Evaluate the bare encoder.
        **options: The protocol function's other keyword arguments (``ties``, ``ks``,
            ``progress``, ...).

    Raises:
        ValueError: an unknown protocol (the message lists them).
    """
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}")
    common = {
        "split": split or PROTOCOLS[name],
        "encoder": encoder,
        "heads": heads,
        "baseline": baseline,
    }
    if name == "msvd":
        from .msvd import evaluate_msvd

        return evaluate_msvd(index, **common, **options)
    if name == "activitynet-paragraph":
        from .paragraphs import evaluate_paragraphs

        return evaluate_paragraphs(index, **common, **options)
    from .moments import evaluate_moments

    return evaluate_moments(index, **common, **options)
