"""The search view: query, filters, results, details, "more like this" and head switching.

Every search, encoder load and detail fetch runs in a thread worker, so typing never waits.
Queries: a text (encoded by the selected head's model), or ``like:<video_id>`` to search by a
stored video's vector; without a query encoder a bare video id is accepted.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, SelectionList, Static
from textual.worker import get_current_worker

from ..engine import (
    BASELINE,
    LIKE_PREFIX,
    SearchEngine,
    SearchOutcome,
    SearchRequest,
    error_text,
)
from ..widgets.detail import DetailPane
from ..widgets.filters import FilterPanel
from ..widgets.query_input import QueryInput
from ..widgets.results import ResultsTable

LIVE_DELAY = 0.4
NO_ENCODER = (
    "no query encoder: text search unavailable; type a video id (e.g. {example}) and press "
    "Enter, or press m on a result for 'more like this'"
)


class SearchView(Vertical):
    """Search a video index by text or by example.

    Args:
        engine: The search engine over the app's index.
    """

    BINDINGS = [
        Binding("ctrl+t", "toggle_live", "Live search"),
        Binding("ctrl+f", "focus_query", "Query"),
        Binding("ctrl+g", "focus_filters", "Filters"),
    ]

    def __init__(self, engine: SearchEngine, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.engine = engine
        self.live = False
        self.last_query: str | None = None
        self.outcome: SearchOutcome | None = None
        self._live_timer: Timer | None = None
        self._head = engine.start_head

    def compose(self) -> ComposeResult:
        index = self.engine.index
        with Horizontal():
            yield FilterPanel(
                sorted(self.engine.heads),
                self.engine.start_head,
                index.splits(),
                index.categories(),
                id="filters",
            )
            with Vertical(id="search-main"):
                yield QueryInput(
                    placeholder="search videos: type words and press Enter "
                    f"({LIKE_PREFIX}<video id> for videos like one)",
                    id="query",
                )
                yield Static("", id="banner")
                yield Static("", id="status")
                yield ResultsTable(id="results")
                yield DetailPane(id="detail")

    def on_mount(self) -> None:
        if self.engine.start_error:
            self.notify(self.engine.start_error, severity="error", markup=False)
        self._update_banner()
        self.query_one("#query", QueryInput).focus()

    # helpers -----------------------------------------------------------------------------
    @property
    def filters(self) -> FilterPanel:
        """The filter panel."""
        return self.query_one(FilterPanel)

    @property
    def results(self) -> ResultsTable:
        """The results table."""
        return self.query_one(ResultsTable)

    def set_status(self, text: str) -> None:
        """Show ``text`` on the status line."""
        self.query_one("#status", Static).update(text)

    def _update_banner(self) -> None:
        """Show the 'no query encoder' banner when the selected head cannot encode text."""
        head = self.filters.head
        banner = self.query_one("#banner", Static)
        if self.engine.text_available(head):
            banner.display = False
            self.set_status(f"ready: {len(self.engine.index)} videos; encoder loads on first query")
            if not self.engine.is_ready(head):
                self._warm_up(head)
        else:
            ids = self.engine.index.gallery().ids.tolist()
            banner.update(NO_ENCODER.format(example=ids[0] if ids else "video0"))
            banner.display = True
            self.set_status(f"ready: {len(self.engine.index)} videos (vector search only)")

    # searching ---------------------------------------------------------------------------
    def run_query(self, text: str) -> None:
        """Search for ``text`` with the current filters and head."""
        request = SearchRequest(
            query=text,
            k=self.filters.k,
            categories=self.filters.categories,
            split=self.filters.split,
            head=self.filters.head,
        )
        self.last_query = text
        self.set_status(f"searching {text!r}…")
        self._search(request)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, request: SearchRequest) -> None:
        worker = get_current_worker()
        app = self.app

        def status(text: str) -> None:
            if not worker.is_cancelled:
                app.call_from_thread(self._loading, text)

        try:
            outcome = self.engine.search(request, on_status=status)
        except Exception as exc:  # every failure becomes a notification
            if not worker.is_cancelled:
                app.call_from_thread(self._failed, request, exc)
            return
        if not worker.is_cancelled:
            app.call_from_thread(self._show, outcome)

    @work(thread=True, exclusive=True, group="warmup")
    def _warm_up(self, head: str) -> None:
        app = self.app
        label = self.engine.encoder_label(head)
        app.call_from_thread(self._loading, f"loading encoder {label}…")
        try:
            self.engine.warm_up(head)
        except Exception as exc:
            app.call_from_thread(self._warm_up_failed, head, label, exc)
            return
        app.call_from_thread(self._warmed_up, label)

    def _loading(self, text: str) -> None:
        self.set_status(text)
        self.results.loading = True

    def _warmed_up(self, label: str) -> None:
        self.results.loading = False
        if self.outcome is None and self.last_query is None:
            self.set_status(f"ready: {len(self.engine.index)} videos; encoder {label} loaded")

    def _warm_up_failed(self, head: str, label: str, exc: BaseException) -> None:
        self.results.loading = False
        self.set_status(f"{label} failed to load: text search unavailable (like:<id> works)")
        what = "no encoder" if head == BASELINE else f"head {head} unavailable"
        self.notify(f"{what}: {error_text(exc)}", severity="error", markup=False)

    def _failed(self, request: SearchRequest, exc: BaseException) -> None:
        self.results.loading = False
        self.set_status(f"search failed: {request.query!r}")
        self.notify(error_text(exc), severity="error", markup=False)

    def _show(self, outcome: SearchOutcome) -> None:
        self.results.loading = False
        self.outcome = outcome
        self.results.show(outcome)
        self.set_status(
            f"{len(outcome.hits)} results · {outcome.source} · {self.filters.describe()}"
        )
        if not outcome.hits:
            self.query_one(DetailPane).clear("no results")

    @work(thread=True, exclusive=True, group="detail")
    def _load_detail(self, video_id: str) -> None:
        worker = get_current_worker()
        try:
            detail = self.engine.detail(video_id)
        except Exception as exc:
            self.app.call_from_thread(self.notify, error_text(exc), severity="error", markup=False)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.query_one(DetailPane).show, detail, video_id)

    # events --------------------------------------------------------------------------------
    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.notify(
                "empty query: type some words (or like:<video id>) and press Enter",
                severity="error",
            )
            return
        event.input.remember(text)  # type: ignore[attr-defined]
        self.run_query(text)

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        if not self.live:
            return
        if self._live_timer is not None:
            self._live_timer.stop()
        text = event.value.strip()
        if text:
            self._live_timer = self.set_timer(LIVE_DELAY, lambda: self.run_query(text))

    @on(DataTable.RowHighlighted, "#results")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._load_detail(str(event.row_key.value))

    @on(ResultsTable.MoreLikeThis)
    def _more_like_this(self, event: ResultsTable.MoreLikeThis) -> None:
        text = f"{LIKE_PREFIX}{event.video_id}"
        query = self.query_one("#query", QueryInput)
        query.value = text
        query.remember(text)
        self.run_query(text)

    @on(Select.Changed, "#head")
    def _head_changed(self, event: Select.Changed) -> None:
        if event.value == self._head:
            return  # the select announces its initial value too
        self._head = self.filters.head
        self._update_banner()
        self._rerun()

    @on(Select.Changed, "#split, #k")
    def _filter_changed(self, event: Select.Changed) -> None:
        self._rerun()

    @on(SelectionList.SelectedChanged, "#categories")
    def _categories_changed(self, event: SelectionList.SelectedChanged) -> None:
        self._rerun()

    def _rerun(self) -> None:
        if self.last_query is not None and self.is_mounted:
            self.run_query(self.last_query)

    # actions -------------------------------------------------------------------------------
    def action_toggle_live(self) -> None:
        """Turn search-as-you-type on or off."""
        self.live = not self.live
        state = "on" if self.live else "off (press Enter to search)"
        self.notify(f"search as you type: {state}")

    def action_focus_query(self) -> None:
        """Move the focus to the query input."""
        self.query_one("#query", QueryInput).focus()

    def action_focus_filters(self) -> None:
        """Move the focus to the category filter."""
        self.query_one("#categories", SelectionList).focus()

    @property
    def head(self) -> str:
        """The selected head (``BASELINE`` when none)."""
        return self.filters.head or BASELINE
