"""The class legend (tui/widgets/legend.py): a swatch per class in the map's colours, compact
at 80 columns, a note beyond 8 classes, and the 16-colour table under an ANSI theme."""

from __future__ import annotations

from pathlib import Path

from map_helpers import iris_csv, iris_spec
from rich.color import ColorType
from textual.app import App, ComposeResult
from tui_helpers import run, wait_for

from miniframe.engine.shape import DataShape
from miniframe.tui.palette import class_colours
from miniframe.tui.widgets.legend import ClassLegend, layout, legend_entries, short


def test_entries_have_the_class_colours_and_markers() -> None:
    p = class_colours(False)
    entries = legend_entries(["a", "b", "c"], p)
    assert [e.plain for e in entries[:3]] == ["██ a", "██ b", "██ c"]
    for i, e in enumerate(entries[:3]):
        assert e.spans[0].style.color == p.classes[i]
    assert "x wrong" in entries[-1].plain
    assert any(getattr(s.style, "color", None) == p.wrong for s in entries[-1].spans)


def test_more_than_eight_classes_say_colours_repeat() -> None:
    names = [f"class {i}" for i in range(11)]
    entries = legend_entries(names, class_colours(False), markers=False)
    assert len(entries) == 9
    assert entries[-1].plain == "+3 more (colours repeat)"


def test_eight_long_names_fit_80_columns_in_few_lines() -> None:
    names = [f"a rather long class name {i}" for i in range(8)]
    text = layout(legend_entries(names, class_colours(False)), 78)
    lines = text.plain.split("\n")
    assert all(len(line) <= 78 for line in lines)
    assert len(lines) <= 3
    assert short("abcdefghijklmnopq") == "abcdefghijklm…"


class Host(App[None]):
    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        yield ClassLegend(self.names)


def test_legend_of_real_iris_classes_at_80x24(tmp_path: Path) -> None:
    shape: DataShape = iris_spec(iris_csv(tmp_path)).shape()
    assert shape.class_names == ("setosa", "versicolor", "virginica")

    async def go() -> None:
        app = Host(())
        async with app.run_test(size=(80, 24)) as pilot:
            legend = app.query_one(ClassLegend)
            assert legend.size.height == 0
            legend.show_classes(shape.class_names)
            await wait_for(pilot, lambda: legend.size.height == 1)
            text = legend.text(legend.size.width)
            assert "setosa" in text.plain and "virginica" in text.plain
            app.theme = "ansi-dark"
            await wait_for(pilot, lambda: app.current_theme.name == "ansi-dark")
            swatch = legend.text(80).spans[0].style.color
            assert swatch.type is ColorType.STANDARD and swatch == class_colours(True).classes[0]

    run(go())
