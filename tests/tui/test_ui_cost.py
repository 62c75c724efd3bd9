"""What keeps the UI cheap while training (the UI thread shares the interpreter with the
training thread, so its work is taken from training): the charts decode plotext's output
straight into strips, replot only when their history changes (no polling timer) and once per
burst of changes; the map draws its lines without rich's general renderer and computes each
colour once; the legend relayouts only when its classes change. Each shortcut is checked
against the general route it replaces, cell by cell."""

from __future__ import annotations

import math
from typing import Any

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual_plotext.plot import Plot
from tui_helpers import run, wait_for

from miniframe.tui.history import MetricHistory
from miniframe.tui.palette import class_colours
from miniframe.tui.widgets.boundary import (
    LEVELS,
    MapData,
    cell_colour,
    cell_colours,
    render_map,
    text_segments,
)
from miniframe.tui.widgets.charts import MetricChart, ansi_strip
from miniframe.tui.widgets.legend import ClassLegend

Cell = tuple[str, Any, Any, bool]


def cells(segments: Any) -> list[Cell]:
    """Each character with its foreground, background and boldness."""
    out: list[Cell] = []
    for segment in segments:
        style = segment.style
        fg = style.color.get_truecolor() if style and style.color else None
        bg = style.bgcolor.get_truecolor() if style and style.bgcolor else None
        out += [(ch, fg, bg, bool(style and style.bold)) for ch in segment.text]
    return out


def history(epochs: int = 30) -> MetricHistory:
    h = MetricHistory()
    for e in range(1, epochs + 1):
        h.append(e, 1.0 / e, 1.2 / e, 50.0 + e, 48.0 + e)
    return h


# ---- charts -----------------------------------------------------------------------------------
def test_ansi_strip_gives_the_cells_and_colours_rich_decodes() -> None:
    plot = Plot()
    plot.plotsize(50, 14)
    plot.plot([1, 2, 3, 4], [1, 4, 2, 3], marker="braille", color=(90, 200, 250))
    plot.plot([1, 2, 3, 4], [2, 3, 1, 4], marker="braille", color=(250, 150, 30))
    base = Style(color="white", bgcolor="black")
    for line in plot.build().split("\n"):
        fast = ansi_strip(line, 50, base)
        general = Text.from_ansi(line, style=base)
        expected = cells(general.render(_console()))
        assert cells(fast)[: len(expected)] == expected
        assert fast.cell_length == 50


def _console() -> Any:
    from rich.console import Console

    return Console(color_system="truecolor", width=200)


class ChartHost(App[None]):
    def __init__(self, h: MetricHistory) -> None:
        super().__init__()
        self.h = h

    def compose(self) -> ComposeResult:
        yield MetricChart(self.h, "loss", id="chart")


def test_chart_lines_are_the_cells_plotext_plot_renders() -> None:
    async def scenario() -> None:
        app = ChartHost(history())
        async with app.run_test(size=(70, 20)) as pilot:
            chart = app.query_one(MetricChart)
            await wait_for(pilot, lambda: chart._plotted >= 1 and chart.size.height > 0)
            fast = [cells(chart.render_line(y)) for y in range(chart.size.height)]
            chart.refresh()  # the general route: PlotextPlot.render → rich Text → strips
            general = [cells(Widget.render_line(chart, y)) for y in range(chart.size.height)]
            assert fast == general
            assert any(
                "⠉" in "".join(c[0] for c in line) or "⣀" in "".join(c[0] for c in line)
                for line in fast
            )  # fmt: skip  (the curve is drawn)

    run(scenario())


def test_a_chart_replots_once_per_burst_of_changes_and_polls_nothing() -> None:
    async def scenario() -> None:
        h = MetricHistory()
        app = ChartHost(h)
        async with app.run_test(size=(70, 20)) as pilot:
            chart = app.query_one(MetricChart)
            await wait_for(pilot, lambda: chart._plotted >= 1)
            assert chart._plotted == 1  # Textual calls each class's on_mount: drawn once
            assert chart._due is None  # idle: no timer waiting
            for e in range(1, 51):  # fifty epochs in one handler, as a fast run delivers them
                h.append(e, 1.0 / e, 1.1 / e, 60.0, 55.0)
            assert chart._due is not None
            await wait_for(pilot, lambda: chart._drawn_version == h.version)
            assert chart._plotted == 2 and chart._due is None
            h.clear()
            await wait_for(pilot, lambda: chart._drawn_version == h.version)
            assert chart._plotted == 3
        assert chart._changed not in h.listeners  # unmounted: it stopped listening

    run(scenario())


# ---- map --------------------------------------------------------------------------------------
def _grid(n: int = 24, k: int = 3) -> list[list[float]]:
    rows = []
    for i in range(n * n):
        raw = [math.exp(math.sin(i * (c + 1) * 0.37)) for c in range(k)]
        total = sum(raw)
        rows.append([r / total for r in raw])
    return rows


def _close(a: Color, b: Color, within: int) -> bool:
    ta, tb = a.get_truecolor(), b.get_truecolor()
    return all(abs(x - y) <= within for x, y in zip(ta, tb, strict=True))


def _tie(row: list[float]) -> bool:
    """Two classes within a probability step: either may win the cell."""
    top = sorted(row, reverse=True)
    return all(math.isfinite(p) for p in row) and top[0] - top[1] <= 1.0 / LEVELS


def test_cell_colours_match_each_cell_colour_to_a_colour_step() -> None:
    for k in (2, 3, 5):
        probs = _grid(k=k)
        probs[7] = [math.nan] * k  # a diverged model's row is drawn as it is
        for ansi in (False, True):
            palette = class_colours(ansi)
            fast = cell_colours(probs, palette)
            exact = [cell_colour(row, palette) for row in probs]
            within = 0 if ansi else 2  # probabilities to 1/LEVELS: at most ~1 unit a channel
            bad = [i for i, (a, b) in enumerate(zip(fast, exact, strict=True))
                   if not _close(a, b, within) and not _tie(probs[i])]  # fmt: skip
            assert not bad, (k, ansi, bad[:3])
    assert LEVELS >= 256


def test_map_lines_draw_the_same_with_or_without_rich() -> None:
    probs = _grid(24, 3)
    points = [(0.1 * i, 0.05 * i, i % 3, (i + i // 4) % 3) for i in range(20)]
    data = MapData(grid=24, probs=probs, points=points, epoch=5, n_classes=3)
    console = _console()
    lines = render_map(data, 40, 20, class_colours(False), disk=(0.5, 0.5, 0.3))
    assert len({id(s.style) for line in lines for s in line.spans}) > 3
    for line in lines:
        fast = text_segments(line)
        assert fast is not None
        assert cells(fast) == cells(line.render(console))
    # Anything else goes to rich: a base style, a named style, overlapping spans.
    assert text_segments(Text("no model yet", style="dim")) is None
    named = Text("ab")
    named.stylize("bold", 0, 1)
    assert text_segments(named) is None


# ---- legend -----------------------------------------------------------------------------------
class LegendHost(App[None]):
    def compose(self) -> ComposeResult:
        yield ClassLegend(id="legend")


def test_the_legend_relayouts_only_when_its_classes_change() -> None:
    async def scenario() -> None:
        app = LegendHost()
        async with app.run_test(size=(60, 10)) as pilot:
            legend = app.query_one(ClassLegend)
            layouts: list[bool] = []
            original = legend.refresh

            def refresh(*args: Any, **kwargs: Any) -> Any:
                layouts.append(bool(kwargs.get("layout")))
                return original(*args, **kwargs)

            legend.refresh = refresh  # type: ignore[method-assign]  # count relayouts
            legend.show_classes(["setosa", "versicolor"])
            legend.show_classes(["setosa", "versicolor"])  # the map's next second: same
            legend.show_classes(("setosa", "versicolor"))
            assert layouts.count(True) == 1
            legend.show_classes(["setosa", "versicolor", "virginica"])
            assert layouts.count(True) == 2
            await wait_for(pilot, lambda: "virginica" in legend.text(60).plain)

    run(scenario())


# ---- the collector ----------------------------------------------------------------------------
def test_the_app_freezes_its_startup_heap_once_ready_and_releases_it_on_exit() -> None:
    import gc

    from tui_helpers import tiny_spec, wait_ready

    from miniframe.tui.app import TrainerApp

    async def scenario() -> None:
        app = TrainerApp(tiny_spec())
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_ready(pilot, engine=True)
            await wait_for(pilot, lambda: gc.get_freeze_count() > 0)
            assert app._heap_frozen

    assert gc.get_freeze_count() == 0
    run(scenario())
    assert gc.get_freeze_count() == 0  # an app run in-process leaves nothing frozen


def test_the_collector_is_back_on_once_torch_has_loaded() -> None:
    """``miniframe-tui`` starts with the collector off (start-up makes no garbage worth a
    collection); the app turns it back on when the engine has loaded."""
    import gc

    from tui_helpers import tiny_spec, wait_ready

    from miniframe.tui.app import TrainerApp

    async def scenario() -> None:
        app = TrainerApp(tiny_spec())
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_ready(pilot, engine=True)
            await wait_for(pilot, gc.isenabled)

    gc.disable()
    try:
        run(scenario())
        assert gc.isenabled()
    finally:
        gc.enable()


def test_bad_arguments_leave_the_collector_on(capsys: Any) -> None:
    import gc

    from miniframe.tui.__main__ import main

    assert main(["--preset", "no-such-preset"]) == 2
    assert "unknown preset" in capsys.readouterr().err
    assert gc.isenabled()


def test_thin_keeps_few_points_but_every_spike_and_both_ends() -> None:
    from miniframe.tui.widgets.charts import thin

    xs = list(range(1, 11))
    assert thin(xs, [float(x) for x in xs], 20) == (xs, [float(x) for x in xs])  # few: as is
    xs = list(range(1, 1001))
    ys = [1.0 / x for x in xs]
    ys[500] = 50.0  # a spike (a diverging epoch)
    ys[700] = -1.0
    tx, ty = thin(xs, ys, 60)
    assert len(tx) <= 2 * 60 + 2 and tx == sorted(tx)
    assert 50.0 in ty and -1.0 in ty
    assert tx[0] == 1 and tx[-1] == 1000 and ty[-1] == ys[-1]
    lx, ly = thin(xs, ys, 60, "min")
    hx, hy = thin(xs, ys, 60, "max")
    assert -1.0 in ly and 50.0 not in ly and 50.0 in hy and -1.0 not in hy
    assert len(lx) <= 60 + 2 and len(hx) <= 60 + 2


def test_views_come_within_their_share_of_the_time() -> None:
    from miniframe.tui import session

    assert session.views_gap(0.0) == session.BOUNDARY_EVERY_S  # cheap: every 2 s
    assert session.views_gap(0.03) == 0.03 / session.VIEWS_SHARE  # 30 ms: every 3 s
    assert session.views_gap(10.0) == session.VIEWS_MAX_GAP_S  # never staler than 5 s
    assert session.views_gap(math.nan) == session.BOUNDARY_EVERY_S


def test_the_training_loop_spaces_the_views_by_what_they_cost(monkeypatch: Any) -> None:
    """The gap between view updates comes from their cost (the snapshot's time plus what the
    UI reported): costly views come only at the start and the end, free ones every epoch."""
    import threading

    from tui_helpers import tiny_spec

    from miniframe.tui import session as session_module
    from miniframe.tui.messages import BoundaryReady
    from miniframe.tui.session import TrainingSession, load_engine

    load_engine()
    monkeypatch.setattr(session_module, "BOUNDARY_EVERY_S", 0.0)
    monkeypatch.setattr(session_module, "VIEWS_MAX_GAP_S", 1e9)

    def views_posted(ui_cost: float, share: float = session_module.VIEWS_SHARE) -> int:
        monkeypatch.setattr(session_module, "VIEWS_SHARE", share)
        s = TrainingSession()
        s.views_ui_cost = ui_cost
        posted: list[object] = []
        spec = tiny_spec(epochs=6)
        s.train(spec, 6, threading.Event().is_set, posted.append)
        return sum(isinstance(m, BoundaryReady) for m in posted)

    assert views_posted(0.0, share=1e12) == 1 + 6  # before the first epoch, then after each
    assert views_posted(1e6) == 1 + 2  # before, after the first (its cost known), the last


class MapHost(App[None]):
    def compose(self) -> ComposeResult:
        from miniframe.tui.widgets.boundary import BoundaryView

        yield BoundaryView(id="boundary")


def test_the_map_reports_what_drawing_it_cost_once() -> None:
    from miniframe.tui.widgets.boundary import BoundaryView

    async def scenario() -> None:
        app = MapHost()
        async with app.run_test(size=(60, 30)) as pilot:
            view = app.query_one(BoundaryView)
            view.take_render_cpu()
            view.show_map(MapData(grid=24, probs=_grid(24, 3), points=[], epoch=1, n_classes=3))
            spent: list[float] = []
            await wait_for(pilot, lambda: spent.append(view.take_render_cpu()) or spent[-1] > 0)
            assert view.take_render_cpu() == 0.0  # taken: the next map starts from nothing

    run(scenario())


def test_the_app_tells_the_session_what_showing_the_views_cost(config_dir: Any) -> None:
    from tui_helpers import press, tiny_spec, wait_ready

    from miniframe.tui.app import TrainerApp

    async def scenario() -> None:
        app = TrainerApp(tiny_spec(epochs=3))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_ready(pilot, engine=True)
            assert app.session.views_ui_cost == 0.0
            await press(pilot, "t")
            await wait_for(pilot, lambda: app.state.status == "finished")
            await wait_for(pilot, lambda: app.session.views_ui_cost > 0)

    run(scenario())
