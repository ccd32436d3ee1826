"""The search filters: query head, split, k and a multi-select of categories."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Select, SelectionList

from vtrsearch.categories import Category

from ..engine import BASELINE
from ..text import plain_text

ALL_SPLITS = "all"
K_CHOICES = (5, 10, 20, 50, 100)
BASELINE_LABEL = "baseline (no head)"
CATEGORIES_ALL = "Categories (none = all)"


class FilterPanel(Vertical):
    """Head switch, split and k selects, category multi-select (none selected = all).

    Args:
        heads: Names of the heads to offer besides the baseline.
        head: The head selected at start (``BASELINE`` for none).
        splits: Split name -> number of videos.
        categories: The index's categories with their counts.
        k: Initial number of results.
    """

    DEFAULT_CSS = """
    FilterPanel {
        width: 34;
        height: 100%;
        padding: 0 1;
        border-right: vkey $foreground 20%;
    }
    FilterPanel Label {
        margin-top: 1;
        color: $text-muted;
    }
    FilterPanel Select {
        width: 100%;
    }
    FilterPanel #categories {
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(
        self,
        heads: list[str],
        head: str,
        splits: dict[str, int],
        categories: list[Category],
        k: int = 10,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._heads = heads
        self._head = head
        self._splits = splits
        self._categories = categories
        self._k = k

    def compose(self) -> ComposeResult:
        yield Label("Query head")
        yield Select(
            [(BASELINE_LABEL, BASELINE), *((plain_text(name), name) for name in self._heads)],
            value=self._head,
            allow_blank=False,
            compact=True,
            id="head",
        )
        yield Label("Split")
        total = sum(self._splits.values())
        split_options = [(f"all ({total})", ALL_SPLITS)]
        split_options += [
            (plain_text(f"{name or '(none)'} ({n})"), name) for name, n in self._splits.items()
        ]
        yield Select(split_options, value=ALL_SPLITS, allow_blank=False, compact=True, id="split")
        yield Label("Results (k)")
        ks = sorted(set(K_CHOICES) | {self._k})
        yield Select(
            [(str(k), k) for k in ks], value=self._k, allow_blank=False, compact=True, id="k"
        )
        yield Label(CATEGORIES_ALL, id="categories-label")
        yield SelectionList[str](
            *((plain_text(f"{c.name} ({c.count})"), c.name) for c in self._categories if c.count),
            id="categories",
        )

    @property
    def head(self) -> str:
        """The selected head (``BASELINE`` for none)."""
        value = self.query_one("#head", Select).value
        return value if isinstance(value, str) else BASELINE

    @property
    def split(self) -> str | None:
        """The selected split, ``None`` for all."""
        value = self.query_one("#split", Select).value
        return None if value == ALL_SPLITS or not isinstance(value, str) else value

    @property
    def k(self) -> int:
        """The selected number of results."""
        value = self.query_one("#k", Select).value
        return value if isinstance(value, int) else self._k

    @property
    def categories(self) -> tuple[str, ...] | None:
        """Selected category names, ``None`` when none is selected (all)."""
        selected = self.query_one("#categories", SelectionList).selected
        return tuple(selected) if selected else None

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        """Say how many categories are selected (the checkboxes are easy to misread)."""
        n = len(event.selection_list.selected)
        label = CATEGORIES_ALL if n == 0 else f"Categories ({n} selected)"
        self.query_one("#categories-label", Label).update(label)

    def describe(self) -> str:
        """A short summary of the filters for the status line."""
        cats = self.categories
        where = "all splits" if self.split is None else f"split {self.split}"
        what = "all categories" if cats is None else ", ".join(cats)
        return f"{where} · {what}"
