"""Pieces shared by the protocols: settings for ``metrics.json`` and split checks."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...index.index import Index
    from ..plan import EvalPlan


def protocol_settings(
    index: Index,
    plan: EvalPlan,
    protocol: str,
    n_videos: int,
    n_queries: dict[str, int],
    **extra: Any,
) -> dict[str, Any]:
    """The settings block of a protocol's report (the keys of a plain evaluation's, plus
    ``protocol`` and ``extra``)."""
    out: dict[str, Any] = {
        "protocol": protocol,
        **plan.settings(index),
        # a protocol's own rows: never re-ranked, never checked through the index
        "rerank": None,
        "qb_bank_split": None,
        "via_index": False,
        "n_videos": int(n_videos),
        "n_queries": dict(n_queries),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out.update(extra)
    return out


def size_note(what: str, got: int, standard: int, unit: str = "videos") -> str | None:
    """A note when the evaluated split is not the size of the standard one (else ``None``)."""
    if got == standard:
        return None
    return (
        f"{what}: the standard split has {standard:,} {unit}, this one {got:,}; figures are not "
        "comparable with published ones"
    )
