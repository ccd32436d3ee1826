"""The detail pane: every caption, URL with start/end time, split, media and the top moments of
one video for the current query."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from vtrsearch.tables import moment_span, needs_tenths, plain

from ..engine import VideoDetail
from ..text import plain_text


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f} s"


def detail_text(detail: VideoDetail) -> Text:
    """The pane's content for ``detail`` (plain text: captions are never read as markup)."""
    v = detail.video
    out = Text()
    out.append(plain(v.video_id), style="bold")
    out.append(plain(f"  ·  {v.category_name} (category {v.category})  ·  split {v.split or '-'}"))
    out.append("\n")
    if v.url:
        out.append(plain(f"url: {v.url}  start {_seconds(v.start)}  end {_seconds(v.end)}") + "\n")
    else:
        out.append(f"url: none recorded  (start {_seconds(v.start)}, end {_seconds(v.end)})\n")
    for path in detail.media:
        out.append(plain(f"media: {path}") + "\n")
    if detail.file is not None:
        out.append("o: play it at the best moment\n")
    if detail.moments:
        out.append(
            f"top moments for this query ({len(detail.moments)} of {detail.n_segments} "
            "segments; ctrl+p: pooled/MaxSim ranking):\n",
            style="bold",
        )
        tenths = needs_tenths(*(t for m in detail.moments for t in (m.start, m.end)))
        for i, m in enumerate(detail.moments, 1):
            when = moment_span(m.start, m.end, tenths)
            out.append(f"{i:>3}. {when}  {m.score:.4f}  segment {m.segment}\n")
    elif detail.n_segments:
        out.append(f"{detail.n_segments} segments\n")
    out.append(f"captions ({len(v.captions)}):\n", style="bold")
    for i, caption in enumerate(v.captions, 1):
        out.append(plain(f"{i:>3}. {caption}") + "\n")
    return out


class DetailPane(VerticalScroll):
    """Details of the highlighted result."""

    DEFAULT_CSS = """
    DetailPane {
        height: 12;
        border-top: hkey $foreground 30%;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("highlight a result to see its captions", id="detail-body")

    def show(self, detail: VideoDetail | None, video_id: str = "") -> None:
        """Show ``detail`` (or say the video is gone)."""
        body = self.query_one("#detail-body", Static)
        if detail is None:
            body.update(plain_text(f"video {video_id!r} is no longer in the index"))
        else:
            body.update(detail_text(detail))
        self.scroll_home(animate=False)

    def clear(self, message: str = "") -> None:
        """Empty the pane."""
        self.query_one("#detail-body", Static).update(Text(message))

    @property
    def text(self) -> str:
        """The plain text shown (for tests)."""
        content = self.query_one("#detail-body", Static).content
        return content.plain if isinstance(content, Text) else str(content)
