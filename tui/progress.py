"""Progress of an evaluation running in a thread worker, relayed to the UI thread.

:func:`vtrsearch.eval.evaluate_index` calls its ``progress`` callback with an
:class:`~vtrsearch.eval.progress.EvalProgress` event (stage, label, done, total, step, steps,
message) from the thread it runs in, possibly once per batch of queries. :class:`ProgressRelay`
is such a callback: it forwards an event to a UI-thread handler only when a new stage starts,
a stage ends, or ``interval`` seconds have passed, so the evaluation never waits on the screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

    from vtrsearch.eval.progress import EvalProgress

ProgressHandler = Callable[["EvalProgress"], Any]


class ProgressRelay:
    """A throttled ``progress`` callback for work running in a thread worker.

    Args:
        app: The running app (its ``call_from_thread`` reaches the UI thread).
        handler: Called on the UI thread with the forwarded events.
        interval: Least seconds between two forwarded events of one stage.
    """

    def __init__(self, app: App, handler: ProgressHandler, interval: float = 0.1) -> None:
        self.app = app
        self.handler = handler
        self.interval = interval
        self.received = 0
        """Events received (forwarded or not)."""
        self.forwarded = 0
        """Events passed to the handler."""
        self._key: tuple[Any, ...] | None = None
        self._last = 0.0

    def __call__(self, event: EvalProgress) -> None:
        self.received += 1
        now = time.monotonic()
        key = (event.step, event.stage, event.label)
        if key == self._key and event.done < event.total and now - self._last < self.interval:
            return
        self._key, self._last = key, now
        self.forwarded += 1
        self.app.call_from_thread(self.handler, event)
