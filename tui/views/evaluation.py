"""The evaluation view: run ``evaluate_index`` in a worker, show and save its tables.

Pick the split, the models (baseline encoder and registered heads) and the directions; the
metrics table has the columns of ``vtrsearch eval``, the per-category and per-length tables
sort by clicking a header. A progress bar follows ``evaluate_index``'s ``progress`` events
(one bar per stage: done of total). "Save report" writes metrics.json and the PNG figures
(:func:`vtrsearch.plots.write_report`) into the chosen folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Select,
    SelectionList,
)

from vtrsearch.stores.uri import local_dir

from ..engine import SearchEngine, error_text
from ..progress import ProgressRelay
from ..text import plain_text
from ..widgets.metrics_tables import SortableTable, fill_groups, fill_metrics, group_direction
from ..widgets.status import StatusLine

if TYPE_CHECKING:
    from vtrsearch.eval.progress import EvalProgress
    from vtrsearch.eval.report import EvalReport, EvalRow

ALL = "all"
BASELINE_KEY = "baseline"


@dataclass(frozen=True)
class EvalRequest:
    """Options of one evaluation run (``heads`` are directories)."""

    split: str | None
    encoder: str | None
    heads: tuple[str, ...]
    baseline: bool
    directions: tuple[str, ...]


def default_report_dir(uri: str) -> str:
    """``<folder of the index>/vtrsearch-report`` for a local index, else under the cwd."""
    path = local_dir(uri)
    if path is not None and path.exists():
        return str(path.resolve().parent / "vtrsearch-report")
    return str(Path.cwd() / "vtrsearch-report")


class EvaluationView(Vertical):
    """Retrieval metrics of the baseline encoder and the heads, side by side."""

    DEFAULT_CSS = """
    EvaluationView #eval-controls {
        height: auto;
        max-height: 12;
    }
    EvaluationView .eval-col {
        width: 1fr;
        height: auto;
        padding: 0 1;
    }
    EvaluationView .eval-col Label {
        color: $text-muted;
    }
    EvaluationView #eval-models, EvaluationView #eval-directions {
        height: auto;
        max-height: 8;
    }
    EvaluationView #eval-status {
        height: auto;
    }
    EvaluationView #eval-progress {
        padding: 0 1;
    }
    EvaluationView #eval-metrics {
        height: auto;
        max-height: 8;
        margin: 0 1;
    }
    EvaluationView > Label {
        color: $text-muted;
        padding: 0 1;
    }
    EvaluationView #eval-categories {
        height: 1fr;
        margin: 0 1;
    }
    EvaluationView #eval-lengths {
        height: auto;
        max-height: 7;
        margin: 0 1;
    }
    """

    BINDINGS = [
        Binding("ctrl+r", "run", "Run evaluation"),
        Binding("ctrl+s", "save", "Save report"),
    ]

    status: reactive[str] = reactive("pick models and press Run evaluation (ctrl+r)")
    """The status line's text."""
    running: reactive[bool] = reactive(False)
    """Whether an evaluation runs: shows the progress bar, disables the run button."""

    def __init__(self, engine: SearchEngine, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.engine = engine
        self.report: EvalReport | None = None
        self.shown_rows: list[EvalRow] = []
        self.saved_files: list[Path] = []
        self.progress_event: EvalProgress | None = None
        """The last progress event shown (``None`` before the first one of a run)."""
        self._doing = ""

    def compose(self) -> ComposeResult:
        index = self.engine.index
        splits = index.splits()
        with Horizontal(id="eval-controls"):
            with Vertical(classes="eval-col"):
                yield Label("Split")
                options = [(f"all ({sum(splits.values())})", ALL)]
                options += [(plain_text(f"{s or '(none)'} ({n})"), s) for s, n in splits.items()]
                start = "test" if "test" in splits else ALL
                yield Select(options, value=start, allow_blank=False, id="eval-split")
                yield Label("Baseline encoder")
                yield Input(
                    placeholder=index.encoder_spec or "none recorded: type a spec",
                    id="eval-encoder",
                )
            with Vertical(classes="eval-col"):
                yield Label("Models")
                models = [("baseline (index encoder)", BASELINE_KEY, True)]
                models += [(plain_text(f"head {n}"), n, True) for n in sorted(self.engine.heads)]
                yield SelectionList[str](*models, id="eval-models")
            with Vertical(classes="eval-col"):
                yield Label("Directions")
                yield SelectionList[str](
                    ("t2v (text → video)", "t2v", True),
                    ("v2t (video → text)", "v2t", True),
                    id="eval-directions",
                )
            with Vertical(classes="eval-col"):
                yield Button("Run evaluation", id="eval-run", variant="primary")
                yield Label("Report folder")
                yield Input(default_report_dir(index.uri), id="eval-out")
                yield Button("Save report", id="eval-save")
        yield StatusLine(id="eval-status").data_bind(text=EvaluationView.status)
        yield ProgressBar(total=None, show_eta=False, id="eval-progress")
        yield DataTable(zebra_stripes=True, id="eval-metrics")
        yield Label("Per category (click a header to sort)", id="eval-categories-title")
        yield SortableTable(id="eval-categories")
        yield Label("Per query length (t2v; words per caption)")
        yield SortableTable(id="eval-lengths")

    # options -------------------------------------------------------------------------------
    def request(self) -> EvalRequest:
        """The evaluation the controls describe."""
        split = self.query_one("#eval-split", Select).value
        models = self.query_one("#eval-models", SelectionList).selected
        dirs = self.query_one("#eval-directions", SelectionList).selected
        encoder = self.query_one("#eval-encoder", Input).value.strip() or None
        heads = tuple(self.engine.heads[m] for m in models if m in self.engine.heads)
        return EvalRequest(
            split=None if split == ALL or not isinstance(split, str) else split,
            encoder=encoder,
            heads=heads,
            baseline=BASELINE_KEY in models,
            directions=tuple(d for d in ("t2v", "v2t") if d in dirs),
        )

    def watch_running(self, running: bool) -> None:
        bar = self.query_one("#eval-progress", ProgressBar)
        bar.display = running
        if running:
            self.progress_event = None
            bar.update(total=None, progress=0)  # indeterminate until the first report
        self.query_one("#eval-run", Button).disabled = running

    # running -------------------------------------------------------------------------------
    def action_run(self) -> None:
        """Run the evaluation with the chosen options."""
        req = self.request()
        if not req.directions:
            self.notify("pick at least one direction (t2v, v2t)", severity="error")
            return
        if not req.baseline and not req.heads:
            self.notify("pick at least one model (baseline or a head)", severity="error")
            return
        where = "every video" if req.split is None else f"split {req.split!r}"
        n_models = int(req.baseline) + len(req.heads)
        self._doing = f"evaluating {n_models} model(s) on {where}"
        self.running = True
        self.status = f"{self._doing}…"
        self._evaluate(req)

    @work(thread=True, exclusive=True, group="evaluate")
    def _evaluate(self, req: EvalRequest) -> None:
        from vtrsearch.eval.run import evaluate_index

        try:
            report = evaluate_index(
                self.engine.index,
                split=req.split,
                encoder=req.encoder,
                heads=req.heads,
                baseline=req.baseline,
                directions=req.directions,
                progress=ProgressRelay(self.app, self.show_progress),
            )
        except Exception as exc:  # every failure becomes a notification
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._show, report)

    def show_progress(self, event: EvalProgress) -> None:
        """Move the bar to ``event.done`` of ``event.total`` for its stage (UI thread)."""
        if not self.running:
            return  # a late event from a finished run
        self.progress_event = event
        bar = self.query_one("#eval-progress", ProgressBar)
        bar.update(total=max(event.total, 1), progress=min(event.done, max(event.total, 1)))
        self.status = (
            f"{self._doing}: step {event.step}/{event.steps}, {event.message} "
            f"({event.done}/{event.total})"
        )

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.status = "evaluation failed"
        self.notify(error_text(exc), severity="error", markup=False)

    def _show(self, report: EvalReport) -> None:
        self.report = report
        rows = list(report.rows)
        self.shown_rows = rows
        dirs = list(report.settings["directions"])
        ks = list(report.settings["ks"])
        fill_metrics(self.query_one("#eval-metrics", DataTable), rows, dirs, ks)
        d = group_direction(report)
        self.query_one("#eval-categories-title", Label).update(
            f"Per category ({d}; click a header to sort)"
        )
        fill_groups(
            self.query_one("#eval-categories", SortableTable),
            "category",
            [(r.label, r.per_category.get(d, {})) for r in rows],
            ks,
        )
        fill_groups(
            self.query_one("#eval-lengths", SortableTable),
            "query words",
            [(r.label, r.per_length) for r in rows],
            ks,
        )
        s = report.settings
        counts = ", ".join(f"{k}: {n} queries" for k, n in s["n_queries"].items())
        where = "every video" if s["split"] is None else f"split {s['split']!r}"
        notes = f" · {'; '.join(report.notes)}" if report.notes else ""
        self.running = False
        self.status = f"{where}, {s['n_videos']} videos; {counts}; ties {s['ties']}{notes}"

    # saving --------------------------------------------------------------------------------
    def action_save(self) -> None:
        """Write metrics.json and the report figures into the chosen folder."""
        if self.report is None:
            self.notify("run the evaluation first (ctrl+r)", severity="error")
            return
        out = self.query_one("#eval-out", Input).value.strip()
        if not out:
            self.notify("type a report folder", severity="error")
            return
        self.status = f"writing report to {out}…"
        self._save(self.report, out)

    @work(thread=True, exclusive=True, group="save")
    def _save(self, report: EvalReport, out: str) -> None:
        from vtrsearch.plots import write_report

        index = self.engine.index
        skipped: list[str] = []
        folder = local_dir(index.uri)
        keyframes = None if folder is None else folder.parent
        if keyframes is not None and not (keyframes / "keyframes").is_dir():
            keyframes = None
        try:
            files = write_report(
                index,
                Path(out).expanduser(),
                report=report,
                keyframes_dir=keyframes,
                skipped=skipped,
            )
        except Exception as exc:
            self.app.call_from_thread(self._save_failed, exc)
            return
        self.app.call_from_thread(self._saved, out, files, skipped)

    def _save_failed(self, exc: BaseException) -> None:
        self.status = "saving the report failed"
        self.notify(error_text(exc), severity="error", markup=False)

    def _saved(self, out: str, files: list[Path], skipped: list[str]) -> None:
        self.saved_files = files
        pngs = sum(1 for f in files if f.suffix == ".png")
        extra = f" ({len(skipped)} figure(s) skipped)" if skipped else ""
        self.status = f"report saved to {out}: metrics.json and {pngs} PNG files{extra}"
        self.notify(f"report saved to {out}", markup=False)

    # events --------------------------------------------------------------------------------
    @on(Button.Pressed, "#eval-run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#eval-save")
    def _save_pressed(self) -> None:
        self.action_save()
