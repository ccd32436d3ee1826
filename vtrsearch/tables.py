"""Plain-text tables (CLI, demo, evaluation summaries): aligned columns, one rule."""

from __future__ import annotations

from collections.abc import Sequence


def plain(text: object) -> str:
    """``text`` safe to print on a terminal: every non-printable character (ESC, BEL, other
    control and format characters such as bidi overrides, line breaks) is shown escaped
    (``\\x1b``), so data can never move the cursor, ring, or restyle the terminal."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in value
    )


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned text columns, numbers right-aligned, with a rule under the header.

    Cells are passed through :func:`plain` (data may hold control characters).
    """
    headers = [plain(h) for h in headers]
    cells = [[plain(_cell(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    numeric = [
        all(isinstance(row[i], (int, float)) for row in rows) if rows else False
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return "" if value is None else str(value)


def clock(seconds: float) -> str:
    """``mm:ss.s`` (``h:mm:ss.s`` from an hour on) of a time in seconds."""
    tenths = round(float(seconds) * 10)
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    text = f"{minutes:02d}:{rest // 10:02d}.{rest % 10}"
    return f"{hours}:{text}" if hours else text


def span(start: float, end: float) -> str:
    """``start–end`` as clock times."""
    return f"{clock(start)}\u2013{clock(end)}"


def needs_tenths(*times: float | None) -> bool:
    """Whether any of ``times`` (seconds) has tenths, i.e. ``mm:ss`` would round it."""
    return any(t is not None and round(float(t) * 10) % 10 != 0 for t in times)


def moment_span(start: float, end: float, tenths: bool | None = None) -> str:
    """``mm:ss–mm:ss`` of a moment (e.g. ``00:12–00:14``), with tenths when a time has them
    (``00:01.2–00:02.5``); ``tenths`` forces either form (a column of moments uses one)."""
    if tenths is None:
        tenths = needs_tenths(start, end)
    if tenths:
        return span(start, end)
    return "\u2013".join(clock(t)[:-2] for t in (start, end))


def hits_table(hits: Sequence) -> str:
    """A table of :class:`vtrsearch.Hit` rows (with each hit's best moment when known)."""
    if any(getattr(h, "start", None) is not None for h in hits):
        return format_table(
            ["rank", "video_id", "score", "category", "best moment"],
            [
                [
                    h.rank,
                    h.video_id,
                    h.score,
                    h.category_name,
                    span(h.start, h.end) if h.start is not None else "",
                ]
                for h in hits
            ],
        )
    return format_table(
        ["rank", "video_id", "score", "category"],
        [[h.rank, h.video_id, h.score, h.category_name] for h in hits],
    )


def moments_table(moments: Sequence) -> str:
    """A table of :class:`vtrsearch.Moment` rows: video, start–end, score, category."""
    return format_table(
        ["rank", "video", "start\u2013end", "score", "category"],
        [[m.rank, m.video_id, span(m.start, m.end), m.score, m.category_name] for m in moments],
    )
