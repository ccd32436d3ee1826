"""The vtrsearch terminal UI (Textual): search by text or example, compare heads, evaluate.

Run it with ``make_app(Index.open(path)).run()`` (or ``vtrsearch tui PATH``). Importing this
package imports textual but not torch; models load in worker threads when first needed.
"""

from __future__ import annotations

from .app import VtrsearchApp, make_app

__all__ = ["VtrsearchApp", "make_app"]
