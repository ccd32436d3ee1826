"""The results table: one row per hit, keyed by video id."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from ..engine import SearchOutcome

COLUMNS = (
    ("rank", "rank"),
    ("video id", "video_id"),
    ("score", "score"),
    ("category", "category"),
    ("first caption", "caption"),
)
CAPTION_WIDTH = 70


class ResultsTable(DataTable):
    """Hits of the last search: rank, video id, score, category, first caption."""

    DEFAULT_CSS = """
    ResultsTable {
        height: 1fr;
        min-height: 6;
    }
    """

    BINDINGS = [Binding("m", "more_like_this", "More like this")]

    class MoreLikeThis(Message):
        """The user asked for videos like ``video_id``."""

        def __init__(self, video_id: str) -> None:
            super().__init__()
            self.video_id = video_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    def show(self, outcome: SearchOutcome) -> None:
        """Replace the rows with ``outcome``'s hits (cursor on the first)."""
        self.clear()
        for hit in outcome.hits:
            caption = outcome.first_captions.get(hit.video_id, "")
            if len(caption) > CAPTION_WIDTH:
                caption = caption[: CAPTION_WIDTH - 1] + "…"
            self.add_row(
                str(hit.rank),
                hit.video_id,
                f"{hit.score:.4f}",
                hit.category_name,
                caption,
                key=hit.video_id,
            )
        if outcome.hits:
            self.move_cursor(row=0)

    def video_ids(self) -> list[str]:
        """Video ids of the rows, top to bottom."""
        return [str(self.get_row_at(i)[1]) for i in range(self.row_count)]

    def current_video_id(self) -> str | None:
        """Video id of the highlighted row, if any."""
        if not self.row_count:
            return None
        return str(self.get_row_at(self.cursor_row)[1])

    def action_more_like_this(self) -> None:
        """Search for videos like the highlighted one."""
        video_id = self.current_video_id()
        if video_id is None:
            self.notify("no result highlighted", severity="warning")
            return
        self.post_message(self.MoreLikeThis(video_id))
