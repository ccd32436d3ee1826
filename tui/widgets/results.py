"""The results table: one row per hit, keyed by video id, with its best moment when known."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from vtrsearch.tables import moment_span, needs_tenths

from ..engine import SearchOutcome
from ..text import plain_text

COLUMNS = (
    ("rank", "rank"),
    ("video id", "video_id"),
    ("score", "score"),
    ("category", "category"),
    ("first caption", "caption"),
)
MOMENT_COLUMN = ("best moment", "moment")
"""Shown after the score when the hits name their best moment (the index has segments)."""
CAPTION_WIDTH = 70


class ResultsTable(DataTable):
    """Hits of the last search: rank, video id, score, [best moment,] category, first caption."""

    DEFAULT_CSS = """
    ResultsTable {
        height: 1fr;
        min-height: 6;
    }
    """

    BINDINGS = [
        Binding("m", "more_like_this", "More like this"),
        Binding("o", "open_moment", "Open at moment"),
    ]

    class MoreLikeThis(Message):
        """The user asked for videos like ``video_id``."""

        def __init__(self, video_id: str) -> None:
            super().__init__()
            self.video_id = video_id

    class OpenMoment(Message):
        """The user asked to play ``video_id`` at its best moment."""

        def __init__(self, video_id: str) -> None:
            super().__init__()
            self.video_id = video_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.with_moments = False

    def on_mount(self) -> None:
        self._columns(False)

    def _columns(self, with_moments: bool) -> None:
        """(Re)build the columns, with the best-moment column or without."""
        self.clear(columns=True)
        columns = list(COLUMNS)
        if with_moments:
            columns.insert(3, MOMENT_COLUMN)
        for label, key in columns:
            self.add_column(label, key=key)
        self.with_moments = with_moments

    def show(self, outcome: SearchOutcome) -> None:
        """Replace the rows with ``outcome``'s hits (cursor on the first)."""
        if outcome.has_moments != self.with_moments:
            self._columns(outcome.has_moments)
        else:
            self.clear()
        tenths = needs_tenths(*(t for h in outcome.hits for t in (h.start, h.end)))
        for hit in outcome.hits:
            caption = outcome.first_captions.get(hit.video_id, "")
            if len(caption) > CAPTION_WIDTH:
                caption = caption[: CAPTION_WIDTH - 1] + "…"
            # data cells as plain text: a DataTable reads str cells as markup
            cells: list[object] = [str(hit.rank), plain_text(hit.video_id), f"{hit.score:.4f}"]
            if self.with_moments:
                when = "" if hit.start is None else moment_span(hit.start, hit.end, tenths)
                cells.append(when)
            cells += [plain_text(hit.category_name), plain_text(caption)]
            self.add_row(*cells, key=hit.video_id)
        if outcome.hits:
            self.move_cursor(row=0)

    def video_ids(self) -> list[str]:
        """Video ids of the rows, top to bottom."""
        return [str(row.key.value) for row in self.ordered_rows]  # keys: ids as stored

    def current_video_id(self) -> str | None:
        """Video id of the highlighted row, if any."""
        if not self.row_count:
            return None
        return str(self.ordered_rows[self.cursor_row].key.value)

    def action_more_like_this(self) -> None:
        """Search for videos like the highlighted one."""
        video_id = self.current_video_id()
        if video_id is None:
            self.notify("no result highlighted", severity="warning")
            return
        self.post_message(self.MoreLikeThis(video_id))

    def action_open_moment(self) -> None:
        """Play the highlighted video at its best moment."""
        video_id = self.current_video_id()
        if video_id is None:
            self.notify("no result highlighted", severity="warning")
            return
        self.post_message(self.OpenMoment(video_id))
