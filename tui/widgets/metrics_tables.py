"""Tables of evaluation results: metrics per model, per category and per query length."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from textual.widgets import DataTable

from ..text import plain_text

if TYPE_CHECKING:
    from vtrsearch.eval.metrics import RetrievalMetrics
    from vtrsearch.eval.report import EvalReport, EvalRow


def fmt(value: float) -> str:
    """A metric as ``vtrsearch eval`` prints it (one decimal)."""
    return f"{value:.1f}"


def metric_headers(directions: Sequence[str], ks: Sequence[int]) -> list[str]:
    """``t2v R@1 ... t2v MedR, t2v MeanR, v2t ...`` (the columns of ``vtrsearch eval``)."""
    out: list[str] = []
    for d in directions:
        out += [f"{d} R@{k}" for k in ks] + [f"{d} MedR", f"{d} MeanR"]
    return out


def metric_cells(row: EvalRow, directions: Sequence[str], ks: Sequence[int]) -> list[str]:
    """The cells of ``row`` under :func:`metric_headers` (``-`` where not evaluated)."""
    cells: list[str] = []
    for d in directions:
        m = row.metrics.get(d)
        if m is None:
            cells += ["-"] * (len(ks) + 2)
        else:
            cells += [fmt(m.recall(k)) for k in ks] + [fmt(m.medr), fmt(m.meanr)]
    return cells


def short_label(label: str) -> str:
    """``head:name`` -> ``name``, ``baseline`` -> ``base``, cut to 10 characters."""
    name = "base" if label == "baseline" else label.removeprefix("head:")
    return name if len(name) <= 10 else name[:9] + "…"


def _sort_key(value: Any) -> tuple[int, Any]:
    text = str(value)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text.lower())


class SortableTable(DataTable):
    """A DataTable sorted by clicking a column header (click again to reverse)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.sorted_by: str | None = None
        self.reverse = False

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        self.reverse = not self.reverse if key == self.sorted_by else False
        self.sort_by(key, reverse=self.reverse)

    def sort_by(self, column: str, reverse: bool = False) -> None:
        """Sort the rows by ``column`` (numbers numerically, text case-insensitively)."""
        self.sorted_by, self.reverse = column, reverse
        self.sort(column, key=_sort_key, reverse=reverse)

    def column_values(self, column: int) -> list[str]:
        """The cells of column ``column``, top to bottom."""
        return [str(self.get_row_at(i)[column]) for i in range(self.row_count)]


def fill_metrics(
    table: DataTable, rows: Sequence[EvalRow], directions: Sequence[str], ks: Sequence[int]
) -> None:
    """One row per model: R@K, MedR, MeanR for each direction."""
    table.clear(columns=True)
    table.add_column("model", key="model")
    for header in metric_headers(directions, ks):
        table.add_column(header, key=header)
    for row in rows:
        table.add_row(plain_text(row.label), *metric_cells(row, directions, ks), key=row.label)


def fill_groups(
    table: SortableTable,
    first: str,
    groups: Sequence[tuple[str, Mapping[str, Mapping[str, RetrievalMetrics]]]],
    ks: Sequence[int],
    order: Sequence[str] | None = None,
) -> None:
    """Rows = groups (categories or length buckets), columns = per model R@K and MedR.

    Args:
        table: The table to fill.
        first: Header of the group column.
        groups: ``(model label, group name -> metrics)`` per model.
        ks: Recall cut-offs.
        order: Group names in display order (default: the first model's order).
    """
    table.clear(columns=True)
    table.sorted_by, table.reverse = None, False
    table.add_column(first, key="group")
    table.add_column("queries", key="queries")
    for label, _ in groups:
        short = short_label(label)
        for k in ks:
            table.add_column(plain_text(f"{short} R@{k}"), key=f"{label} R@{k}")
        table.add_column(plain_text(f"{short} MedR"), key=f"{label} MedR")
    if not groups:
        return
    names = list(order) if order is not None else list(groups[0][1])
    for name in names:
        ref = next((g[name] for _, g in groups if name in g), None)
        if ref is None:
            continue
        cells: list[object] = [plain_text(name), str(ref.n_queries)]
        for _, g in groups:
            m = g.get(name)
            if m is None:
                cells += ["-"] * (len(ks) + 1)
            else:
                cells += [fmt(m.recall(k)) for k in ks] + [fmt(m.medr)]
        table.add_row(*cells, key=name)


def group_direction(report: EvalReport) -> str:
    """The direction the per-category table shows: t2v when evaluated, else v2t."""
    dirs = report.settings.get("directions") or ["t2v"]
    return "t2v" if "t2v" in dirs else dirs[0]
