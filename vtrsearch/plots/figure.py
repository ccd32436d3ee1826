"""Figure helpers shared by every plot: a pyplot-free Figure, PNG output, the palette.

Every plot function returns its :class:`matplotlib.figure.Figure` (to inspect, show or save as
the caller likes) and also writes it as a PNG when given a ``path``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..extras import require_extra

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 120
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3")
K_COLORS = ("#9ecae1", "#4292c6", "#08519c")


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained (tight) layout, not attached to pyplot."""
    require_extra("matplotlib", "plots")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Render ``fig`` to a PNG at ``path`` (parent folders created)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor="white")
    return out


def finish(fig: Figure, path: str | Path | None) -> Figure:
    """``fig``, written to ``path`` first when one is given (what every plot function returns)."""
    if path is not None:
        save_figure(fig, path)
    return fig
