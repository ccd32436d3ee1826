"""The report of the moment-retrieval protocol: R@n at IoU >= m and mIoU, per model and scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..metrics.iou import MomentMetrics
from ..report import report_json

#: The two scopes a sentence searches: its own video's moments, and every moment of the split.
SCOPES = ("video", "corpus")
SCOPE_TITLES = {"video": "within its video", "corpus": "across the corpus"}


@dataclass
class MomentRow:
    """Moment-retrieval metrics of one model.

    Attributes:
        label: ``"baseline"`` or ``"head:<name>"``.
        encoder: Spec of the text encoder of the query vectors.
        head: Directory of the projection head, ``None`` for the bare encoder.
        metrics: Scope (``"video"``, ``"corpus"``) -> metrics.
    """

    label: str
    encoder: str
    head: str | None
    metrics: dict[str, MomentMetrics]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict of the row."""
        return {
            "label": self.label,
            "encoder": self.encoder,
            "head": self.head,
            "metrics": {scope: m.to_dict() for scope, m in self.metrics.items()},
        }


@dataclass
class MomentReport:
    """Everything one run of the moment-retrieval protocol measured.

    Attributes:
        settings: Protocol, split, encoder, heads, cut-offs, IoU thresholds, counts, ...
        rows: One row per model (baseline first, then each head).
        notes: Caveats (queries whose video has no segments, segment length vs moments, ...).
    """

    settings: dict[str, Any]
    rows: list[MomentRow]
    notes: list[str] = field(default_factory=list)

    def row(self, label: str) -> MomentRow:
        """The row called ``label`` (``KeyError`` naming the labels when absent)."""
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(f"no row {label!r}; rows: {', '.join(r.label for r in self.rows)}")

    def to_dict(self) -> dict[str, Any]:
        """Settings, notes and every row's numbers as a JSON-friendly dict."""
        return {
            "settings": self.settings,
            "notes": list(self.notes),
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_json(self, path: str | Path | None = None, indent: int = 2) -> str:
        """The report as JSON text; also written to ``path`` when given."""
        return report_json(self.to_dict(), path, indent)

    def format_table(self) -> str:
        """Rows x scopes, columns R@n IoU=m ... and mIoU, as a plain-text table."""
        from ...tables import format_table

        ks = self.settings.get("ks", [1, 5])
        thresholds = self.settings.get("iou_thresholds", [0.3, 0.5, 0.7])
        headers = ["model", "search"]
        headers += [f"R@{n} IoU={m:g}" for n in ks for m in thresholds] + ["mIoU"]
        rows = []
        for r in self.rows:
            for scope in SCOPES:
                m = r.metrics.get(scope)
                if m is None:
                    continue
                values = [m.at(n, t) for n in ks for t in thresholds] + [m.miou]
                cells: list[object] = [r.label, SCOPE_TITLES[scope]]
                cells += [f"{v:.1f}".rjust(len(headers[2 + i])) for i, v in enumerate(values)]
                rows.append(cells)
        return format_table(headers, rows)
