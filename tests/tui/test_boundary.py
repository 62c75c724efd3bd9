"""The decision map (tui/widgets/boundary.py): k classes in the palette's colours, the data
preview, two chosen features out of many, and the 16-colour theme, on real engine outputs."""

from __future__ import annotations

from pathlib import Path

from map_helpers import spirals_spec, trained_iris, trained_spirals
from rich.color import Color, ColorType
from rich.text import Text
from textual.app import App, ComposeResult
from tui_helpers import press, run, wait_for

from miniframe.engine.analysis import preview_data
from miniframe.tui.messages import BoundaryData
from miniframe.tui.palette import class_colours
from miniframe.tui.widgets.boundary import (
    BoundaryView,
    MapData,
    lead,
    map_from_run,
    preview_from,
    project,
    render_map,
)


def colours(lines: list[Text]) -> tuple[set[Color], set[Color], str]:
    """Foreground and background colours used, and the plain text, of rendered lines."""
    fg: set[Color] = set()
    bg: set[Color] = set()
    for line in lines:
        for span in line.spans:
            style = span.style
            if isinstance(style, str):
                continue
            if style.color is not None:
                fg.add(style.color)
            if style.bgcolor is not None:
                bg.add(style.bgcolor)
    return fg, bg, "\n".join(line.plain for line in lines)


def nearest_class(c: Color) -> int:
    """The class whose full colour is closest to ``c`` (a blend keeps its hue)."""
    rgb = c.get_truecolor()
    mid = class_colours(False).middle_rgb
    pal = class_colours(False).rgb

    def dist(k: int) -> float:
        # compare directions away from the grey the map blends towards
        a = [x - m for x, m in zip(rgb, mid, strict=True)]
        b = [x - m for x, m in zip(pal[k], mid, strict=True)]
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        na = sum(x * x for x in a) ** 0.5 or 1.0
        nb = sum(x * x for x in b) ** 0.5
        return -dot / (na * nb)

    return min(range(len(pal)), key=dist)


def test_lead_measures_how_far_the_winner_is_ahead() -> None:
    assert lead([1 / 3, 1 / 3, 1 / 3])[1] == 0.0
    assert lead([0.0, 1.0, 0.0]) == (1, 1.0)
    assert lead([0.2, 0.8]) == (1, 0.8 - 0.5 + 0.8 - 0.5)  # (0.8 - 1/2) / (1/2)


def test_three_class_spirals_map_uses_the_three_class_colours() -> None:
    run3 = trained_spirals(3, 60)
    data = map_from_run(run3, grid=32)
    assert data.n_classes == 3 and len(data.probs) == 32 * 32 and len(data.probs[0]) == 3
    assert data.class_names == ("0", "1", "2") and data.feature_names == ("x1", "x2")
    full = class_colours(False)
    fg, bg, text = colours(render_map(data, 40, 20, full))
    tiles = {c for c in fg | bg if c not in (full.wrong, *full.ink)}
    assert {nearest_class(c) for c in tiles} == {0, 1, 2}
    assert "•" in text  # test points on the map
    wrong = sum(p[2] != p[3] for p in data.points)
    assert ("x" in text) == (wrong > 0)
    # 16 colours: exactly the class colours, the undecided grey, the point colours
    ansi = class_colours(True)
    fg, bg, _ = colours(render_map(data, 40, 20, ansi))
    assert {c for c in bg} <= {*ansi.classes[:3], ansi.middle}
    assert {*ansi.classes[:3]} <= fg | bg
    assert all(c.type is ColorType.STANDARD for c in fg | bg)


def test_preview_draws_each_training_point_in_its_class_colour() -> None:
    preview = preview_from(preview_data(spirals_spec(3)))
    assert preview.n_classes == 3 and len(preview.points) == 300
    data = project(preview, (0, 1))
    full = class_colours(False)
    fg, bg, text = colours(render_map(data, 40, 20, full))
    assert fg | bg == set(full.classes[:3])  # nothing but points, on the terminal's background
    assert "•" not in text and "x" not in text and "no model" not in text


def test_old_two_class_data_still_draws() -> None:
    data = BoundaryData(grid=4, probs=[1.0] * 16, points=[(0.5, 0.5, 0, 1)], epoch=3)

    async def go() -> None:
        app = Host()
        async with app.run_test(size=(60, 24)) as pilot:
            view = app.query_one(BoundaryView)
            view.show(data, None)
            await wait_for(pilot, lambda: view._lines is not None)
            assert view.border_subtitle == "epoch 3"
            _, _, text = colours(view._lines)
            assert "x" in text
            view.show(None, None)
            await wait_for(pilot, lambda: view._lines is not None)
            assert "no model yet" in colours(view._lines)[2]

    run(go())


class Host(App[None]):
    """A host for the view that does what the trainer must: recompute on FeaturesChosen."""

    def __init__(self, run: object = None) -> None:
        super().__init__()
        self.run_ = run
        self.chosen: list[tuple[int, int]] = []

    def compose(self) -> ComposeResult:
        yield BoundaryView(id="boundary")

    def on_boundary_view_features_chosen(self, event: BoundaryView.FeaturesChosen) -> None:
        self.chosen.append(event.features)
        if self.run_ is not None:
            event.view.show_map(map_from_run(self.run_, event.features, grid=24))


def drawn(view: BoundaryView) -> str:
    lines = view._lines or []
    return "\n".join(line.plain for line in lines)


def test_preview_then_map_then_theme_switch() -> None:
    run3 = trained_spirals(3, 60)

    async def go() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(BoundaryView)
            view.show_preview(preview_from(run3.preview()))
            await wait_for(pilot, lambda: view._lines is not None and view.is_preview)
            assert view.border_subtitle == "data preview"
            assert not view.can_focus  # two features: nothing to pick
            view.show_map(map_from_run(run3, grid=24))
            await wait_for(pilot, lambda: view._lines is not None and not view.is_preview)
            assert view.border_subtitle == "epoch 60"
            assert all(c.type is not ColorType.STANDARD for c in colours(view._lines)[1])
            app.theme = "ansi-dark"
            await wait_for(pilot, lambda: view._drawn[2] is True)
            _, bg, _ = colours(view._lines)
            assert bg and all(c.type is ColorType.STANDARD for c in bg)

    run(go())


def test_four_features_show_two_named_and_keys_pick_others(tmp_path: Path) -> None:
    iris = trained_iris(tmp_path)

    async def go() -> None:
        app = Host(iris)
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(BoundaryView)
            view.show_preview(preview_from(iris.preview()))
            await wait_for(pilot, lambda: view._lines is not None)
            assert "x sepal_length  y sepal_width" in drawn(view)
            assert view.can_focus
            view.focus()
            await press(pilot, "right_square_bracket")  # x: next feature
            await wait_for(pilot, lambda: app.chosen == [(2, 1)])
            await wait_for(pilot, lambda: "x petal_length  y sepal_width" in drawn(view))
            # the host answered with a model map on the chosen features
            await wait_for(pilot, lambda: view.data is not None and view.data.features == (2, 1))
            assert not view.is_preview
            await press(pilot, "right_curly_bracket")  # y: 2 is the x feature, so 3
            await wait_for(pilot, lambda: app.chosen[-1] == (2, 3))
            await wait_for(pilot, lambda: "x petal_length  y petal_width" in drawn(view))
            await wait_for(pilot, lambda: view.data.features == (2, 3))
            # a map computed on other features waits for the chosen one
            view.show_map(map_from_run(iris, (0, 1), grid=24))
            await wait_for(pilot, lambda: "computing" in drawn(view))
            assert view.features == (2, 3)
            await press(pilot, "left_square_bracket")  # x: 1
            await wait_for(pilot, lambda: app.chosen[-1] == (1, 3))

    run(go())


def test_map_data_defaults_describe_the_unit_square() -> None:
    data = MapData(grid=1, probs=[(0.5, 0.5)], points=[], epoch=0)
    assert data.x_range == (0.0, 1.0) and data.features == (0, 1)
