"""User data as Rich text: never read as markup, control characters shown escaped.

Captions, video ids, category, split and head names come from data. Given to a widget as a
``str`` they would be parsed as Textual/Rich markup (``[/]`` raised ``MarkupError`` and
``[bold red]RED[/]`` showed "RED"), and an ESC in them would reach the terminal. Every widget
shows them through :func:`plain_text`.
"""

from __future__ import annotations

from rich.text import Text

from vtrsearch.tables import plain


def plain_text(value: object, style: str = "") -> Text:
    """``value`` as a :class:`~rich.text.Text` shown exactly as written (see module doc)."""
    return Text(plain(value), style=style)
