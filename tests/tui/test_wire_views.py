"""The trainer's views wired into the app: the k-class map with its legend and data preview,
the view switch (charts, map, neurons, layer health, confusion), CSV data through the data
picker (a bad file reopens it and keeps the data), the data and stop settings."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import Checkbox, DataTable, Input
from tui_helpers import (
    commit_setting,
    notified,
    press,
    run,
    tiny_spec,
    wait_closed,
    wait_dialog,
    wait_for,
    wait_ready,
)

from miniframe.engine.spec import DataSpec, LayerSpec
from miniframe.tui.app import TrainerApp
from miniframe.tui.spec_form import apply_settings, csv_spec, spec_values
from miniframe.tui.widgets.boundary import BoundaryView
from miniframe.tui.widgets.confusion import ConfusionView
from miniframe.tui.widgets.data_picker import DataPicker
from miniframe.tui.widgets.layer_health import LayerHealth
from miniframe.tui.widgets.legend import ClassLegend
from miniframe.tui.widgets.neurons import NeuronsView


def spirals3(epochs: int = 3):
    return tiny_spec(
        epochs=epochs,
        layers=[LayerSpec("linear", 8), LayerSpec("relu"), LayerSpec("linear", "classes")],
        data=DataSpec(name="spirals", classes=3, n_train=90, n_test=60, center=True),
    )


def write_csv(path: Path, rows: int = 60) -> Path:
    """Four features, three classes by name."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["a", "b", "c", "d", "kind"])
        for i in range(rows):
            k = i % 3
            out.writerow([k + 0.1 * (i % 7), k * 2 - 0.05 * (i % 5), i % 4, 1.5 * k, f"c{k}"])
    return path


def boundary(app: TrainerApp) -> BoundaryView:
    return app.query_one("#boundary", BoundaryView)


def test_preview_before_a_model_and_after_reset_with_legend(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(spirals3())
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            view = boundary(app)
            await wait_for(pilot, lambda: view.is_preview)
            assert view.preview is not None and view.preview.n_classes == 3
            legend = app.query_one("#legend", ClassLegend)
            assert len(legend.names) == 3
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await wait_for(pilot, lambda: view.data is not None and not view.is_preview)
            assert view.data is not None and view.data.n_classes == 3
            assert len(view.data.probs[0]) == 3  # k class probabilities, not P(class 1)
            await press(pilot, "r")
            await wait_for(pilot, lambda: view.is_preview)

    run(scenario())


def test_view_switch_shows_each_panel(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(spirals3(epochs=4))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            viz = app.query_one("#viz")
            await press(pilot, "3")
            neurons = app.query_one("#neurons", NeuronsView)
            await wait_for(pilot, lambda: neurons.display and neurons.grids)
            assert viz.has_class("-boundary") and not app.query_one("#charts").display
            await press(pilot, "4")
            health = app.query_one("#health", LayerHealth)
            await wait_for(pilot, lambda: health.display and health.text())
            assert "Linear" in health.text().plain or "1" in health.text().plain
            await press(pilot, "5")
            confusion = app.query_one("#confusion", ConfusionView)
            await wait_for(pilot, lambda: confusion.display and confusion.counts)
            assert sum(map(sum, confusion.counts)) == 60
            await press(pilot, "v")  # cycles back to the charts
            await wait_for(pilot, lambda: app.view == "charts" and not viz.has_class("-boundary"))
            await press(pilot, "v")
            await wait_for(pilot, lambda: app.query_one("#map-pane").display)

    run(scenario())


def test_neurons_layer_choice_recomputes(config_dir) -> None:
    async def scenario() -> None:
        spec = spirals3(epochs=2).replace(
            layers=[
                LayerSpec("linear", 6),
                LayerSpec("relu"),
                LayerSpec("linear", 5),
                LayerSpec("relu"),
                LayerSpec("linear", "classes"),
            ]
        )
        app = TrainerApp(spec)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await press(pilot, "3")
            neurons = app.query_one("#neurons", NeuronsView)
            await wait_for(pilot, lambda: len(neurons.grids) == 6)
            neurons.focus()
            await press(pilot, "right", "right")
            await wait_for(pilot, lambda: len(neurons.grids) == 5)

    run(scenario())


def test_csv_through_the_picker_and_features(config_dir, tmp_path) -> None:
    data = write_csv(tmp_path / "four.csv")

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=2))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "D")
            picker = await wait_dialog(pilot, DataPicker)
            await choose(pilot, picker, data, "kind", standardize=True)
            await wait_for(pilot, lambda: app.spec.data.name == "csv")
            assert app.spec.layers[-1].units == "classes" and app.problem is None
            # the stack shows the file's widths: 4 inputs in, 3 classes out
            table = app.layer_stack.query_one(DataTable)
            shown = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
            assert shown[0].startswith("Linear 4 →") and shown[-1].endswith("→ 3"), shown
            view = boundary(app)
            await wait_for(pilot, lambda: view.preview is not None and view.n_features == 4)
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await wait_for(pilot, lambda: view.data is not None and view.data.n_classes == 3)
            await press(pilot, "2")
            view.choose((2, 3))
            await wait_for(pilot, lambda: view.data is not None and view.data.features == (2, 3))
            assert not view.is_preview

    run(scenario())


async def choose(pilot, picker: DataPicker, path: Path, label: str = "", standardize=False):
    """Type the choice into the picker and press Enter (the picker then reads the file)."""
    picker.query_one("#dp-label", Input).value = label
    picker.query_one("#dp-standardize", Checkbox).value = standardize
    path_input = picker.query_one("#dp-path", Input)
    path_input.value = str(path)
    path_input.focus()
    await press(pilot, "enter")


def test_bad_csv_keeps_the_picker_open_and_the_data(config_dir, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=2))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            before = app.spec.data
            await press(pilot, "D")
            picker = await wait_dialog(pilot, DataPicker)
            await choose(pilot, picker, bad)
            error = picker.query_one("#dp-error")
            await wait_for(pilot, lambda: "bad.csv:3" in str(error.render()))
            assert "oops" in str(error.render()) and app.screen is picker
            assert app.spec.data == before
            picker.dismiss(None)
            await wait_closed(pilot, DataPicker)
            assert app.spec.data == before and app.is_running

    run(scenario())


def test_data_and_stop_settings_apply(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=50))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            commit_setting(app, "target_acc", "50")
            commit_setting(app, "patience", "3")
            commit_setting(app, "data_seed", "7")
            await wait_for(pilot, lambda: app.spec.stop.target_acc == 50.0)
            assert app.spec.stop.patience == 3 and app.spec.data.seed == 7
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status in ("finished", "stopped"))
            assert app.session.epoch < 50  # the target accuracy ended it early
            assert app.session.run is not None and app.session.run.spec.stop.target_acc == 50.0

    run(scenario())


def test_new_data_redraws_the_data_only(config_dir) -> None:
    async def scenario() -> None:
        app = TrainerApp(spirals3(epochs=2))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            view = boundary(app)
            await wait_for(pilot, lambda: view.is_preview)
            first = view.preview
            await press(pilot, "N")
            await wait_for(pilot, lambda: view.preview is not first and view.preview is not None)
            assert app.spec.data.seed == 1
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await press(pilot, "N")
            await wait_for(pilot, lambda: notified(app, "New data: data seed 2"))
            assert app.session.run is not None and app.session.run.spec.data.seed == 2
            assert app.control.model_matches

    run(scenario())


def test_settings_round_trip_pure(tmp_path) -> None:
    spec = spirals3()
    values = spec_values(spec)
    assert values["classes"] == "3" and values["target_acc"] == ""
    assert values["restore_best"] == "no"
    new = apply_settings(spec, {"classes": 4, "target_acc": 90.0, "restore_best": "yes"})
    assert new.data.classes == 4 and new.stop.target_acc == 90.0 and new.stop.restore_best
    file = tmp_path / "x.csv"
    file.write_text("a,b,y\n0,1,p\n1,0,q\n0,0,p\n1,1,q\n2,2,p\n3,1,q\n", encoding="utf-8")
    csv = csv_spec(spec, file, None, True)
    assert csv.data.name == "csv" and csv.layers[-1].units == "classes" and not csv.data.center
    assert csv.name == "tabular" and csv.data.standardize  # D trains what --data alone does
    back = apply_settings(csv, {"dataset": "disk"})
    assert back.data.path is None and back.data.classes == 2


def test_focus_and_error_colours_come_from_the_palette(config_dir) -> None:
    from textual.color import Color

    from miniframe.tui.palette import FOCUS_TCSS

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(), load_engine_on_start=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            app.layer_stack.focus_table()
            layers = app.query_one("#layers")
            want = Color.parse(FOCUS_TCSS["full"])
            await wait_for(pilot, lambda: layers.styles.border_top[1] == want)
            app.theme = "ansi-dark"
            assert app.get_theme_variable_defaults()["mf-focus"] == FOCUS_TCSS["ansi"]
            ansi = Color.parse(FOCUS_TCSS["ansi"])
            await wait_for(pilot, lambda: layers.styles.border_top[1] == ansi)

    run(scenario())


def big_csv(path: Path, megabytes: float) -> Path:
    """Four features, two classes, about ``megabytes`` MB."""
    row = "{:.6f},{:.6f},{},{:.3f},{}\n"
    with path.open("w") as f:
        f.write("a,b,c,d,kind\n")
        size, i = 0, 0
        while size < megabytes * 1e6:
            line = row.format(i % 997 / 997, (i * 31) % 1009 / 1009, i % 7, i % 3 * 0.5, i % 2)
            f.write(line)
            size += len(line)
            i += 1
    return path


def open_big_file(tmp_path: Path, megabytes: float, monkeypatch) -> None:
    """The trainer opens a big CSV through the picker: no read time limit applies (it is set
    to 10 ms here, which any read of such a file passes), progress shows while it reads, and
    the data load."""
    import miniframe.tui.jobs as jobs

    monkeypatch.setattr(jobs, "READ_TIMEOUT_S", 0.01)
    data = big_csv(tmp_path / "big.csv", megabytes)

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=1))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot, engine=True)
            await press(pilot, "D")
            picker = await wait_dialog(pilot, DataPicker)
            await choose(pilot, picker, data)
            error = picker.query_one("#dp-error")
            await wait_for(pilot, lambda: "reading big.csv" in str(error.render()))
            await wait_for(pilot, lambda: app.spec.data.name == "csv", timeout=240)
            assert app.spec.shape().n_inputs == 4
            assert not any("no answer" in n for n in getattr(app, "notes", []))

    run(scenario())


def test_a_large_csv_opens_with_progress_and_no_time_limit(config_dir, tmp_path, monkeypatch):
    open_big_file(tmp_path, 2, monkeypatch)


@pytest.mark.slow
def test_a_50_mb_csv_opens_in_the_picker(config_dir, tmp_path, monkeypatch):
    open_big_file(tmp_path, 50, monkeypatch)
