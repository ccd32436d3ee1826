"""The vtrsearch terminal app: a search tab and an evaluation tab over one index."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.widgets import Footer, Header, TabbedContent, TabPane

from vtrsearch.stores.uri import display_name
from vtrsearch.tables import plain

from .engine import SearchEngine
from .help import HelpScreen
from .media import launch
from .views.evaluation import EvaluationView
from .views.search import SearchView

if TYPE_CHECKING:
    from vtrsearch.index.index import Index


class VtrsearchApp(App[None]):
    """Search an index by text or example, switch query heads, evaluate and save reports.

    Args:
        index: The open index.
        head: Projection head to start with (registered name or directory); a missing one is
            reported as an error notification and the baseline is used.
        media: Folder of video files ``<video_id>.<ext>`` to play moments from (``videos/``
            beside the index is always looked at).
        player: Player command for moments (default ``$VTRSEARCH_PLAYER``, else mpv or VLC,
            else the system opener).
    """

    CSS = """
    #tabs {
        height: 1fr;
    }
    """
    TITLE = "vtrsearch"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f2", "show_tab('search')", "Search"),
        Binding("f3", "show_tab('evaluation')", "Evaluation"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    index_name: reactive[str] = reactive("")
    """The index as the header names it (its folder or Qdrant collection)."""
    index_space: reactive[str] = reactive("")
    """Dimension and feature model of the index's vectors, e.g. ``384-d · hf:minilm``."""
    video_count: reactive[int] = reactive(0)
    """Videos in the index, updated after every search (other processes may add some)."""
    header_line: reactive[str] = reactive("")
    """The header's subtitle, computed from the three above."""

    def __init__(
        self,
        index: Index,
        *,
        head: str | None = None,
        media: str | Path | None = None,
        player: str | None = None,
    ) -> None:
        super().__init__()
        self.index = index
        self.engine = SearchEngine(index, head=head, media=media, player=player)
        self.launcher: Callable[[Sequence[str]], object] = launch
        """Starts the player argv (tests replace it to see the argv without launching)."""
        self.notification_log: list[tuple[str, str]] = []
        """Every notification shown: ``(severity, message)``."""
        self.index_name = display_name(index.uri)
        self.index_space = f"{index.dim}-d · {index.feature_model or 'unknown features'}"
        self.video_count = len(index)

    def compute_header_line(self) -> str:
        return plain(f"{self.index_name} · {self.video_count} videos · {self.index_space}")

    def watch_header_line(self, line: str) -> None:
        self.sub_title = line

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="search", id="tabs"):
            with TabPane("Search", id="search"):
                yield SearchView(self.engine, id="search-view")
            with TabPane("Evaluation", id="evaluation"):
                yield EvaluationView(self.engine, id="evaluation-view")
        yield Footer()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a notification and keep it in :attr:`notification_log` (thread-safe)."""
        self.notification_log.append((severity, message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_search_view_searched(self, event: SearchView.Searched) -> None:
        """Keep the header's video count current."""
        self.video_count = event.outcome.n_videos

    def action_help(self) -> None:
        """Show the key bindings."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_tab(self, tab: str) -> None:
        """Switch to the ``search`` or ``evaluation`` tab."""
        tabs = self.query_one("#tabs", TabbedContent)
        if tabs.active == tab:
            return
        self.set_focus(None)  # a focused widget in the old pane would switch back to it
        tabs.active = tab
        target = "#query" if tab == "search" else "#eval-run"
        self.call_after_refresh(lambda: self.query_one(target).focus())

    @property
    def search_view(self) -> SearchView:
        """The search tab's view."""
        return self.query_one(SearchView)

    @property
    def evaluation_view(self) -> EvaluationView:
        """The evaluation tab's view."""
        return self.query_one(EvaluationView)


def make_app(
    index: Index | str | Path,
    *,
    head: str | None = None,
    media: str | Path | None = None,
    player: str | None = None,
) -> VtrsearchApp:
    """The TUI over ``index`` (an open :class:`~vtrsearch.Index` or a path/URI to open).

    Args:
        index: The index, or where it is.
        head: Projection head to start with: a name registered with the index or a directory.
        media: Folder of video files to play moments from.
        player: Player command for moments (see :class:`VtrsearchApp`).
    """
    if isinstance(index, (str, Path)):
        from vtrsearch.index.index import Index

        index = Index.open(index)
    return VtrsearchApp(index, head=head, media=media, player=player)
