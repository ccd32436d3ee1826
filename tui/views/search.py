"""The search view: query, filters, results, details, "more like this" and head switching.

Every search, encoder load and detail fetch runs in a thread worker, so typing never waits.
Nothing loads when the view opens: the query encoder loads on the first text search.
Queries: a text (encoded by the selected head's model), or ``like:<video_id>`` to search by a
stored video's vector; without a query encoder a bare video id is accepted.

Moments (an index with segments): every result shows its best moment, the detail pane the top
moments of the highlighted video for the query; ctrl+p switches between pooled and MaxSim
ranking (the status line says which), ``o`` (or ctrl+o) plays the highlighted video at its best
moment when its file is known locally.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, SelectionList
from textual.worker import get_current_worker

from vtrsearch.errors import NoSegmentsError
from vtrsearch.tables import clock

from ..engine import (
    BASELINE,
    LIKE_PREFIX,
    EncoderUnavailableError,
    QueryError,
    SearchEngine,
    SearchOutcome,
    SearchRequest,
    error_text,
)
from ..widgets.detail import DetailPane
from ..widgets.filters import FilterPanel
from ..widgets.query_input import QueryInput
from ..widgets.results import ResultsTable
from ..widgets.status import Banner, StatusLine

LIVE_DELAY = 0.4
NO_ENCODER = (
    "no query encoder: text search unavailable; type a video id (e.g. {example}) and press "
    "Enter, or press m on a result for 'more like this'"
)
POOL_TEXT = {"mean": "pooled ranking", "max": "MaxSim ranking (best moment)"}
"""How the status line names the ranking, in an index with segments."""


class SearchView(Vertical):
    """Search a video index by text or by example.

    Args:
        engine: The search engine over the app's index.
    """

    DEFAULT_CSS = """
    SearchView #search-main {
        height: 100%;
        padding: 0 1;
    }
    SearchView #query {
        margin-top: 1;
    }
    """

    class Searched(Message):
        """A search finished; ``outcome.n_videos`` is the index's size after it."""

        def __init__(self, outcome: SearchOutcome) -> None:
            super().__init__()
            self.outcome = outcome

    BINDINGS = [
        Binding("ctrl+t", "toggle_live", "Live search"),
        Binding("ctrl+f", "focus_query", "Query"),
        Binding("ctrl+g", "focus_filters", "Filters"),
        Binding("ctrl+p", "toggle_pool", "Pooled/MaxSim", show=False),
        Binding("ctrl+o", "open_moment", "Open at moment", show=False),
    ]

    head: reactive[str] = reactive(BASELINE)
    """The selected query head (``BASELINE`` for none); drives the banner and the status."""
    status: reactive[str] = reactive("")
    """The status line's text."""
    banner: reactive[str] = reactive("")
    """The 'no query encoder' banner's text (empty: hidden)."""
    pool: reactive[str] = reactive("mean")
    """Ranking: ``"mean"`` (pooled vectors) or ``"max"`` (MaxSim: best segment)."""

    def __init__(self, engine: SearchEngine, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.engine = engine
        self.live = False
        self.last_query: str | None = None
        self.outcome: SearchOutcome | None = None
        self._live_timer: Timer | None = None

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
                yield Banner(id="banner").data_bind(text=SearchView.banner)
                yield StatusLine(id="status").data_bind(text=SearchView.status)
                yield ResultsTable(id="results")
                yield DetailPane(id="detail")

    def on_mount(self) -> None:
        if self.engine.start_error:
            self.notify(self.engine.start_error, severity="error", markup=False)
        self.head = self.engine.start_head
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

    def ready_text(self) -> str:
        """The status line before the first search with the selected head."""
        n = len(self.engine.index)
        if not self.engine.text_available(self.head):
            return f"ready: {n} videos (vector search only)"
        label = self.engine.encoder_label(self.head)
        if self.engine.is_ready(self.head):
            return f"ready: {n} videos; encoder {label} loaded"
        return f"ready: {n} videos; encoder loads on first query"

    def watch_head(self, head: str) -> None:
        """Show the banner when ``head`` cannot encode text; re-run the last query."""
        if self.engine.text_available(head):
            self.banner = ""
        else:
            ids = self.engine.index.gallery().ids
            self.banner = NO_ENCODER.format(example=ids[0] if len(ids) else "video0")
        problem = self.engine.head_problem(head)
        if problem is not None:
            self.notify(f"head {head} unavailable: {problem}", severity="error", markup=False)
        if self.last_query is None:
            self.status = self.ready_text()
        else:
            self._rerun()

    # searching ---------------------------------------------------------------------------
    def run_query(self, text: str) -> None:
        """Search for ``text`` with the current filters and head."""
        request = SearchRequest(
            query=text,
            k=self.filters.k,
            categories=self.filters.categories,
            split=self.filters.split,
            head=self.head,
            pool=self.pool,
        )
        self.last_query = text
        self.status = f"searching {text!r}…"
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

    def _loading(self, text: str) -> None:
        self.status = text
        self.results.loading = True

    def _failed(self, request: SearchRequest, exc: BaseException) -> None:
        self.results.loading = False
        if isinstance(exc, EncoderUnavailableError):
            self.status = f"{exc.label} failed to load: text search unavailable (like:<id> works)"
        elif isinstance(exc, NoSegmentsError) and request.pool == "max":
            self.notify(
                "this index has no segments: MaxSim ranking needs per-segment vectors; "
                "back to pooled ranking",
                severity="error",
                markup=False,
            )
            self.pool = "mean"
            return
        else:
            self.status = f"search failed: {request.query!r}"
        self.notify(error_text(exc), severity="error", markup=False)

    def _show(self, outcome: SearchOutcome) -> None:
        self.results.loading = False
        self.outcome = outcome
        self.results.show(outcome)
        self.status = f"{len(outcome.hits)} results · {outcome.source} · {self.filters.describe()}"
        if outcome.has_moments or outcome.request.pool == "max":
            self.status += f" · {POOL_TEXT[outcome.request.pool]}"
        self.post_message(self.Searched(outcome))
        if not outcome.hits:
            self.query_one(DetailPane).clear("no results")

    @work(thread=True, exclusive=True, group="detail")
    def _load_detail(self, video_id: str) -> None:
        worker = get_current_worker()
        outcome = self.outcome
        query = outcome.query_vector if outcome is not None else None
        try:
            detail = self.engine.detail(video_id, query)
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

    @on(ResultsTable.OpenMoment)
    def _open_moment(self, event: ResultsTable.OpenMoment) -> None:
        self.open_moment(event.video_id)

    @on(Select.Changed, "#head")
    def _head_changed(self, event: Select.Changed) -> None:
        self.head = self.filters.head  # unchanged (the initial announcement): no watcher runs

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

    def watch_pool(self, pool: str) -> None:
        """Re-run the last query ranked the new way (or say how the next one will be)."""
        if self.last_query is None:
            if pool == "max":
                self.status = f"{self.ready_text()} · {POOL_TEXT['max']}"
            else:
                self.status = self.ready_text()
        else:
            self._rerun()

    def action_toggle_pool(self) -> None:
        """Switch between pooled and MaxSim (best moment) ranking."""
        self.pool = "max" if self.pool == "mean" else "mean"
        self.notify(f"{POOL_TEXT[self.pool]} (ctrl+p switches back)")

    def action_open_moment(self) -> None:
        """Play the highlighted result at its best moment."""
        video_id = self.results.current_video_id()
        if video_id is None:
            self.notify("no result highlighted", severity="warning")
            return
        self.open_moment(video_id)

    def open_moment(self, video_id: str) -> None:
        """Open ``video_id``'s local file in the player, at its best moment when known."""
        hits = self.outcome.hits if self.outcome is not None else []
        hit = next((h for h in hits if h.video_id == video_id), None)
        start = hit.start if hit is not None else None
        try:
            command = self.engine.open_command(video_id, start)
        except QueryError as exc:
            self.notify(error_text(exc), severity="error", markup=False)
            return
        try:
            self.app.launcher(command.argv)  # type: ignore[attr-defined]
        except OSError as exc:
            self.notify(
                f"cannot start {command.argv[0]}: {error_text(exc)}", severity="error", markup=False
            )
            return
        program = command.argv[0]
        if start is None:
            self.notify(f"playing {video_id} in {program}", markup=False)
        elif command.seeks:
            self.notify(f"playing {video_id} at {clock(start)} in {program}", markup=False)
        else:
            self.notify(
                f"opened {video_id} with {program}: it cannot start at {clock(start)} "
                "(set VTRSEARCH_PLAYER or --player to mpv or vlc)",
                markup=False,
            )

    def action_focus_filters(self) -> None:
        """Move the focus to the category filter."""
        self.query_one("#categories", SelectionList).focus()
