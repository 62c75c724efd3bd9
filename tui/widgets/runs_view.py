"""The runs view: a table of past runs, several of them overlaid on a loss and an accuracy
chart, and a key to load one's spec into the editor.

The view takes plain data, so it does not depend on the run store: a :class:`RunRow` per
run and, per run id, its curves (:data:`RunCurves`: metric → [(epoch, value or None)], the
metrics of :data:`METRICS`). What the app must call::

    view = RunsView()                        # a Screen
    app.push_screen(view)
    # off the UI thread (a worker or tui/jobs.py: the store is SQLite, and a CSV run's
    # network summary reads the file's header):
    rows, curves = rows_from_store(store, last=100)
    # then, on the UI thread:
    view.show_runs(rows, curves)            # curves may be {} and come later:
    view.add_curves({run_id: curves_of_that_run})

and handle its messages (they bubble to the app):

- :class:`RunsView.LoadSpec` (``spec``: the stored spec dict, ``run_id``): the user asked to
  load that run's spec into the editor (``RunSpec.from_dict(spec)``; the view stays open,
  the app may ``pop_screen()``);
- :class:`RunsView.CurvesNeeded` (``run_ids``): runs were selected whose curves the view has
  not been given; answer with :meth:`RunsView.add_curves`.

Keys: ↑/↓ move; space selects a run for the overlay (or unselects it); ``t`` switches the
charts between test and train curves; ``c`` clears the selection; ``l`` or Enter loads the
run under the cursor; Escape closes the view. The "differs" column lists, for every run, the
settings it sets differently from the run under the cursor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from .charts import OverlayChart

#: The per-epoch metrics a run's curves may hold.
METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")
Curve = list[tuple[int, float | None]]
RunCurves = dict[str, Curve]
#: The most settings the "differs" column names before "+N".
MAX_DIFFS = 3


@dataclass(frozen=True)
class RunRow:
    """One past run as the view shows it. ``settings``: the run's flat settings (``solver.lr``
    → ``"0.01"``, as text) that the "differs" column compares; ``final_acc``: the final test
    accuracy in %; ``seconds``: its wall time; ``started``: Unix time; ``spec``: the stored
    spec dict that :class:`RunsView.LoadSpec` carries."""

    id: int
    name: str
    data: str = ""
    network: str = ""
    settings: Mapping[str, str] = field(default_factory=dict)
    final_acc: float | None = None
    seconds: float | None = None
    started: float | None = None
    status: str = ""
    spec: Mapping[str, Any] | None = None


def differs(base: RunRow, other: RunRow) -> list[str]:
    """``key=value`` for each setting ``other`` sets differently from ``base`` (the last part
    of a dotted key: ``lr=0.01``), in ``other``'s order, then those only ``base`` has."""
    keys = list(dict.fromkeys([*other.settings, *base.settings]))
    out = []
    for key in keys:
        mine, theirs = other.settings.get(key), base.settings.get(key)
        if mine != theirs:
            out.append(f"{key.rpartition('.')[2]}={'–' if mine is None else mine}")
    return out


def differs_text(base: RunRow, other: RunRow) -> str:
    if base.id == other.id:
        return "(selected)"
    diffs = differs(base, other)
    if not diffs:
        return "same settings"
    shown = diffs[:MAX_DIFFS]
    more = f" +{len(diffs) - len(shown)}" if len(diffs) > len(shown) else ""
    return " ".join(shown) + more


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def accuracy(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:.1f}%"
    return text[1:] if text.startswith("-") and float(text[:-1]) == 0 else text


def started_text(started: float | None) -> str:
    if started is None:
        return "—"
    return time.strftime("%m-%d %H:%M", time.localtime(started))


class RunsView(Screen[None]):
    """Past runs, overlaid (see the module docstring for what the app calls)."""

    DEFAULT_CSS = """
    RunsView {
        layout: vertical;
    }
    RunsView #runs-table {
        height: 1fr;
        min-height: 5;
        border: round $primary 50%;
    }
    RunsView #runs-table:focus {
        border: round $accent;
    }
    RunsView #runs-charts {
        height: 2fr;
        min-height: 8;
    }
    RunsView OverlayChart {
        width: 1fr;
        border: round $primary 50%;
    }
    RunsView #runs-help {
        height: 1;
        color: $text-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_run", "Overlay", id="runs.toggle"),
        Binding("l", "load", "Load spec", id="runs.load"),
        Binding("t", "train_test", "Train/test", id="runs.train_test"),
        Binding("c", "clear", "Clear", id="runs.clear"),
        Binding("escape", "close", "Close", id="runs.close"),
    ]

    class LoadSpec(Message):
        """Load this run's spec (the stored dict) into the editor."""

        def __init__(self, spec: Mapping[str, Any], run_id: int) -> None:
            super().__init__()
            self.spec = spec
            self.run_id = run_id

    class CurvesNeeded(Message):
        """The view needs these runs' curves (answer with :meth:`RunsView.add_curves`)."""

        def __init__(self, run_ids: tuple[int, ...]) -> None:
            super().__init__()
            self.run_ids = run_ids

    def __init__(
        self,
        rows: Sequence[RunRow] = (),
        curves: Mapping[int, Mapping[str, Sequence[tuple[int, float | None]]]] | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.rows: list[RunRow] = list(rows)
        self.curves: dict[int, RunCurves] = {}
        self.selected: list[int] = []
        self.split = "test"
        self._requested: set[int] = set()
        if curves:
            self._take_curves(curves)

    def compose(self) -> ComposeResult:
        with Vertical():
            table: DataTable[str] = DataTable(
                id="runs-table", cursor_type="row", zebra_stripes=True
            )
            table.border_title = "Runs"
            yield table
            with Horizontal(id="runs-charts"):
                yield OverlayChart("loss", title="Test loss", id="runs-loss")
                yield OverlayChart("acc", title="Test accuracy %", id="runs-acc")
            yield Static(
                "space: overlay  t: train/test  c: clear  l/enter: load spec  esc: close",
                id="runs-help",
            )

    def on_mount(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        for key, label in (
            ("sel", " "), ("id", "id"), ("name", "name"), ("data", "data"),
            ("network", "network"), ("acc", "test acc"), ("time", "time"),
            ("differs", "differs from selected"), ("started", "started"),
        ):  # fmt: skip
            table.add_column(label, key=key)
        self._fill()
        table.focus()

    # ---- data in ---------------------------------------------------------------------------
    def show_runs(
        self,
        rows: Sequence[RunRow],
        curves: Mapping[int, Mapping[str, Sequence[tuple[int, float | None]]]] | None = None,
    ) -> None:
        """Show these runs (newest last, as the store lists them; the cursor starts on the
        newest); keeps the selection of runs still listed."""
        self.rows = list(rows)
        ids = {r.id for r in self.rows}
        self.selected = [i for i in self.selected if i in ids]
        if curves:
            self._take_curves(curves)
        if self.is_mounted:
            self._fill()

    def add_curves(
        self, curves: Mapping[int, Mapping[str, Sequence[tuple[int, float | None]]]]
    ) -> None:
        """Add runs' curves (run id → metric → points) and redraw the overlay."""
        self._take_curves(curves)
        if self.is_mounted:
            self._draw()

    def _take_curves(
        self, curves: Mapping[int, Mapping[str, Sequence[tuple[int, float | None]]]]
    ) -> None:
        for run_id, metrics in curves.items():
            self.curves[run_id] = {m: list(points) for m, points in metrics.items()}
            self._requested.discard(run_id)

    # ---- drawing ---------------------------------------------------------------------------
    def _fill(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        table.clear()
        base = self.rows[-1] if self.rows else None
        for row in self.rows:
            table.add_row(
                "●" if row.id in self.selected else " ",
                str(row.id),
                row.name,
                row.data,
                row.network,
                accuracy(row.final_acc),
                duration(row.seconds),
                differs_text(base, row) if base else "",
                started_text(row.started),
                key=str(row.id),
            )
        if self.rows:
            table.move_cursor(row=len(self.rows) - 1)
        self._update_differs()
        self._draw()

    def cursor_row(self) -> RunRow | None:
        """The run under the cursor."""
        table = self.query_one("#runs-table", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _update_differs(self) -> None:
        base = self.cursor_row()
        if base is None:
            return
        table = self.query_one("#runs-table", DataTable)
        for row in self.rows:
            table.update_cell(str(row.id), "differs", differs_text(base, row))

    def _draw(self) -> None:
        split = self.split
        names = {r.id: f"{r.id} {r.name}" for r in self.rows}
        for metric, chart_id, title in (
            ("loss", "#runs-loss", f"{split.title()} loss"),
            ("acc", "#runs-acc", f"{split.title()} accuracy %"),
        ):
            chart = self.query_one(chart_id, OverlayChart)
            chart.border_title = title
            chart.show_curves(
                {
                    names.get(i, str(i)): self.curves[i].get(f"{split}_{metric}", [])
                    for i in self.selected
                    if i in self.curves
                }
            )

    @on(DataTable.RowHighlighted)
    def _moved(self) -> None:
        self._update_differs()

    @on(DataTable.RowSelected)
    def _enter(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_load()

    # ---- actions ---------------------------------------------------------------------------
    def action_toggle_run(self) -> None:
        """Select the run under the cursor for the overlay, or unselect it."""
        row = self.cursor_row()
        if row is None:
            return
        if row.id in self.selected:
            self.selected.remove(row.id)
        else:
            self.selected.append(row.id)
        table = self.query_one("#runs-table", DataTable)
        table.update_cell(str(row.id), "sel", "●" if row.id in self.selected else " ")
        missing = tuple(
            i for i in self.selected if i not in self.curves and i not in self._requested
        )
        if missing:
            self._requested.update(missing)
            self.post_message(self.CurvesNeeded(missing))
        self._draw()

    def action_clear(self) -> None:
        """Unselect every run."""
        table = self.query_one("#runs-table", DataTable)
        for run_id in self.selected:
            table.update_cell(str(run_id), "sel", " ")
        self.selected.clear()
        self._draw()

    def action_train_test(self) -> None:
        """Switch the overlay between the test and the train curves."""
        self.split = "train" if self.split == "test" else "test"
        self._draw()

    def action_load(self) -> None:
        """Ask the app to load the spec of the run under the cursor."""
        row = self.cursor_row()
        if row is None:
            return
        if row.spec is None:
            self.notify(f"run {row.id} has no stored spec", severity="warning")
            return
        self.post_message(self.LoadSpec(row.spec, row.id))

    def action_close(self) -> None:
        self.dismiss(None)


# ---- the run store, when there is one -------------------------------------------------------
def rows_from_store(
    store: Any, last: int | None = 100
) -> tuple[list[RunRow], dict[int, RunCurves]]:
    """The ``last`` runs of a ``miniframe.runs.RunStore`` as rows (oldest first), and no
    curves yet (:func:`curves_from_store` reads them, per run, when they are selected).
    Blocking (SQLite, and a CSV run's summary reads its header): call it off the UI thread.
    Raises ImportError when this miniframe has no run store."""
    from miniframe.runs import compare

    rows = []
    for record in store.runs(last=last):
        flat = compare.settings(record.spec)
        rows.append(
            RunRow(
                id=record.id,
                name=record.name,
                data=compare.data_summary(record.spec),
                network=compare.network_summary(record.spec),
                settings={k: compare.show_value(v) for k, v in flat.items()},
                final_acc=record.metric("test_acc"),
                seconds=record.seconds,
                started=record.started,
                status=record.status,
                spec=record.spec,
            )
        )
    return rows, {}


def curves_from_store(store: Any, run_ids: Sequence[int]) -> dict[int, RunCurves]:
    """Per run, its curves of every metric of :data:`METRICS` (blocking: off the UI thread)."""
    out: dict[int, RunCurves] = {i: {} for i in run_ids}
    for metric in METRICS:
        for run_id, points in store.curves(list(run_ids), metric).items():
            out[run_id][metric] = list(points)
    return out
