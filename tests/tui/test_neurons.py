"""The neurons view (tui/widgets/neurons.py): one small activation map per unit of a layer,
as many as fit, a layer picker, on a real trained run's activations."""

from __future__ import annotations

from map_helpers import trained_spirals
from rich.color import ColorType
from textual.app import App, ComposeResult
from tui_helpers import press, run, wait_for

from miniframe.tui.palette import heat_colour
from miniframe.tui.widgets.neurons import (
    NeuronsView,
    default_layer,
    layer_choices,
    neuron_grids_from_run,
    render_neurons,
    tile_layout,
    unit_grids,
)


def test_unit_grids_reshape_plane_activations() -> None:
    acts = [[r * 10 + c, -(r * 10 + c)] for r in range(3) for c in range(3)]  # (9, 2 units)
    grids = unit_grids(acts, 3)
    assert len(grids) == 2 and grids[0][1] == [10, 11, 12] and grids[1][2][0] == -20


def test_tiles_shrink_to_fit_then_show_as_many_as_fit() -> None:
    side, per_row, rows = tile_layout(4, 78, 20)
    assert side == 16 and per_row * rows >= 4
    side, per_row, rows = tile_layout(16, 78, 20)
    assert per_row * rows >= 16 and side < 16
    side, per_row, rows = tile_layout(500, 78, 20)
    assert side == 4 and per_row * rows < 500


def test_layer_choices_name_each_module_and_its_units() -> None:
    model = list(trained_spirals(3, 60).model)
    choices = layer_choices(model)
    assert choices == [(0, "1 Linear ·16"), (1, "2 ReLU ·16"), (2, "3 Linear ·16"),
                       (3, "4 Tanh ·16")]  # fmt: skip
    assert default_layer(model) == 1


def test_render_real_activations_at_80x24() -> None:
    run3 = trained_spirals(3, 60)
    grids = neuron_grids_from_run(run3, 1, grid=12)
    assert len(grids) == 16 and len(grids[0]) == 12
    lines = render_neurons(grids, 78, 21, title="2 ReLU ·16")
    text = "\n".join(line.plain for line in lines)
    assert len(lines) == 21 and all(line.cell_len == 78 for line in lines)
    assert "#0" in text and "#15" in text and "units shown" not in text
    assert "▀" in text
    # a ReLU never goes negative: no negative shade anywhere
    negative = {heat_colour(-v / 32) for v in range(1, 33)}
    used = {s.style.color for line in lines for s in line.spans if hasattr(s.style, "color")}
    assert not used & negative
    small = render_neurons(grids * 10, 40, 10, ansi=True)
    assert "24/160 units shown" in small[0].plain  # 8 per row, 3 rows of 4-column tiles
    styles = [s.style for line in small[1:] for s in line.spans if hasattr(s.style, "color")]
    assert styles and all(s.color.type is ColorType.STANDARD for s in styles if s.color)


class Host(App[None]):
    """Does what the trainer must: compute the chosen layer's grids on LayerChosen."""

    def __init__(self, run: object) -> None:
        super().__init__()
        self.run_ = run
        self.chosen: list[int] = []

    def compose(self) -> ComposeResult:
        yield NeuronsView()

    def on_neurons_view_layer_chosen(self, event: NeuronsView.LayerChosen) -> None:
        self.chosen.append(event.index)
        grids = neuron_grids_from_run(self.run_, event.index, grid=12)
        event.view.show_activations(event.index, grids, self.run_.epoch)


def test_pick_a_layer_with_the_keys() -> None:
    run3 = trained_spirals(3, 60)
    model = list(run3.model)

    async def go() -> None:
        app = Host(run3)
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(NeuronsView)
            view.show_layers(layer_choices(model), default_layer(model))
            await wait_for(pilot, lambda: view._lines is not None)
            assert "no model yet" in "".join(line.plain for line in view._lines)
            view.show_activations(1, neuron_grids_from_run(run3, 1, grid=12), run3.epoch)
            await wait_for(pilot, lambda: view._lines is not None and view.grids)
            assert "‹ 2 ReLU ·16 ›" in view._lines[0].plain
            assert view.border_subtitle == "epoch 60"
            view.focus()
            await press(pilot, "right")
            await wait_for(pilot, lambda: app.chosen == [2])
            await wait_for(pilot, lambda: view._lines is not None and view.shown_layer == 2)
            assert "‹ 3 Linear ·16 ›" in view._lines[0].plain
            await press(pilot, "left", "left", "left")
            await wait_for(pilot, lambda: app.chosen == [2, 1, 0, 3])

    run(go())
