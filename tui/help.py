"""The help screen: every key binding and how queries are read."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

KEYS: tuple[tuple[str, str, str], ...] = (
    ("anywhere", "F1 / ?", "this help (? only outside text inputs)"),
    ("anywhere", "F2 / F3", "search / evaluation tab"),
    ("anywhere", "ctrl+q", "quit"),
    ("anywhere", "tab / shift+tab", "next / previous control"),
    ("search", "Enter", "search for the query"),
    ("search", "up / down (in the query)", "previous / next query of this session"),
    ("search", "ctrl+t", "search as you type on/off (off by default)"),
    ("search", "ctrl+f / ctrl+g", "focus the query / the category filter"),
    ("search", "space (in categories)", "select a category (none selected = all)"),
    ("results", "up / down", "highlight a result: its details show below"),
    ("results", "m", "more like this: search by the highlighted video's vector"),
    ("search", "ctrl+p", "pooled / MaxSim ranking (best moment; an index with segments)"),
    ("results", "o / ctrl+o", "play the highlighted video at its best moment (local file)"),
    ("evaluation", "ctrl+r", "run the evaluation"),
    ("evaluation", "ctrl+s", "save metrics.json + PNG figures in the report folder"),
    ("evaluation", "click a header", "sort a per-category / per-length table"),
)

QUERY_HELP = (
    "Queries: words are encoded by the selected head's model (baseline: the index's encoder). "
    "like:<video id> searches by a stored video's vector. An index without a query encoder "
    "takes a bare video id. Changing the head, split, k, categories or ranking re-runs the last "
    "query. Moments play in $VTRSEARCH_PLAYER (or --player), else mpv or VLC, else the system "
    "opener."
)


class HelpScreen(ModalScreen[None]):
    """A modal listing the key bindings; any of escape, q, ?, F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #help-box {
        width: 112;
        height: auto;
        max-height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    HelpScreen #help-title {
        text-style: bold;
        margin-bottom: 1;
    }
    HelpScreen #help-keys {
        height: auto;
        max-height: 20;
    }
    HelpScreen #help-queries, HelpScreen #help-close {
        margin-top: 1;
        color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close help"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("vtrsearch: keys", id="help-title")
            table: DataTable = DataTable(id="help-keys", cursor_type="none", zebra_stripes=True)
            table.add_columns("where", "key", "does")
            for row in KEYS:
                table.add_row(*row)
            yield table
            yield Static(QUERY_HELP, id="help-queries")
            yield Static("escape: close", id="help-close")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
