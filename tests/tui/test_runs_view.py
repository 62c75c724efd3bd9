"""The runs view: the table and its "differs" column, overlaying selected runs, asking for
missing curves, loading a spec, and the store adapter when there is a store."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.widgets import DataTable
from tui_helpers import press, run, wait_for

from miniframe.tui.widgets.charts import OverlayChart
from miniframe.tui.widgets.runs_view import (
    RunRow,
    RunsView,
    accuracy,
    differs,
    differs_text,
    duration,
)


def row(run_id: int, lr: str = "0.01", batch: str = "5", acc: float | None = 90.0) -> RunRow:
    return RunRow(
        id=run_id,
        name=f"run{run_id}",
        data="disk",
        network="2-8-2 ReLU",
        settings={"solver.lr": lr, "batch_size": batch, "epochs": "4"},
        final_acc=acc,
        seconds=75.0,
        started=1_700_000_000.0,
        spec={"name": f"run{run_id}", "solver": {"lr": float(lr)}},
    )


def curves(run_id: int) -> dict[str, list[tuple[int, float | None]]]:
    return {
        "test_loss": [(e, 1.0 / (e + run_id)) for e in range(1, 6)],
        "train_loss": [(e, 0.9 / (e + run_id)) for e in range(1, 6)],
        "test_acc": [(e, 60.0 + 5 * e + run_id) for e in range(1, 6)],
        "train_acc": [(e, 62.0 + 5 * e + run_id) for e in range(1, 6)],
    }


def test_differs_names_the_settings_that_differ() -> None:
    assert differs(row(1), row(2, lr="0.1")) == ["lr=0.1"]
    assert differs_text(row(1), row(1)) == "(selected)"
    assert differs_text(row(1), row(2)) == "same settings"
    assert differs_text(row(1), row(2, lr="0.1", batch="32")) == "lr=0.1 batch_size=32"
    assert accuracy(None) == "—" and accuracy(-0.0) == "0.0%" and duration(75.0) == "1:15"


class Host(App[None]):
    def __init__(self, view: RunsView) -> None:
        super().__init__()
        self.view = view
        self.loaded: list[tuple[Any, int]] = []
        self.wanted: list[tuple[int, ...]] = []

    def on_mount(self) -> None:
        self.push_screen(self.view)

    def on_runs_view_load_spec(self, message: RunsView.LoadSpec) -> None:
        self.loaded.append((message.spec, message.run_id))

    def on_runs_view_curves_needed(self, message: RunsView.CurvesNeeded) -> None:
        self.wanted.append(message.run_ids)
        self.view.add_curves({i: curves(i) for i in message.run_ids})


def _cell(view: RunsView, run_id: int, column: str) -> str:
    return str(view.query_one(DataTable).get_cell(str(run_id), column))


def test_overlay_two_runs_and_load_a_spec() -> None:
    async def go() -> None:
        view = RunsView()
        app = Host(view)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: view.is_mounted and app.screen is view)
            view.show_runs([row(1), row(2, lr="0.1"), row(3, batch="32", acc=None)], {1: curves(1)})
            table = view.query_one(DataTable)
            await wait_for(pilot, lambda: table.row_count == 3)
            # the cursor starts on the newest run; the others say how they differ from it
            assert _cell(view, 3, "differs") == "(selected)"
            assert _cell(view, 2, "differs") == "lr=0.1 batch_size=5"
            assert _cell(view, 3, "acc") == "—"
            await press(pilot, "space")  # run 3: no curves yet → asked for
            await wait_for(pilot, lambda: app.wanted == [(3,)])
            await press(pilot, "up", "up")
            await wait_for(pilot, lambda: _cell(view, 1, "differs") == "(selected)")
            assert _cell(view, 2, "differs") == "lr=0.1"
            await press(pilot, "space")  # run 1: curves given up front
            await wait_for(pilot, lambda: view.selected == [3, 1])
            assert app.wanted == [(3,)]
            acc = view.query_one("#runs-acc", OverlayChart)
            await wait_for(pilot, lambda: list(acc.curves) == ["3 run3", "1 run1"])
            assert acc.curves["1 run1"][-1] == (5, 86.0)
            assert "━ 3 run3" in str(acc.border_subtitle)
            await press(pilot, "t")
            await wait_for(pilot, lambda: acc.curves["1 run1"][-1] == (5, 88.0))
            assert "Train" in str(acc.border_title)
            await press(pilot, "l")
            await wait_for(pilot, lambda: app.loaded != [])
            assert app.loaded == [({"name": "run1", "solver": {"lr": 0.01}}, 1)]
            await press(pilot, "c")
            await wait_for(pilot, lambda: acc.curves == {})
            await press(pilot, "escape")
            await wait_for(pilot, lambda: app.screen is not view)

    run(go())


def test_rows_from_store_when_there_is_a_store(tmp_path: Any) -> None:
    runs = pytest.importorskip("miniframe.runs")
    from tui_helpers import tiny_spec

    from miniframe.engine.train import Run
    from miniframe.tui.widgets.runs_view import curves_from_store, rows_from_store

    spec = tiny_spec(epochs=2)
    with runs.RunStore.open(tmp_path / "runs.db") as store:
        run_id = store.start_run(spec)
        for summary in Run(spec).fit():
            store.record_epoch(run_id, summary)
        store.finish_run(run_id, "finished")
        rows, _ = rows_from_store(store)
        assert [r.id for r in rows] == [run_id] and rows[0].network.startswith("2-8-2")
        assert rows[0].final_acc is not None and rows[0].spec is not None
        got = curves_from_store(store, [run_id])
        assert [e for e, _ in got[run_id]["test_acc"]] == [1, 2]
