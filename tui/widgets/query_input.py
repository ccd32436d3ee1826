"""The query input: Enter searches, up/down walk through this session's queries."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class QueryInput(Input):
    """An :class:`~textual.widgets.Input` with a search history for the session."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous query", show=False),
        Binding("down", "history(1)", "Next query", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._position = 0

    def remember(self, query: str) -> None:
        """Add ``query`` to the history (moved to the end when already there)."""
        query = query.strip()
        if not query:
            return
        if query in self.history:
            self.history.remove(query)
        self.history.append(query)
        self._position = len(self.history)

    def action_history(self, step: int) -> None:
        """Show the previous (``-1``) or next (``1``) query of the history."""
        if not self.history:
            return
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = self.history[self._position] if self._position < len(self.history) else ""
        self.cursor_position = len(self.value)
