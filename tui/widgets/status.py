"""One-line status and a warning banner, each showing a reactive text (bind it with
``data_bind``): setting the owner's reactive updates the line, no refresh calls needed."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..text import plain_text


class StatusLine(Static):
    """A muted status line; shows :attr:`text` as plain text (never read as markup)."""

    DEFAULT_CSS = """
    StatusLine {
        color: $text-muted;
        height: 1;
        padding: 0 1;
    }
    """

    text: reactive[str] = reactive("")

    def watch_text(self, text: str) -> None:
        self.update(plain_text(text))


class Banner(Static):
    """A highlighted warning, hidden while :attr:`text` is empty."""

    DEFAULT_CSS = """
    Banner {
        background: $warning 30%;
        color: $text;
        padding: 0 1;
        height: auto;
    }
    """

    text: reactive[str] = reactive("")

    def watch_text(self, text: str) -> None:
        self.update(Text(text))
        self.display = bool(text)
