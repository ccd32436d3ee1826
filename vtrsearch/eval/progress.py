"""Progress of an evaluation, reported to a callback (a TUI bar) or drawn with tqdm (the CLI).

:func:`vtrsearch.eval.evaluate_index` never prints: each step logs one line on the
``vtrsearch.eval`` logger and sends :class:`EvalProgress` events to the ``progress`` callback;
``progress=True`` draws them as tqdm bars on stderr (:class:`TqdmProgress`).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("vtrsearch.eval")

STAGES = ("encode", "rank", "via_index", "rerank")
"""What a step does: encode missing caption vectors, rank the queries, send them through the
index (``via_index``), rank them after re-ranking."""


@dataclass(frozen=True)
class EvalProgress:
    """One progress event of an evaluation.

    Attributes:
        stage: One of :data:`STAGES`.
        label: The report row the stage works for (``"baseline"``, ``"head:x"``,
            ``"baseline +DSL"``).
        done: Units done in this stage (captions encoded, query rows ranked).
        total: Units of this stage (``done == total`` when it ends).
        step: 1-based number of the step in the plan (an ``encode`` stage shares the number of
            the step it prepares).
        steps: Number of steps in the plan (:attr:`EvalPlan.steps`).
        message: What the stage does, in one line (the same text is logged once).
    """

    stage: str
    label: str
    done: int
    total: int
    step: int
    steps: int
    message: str

    @property
    def fraction(self) -> float:
        """``done / total`` of this stage (1.0 for an empty stage)."""
        return min(self.done / self.total, 1.0) if self.total > 0 else 1.0


ProgressCallback = Callable[[EvalProgress], Any]
"""Receives every :class:`EvalProgress` event (called in the evaluating thread)."""


class TqdmProgress:
    """Draw :class:`EvalProgress` events as one tqdm bar per stage (stderr by default).

    Each new stage first writes its message above the bars. Call :meth:`close` at the end.
    """

    def __init__(self, file: Any = None) -> None:
        self._file = file
        self._bar: Any = None
        self._key: tuple[int, str, str] | None = None

    def __call__(self, event: EvalProgress) -> None:
        from tqdm.auto import tqdm

        key = (event.step, event.stage, event.label)
        if key != self._key:
            self.close()
            self._key = key
            out = self._file if self._file is not None else sys.stderr
            tqdm.write(event.message, file=out)
            self._bar = tqdm(
                total=event.total,
                desc=f"[{event.step}/{event.steps}] {event.stage} {event.label}",
                unit="caption" if event.stage == "encode" else "query",
                leave=False,
                file=out,
            )
        self._bar.total = event.total
        self._bar.n = event.done
        self._bar.refresh()

    def close(self) -> None:
        """Close the current bar, if any."""
        if self._bar is not None:
            self._bar.close()
        self._bar, self._key = None, None


class StepReporter:
    """Numbers the steps of one evaluation and turns them into :class:`EvalProgress` events.

    Args:
        callback: Receives the events (``None``: events are only logged).
        steps: Number of planned steps.
    """

    def __init__(self, callback: ProgressCallback | None, steps: int) -> None:
        self.callback = callback
        self.steps = steps
        self.step = 0

    def begin(
        self, stage: str, label: str, total: int, message: str, *, new_step: bool = True
    ) -> Callable[[int, int], None]:
        """Start a stage: log ``message``, send a ``done=0`` event, return its updater.

        Args:
            stage: One of :data:`STAGES`.
            label: The report row concerned.
            total: Units of work expected.
            message: One line saying what happens.
            new_step: Count a new step of the plan (``False`` for a stage that prepares the
                next step, like encoding missing caption vectors).

        Returns:
            ``update(done, total)``, a :data:`~vtrsearch.eval.metrics.ProgressFn`.
        """
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        if new_step:
            self.step += 1
        step = self.step if new_step else self.step + 1
        log.info(message)

        def update(done: int, total_now: int) -> None:
            if self.callback is not None:
                self.callback(
                    EvalProgress(stage, label, int(done), int(total_now), step, self.steps, message)
                )

        update(0, total)
        return update


@contextlib.contextmanager
def progress_callback(
    progress: ProgressCallback | bool | None,
) -> Iterator[ProgressCallback | None]:
    """The event callback of a ``progress`` argument: the callable itself, tqdm bars for
    ``True`` (closed at the end), nothing for ``False``/``None``.

    Raises:
        ValueError: ``progress`` is neither a bool, ``None`` nor a callable.
    """
    if progress is True:
        bars = TqdmProgress()
        try:
            yield bars
        finally:
            bars.close()
    elif progress is False or progress is None:
        yield None
    elif callable(progress):
        yield progress
    else:
        raise ValueError(f"progress must be a bool or a callable, got {progress!r}")
