"""The class colour table (tui/palette.py): distinct, reserved colours kept free, ANSI mode
ANSI-only, and the pick that follows the app's theme."""

from __future__ import annotations

import pytest
from rich.color import Color, ColorSystem, ColorType
from textual.app import App, ComposeResult
from textual.widgets import Static
from tui_helpers import run, wait_for

from miniframe.tui import palette as pal
from miniframe.tui.palette import MAX_CLASSES, class_colour, class_colours, palette_for


def eight_bit(c: Color) -> int | None:
    return c.downgrade(ColorSystem.EIGHT_BIT).number


@pytest.mark.parametrize("ansi", [False, True])
def test_eight_class_colours_are_distinct(ansi: bool) -> None:
    p = class_colours(ansi)
    assert len(p.classes) == MAX_CLASSES
    assert len(set(p.classes)) == MAX_CLASSES
    if not ansi:  # a 256-colour terminal keeps them apart too
        assert len({eight_bit(c) for c in p.classes}) == MAX_CLASSES


@pytest.mark.parametrize("ansi", [False, True])
def test_reserved_colours_are_never_class_colours(ansi: bool) -> None:
    p = class_colours(ansi)
    reserved = [*p.error, p.focus, p.wrong]
    assert len(set(reserved)) == len(reserved)
    for c in reserved:
        assert c not in p.classes
        assert c != p.middle
    if not ansi:
        classes = {eight_bit(c) for c in p.classes}
        assert not classes & {eight_bit(c) for c in reserved}
        assert eight_bit(p.middle) not in classes


def test_ansi_mode_uses_only_the_16_ansi_colours() -> None:
    p = class_colours(True)
    every = [*p.classes, *p.ink, p.middle, p.wrong, p.edge, *p.error, p.focus]
    for c in every:
        assert c.type is ColorType.STANDARD and c.number is not None and 0 <= c.number < 16
    names = {pal.ANSI_NAMES[n] for n in pal.CLASS_ANSI}
    assert not names & {"red", "bright_red", "bright_cyan", "bright_white", "black"}
    # the tcss names S uses for focus/error are the reserved ones
    assert pal.FOCUS_TCSS["ansi"] == "ansi_" + pal.ANSI_NAMES[pal.FOCUS_ANSI]
    assert pal.ERROR_TCSS["ansi"] == "ansi_" + pal.ANSI_NAMES[pal.ERROR_ANSI[0]]
    assert Color.parse(pal.FOCUS_TCSS["full"]) == class_colours(False).focus
    assert Color.parse(pal.ERROR_TCSS["full"]) == class_colours(False).error[0]


def test_colours_repeat_beyond_eight_classes() -> None:
    assert class_colour(MAX_CLASSES) == class_colour(0)
    assert class_colour(9, ansi=True) == class_colour(1, ansi=True)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("host")


@pytest.mark.parametrize(("theme", "ansi"), [("textual-dark", False), ("ansi-dark", True)])
def test_palette_follows_the_theme(theme: str, ansi: bool) -> None:
    async def go() -> None:
        app = Host()
        async with app.run_test() as pilot:
            app.theme = theme
            await wait_for(pilot, lambda: app.current_theme.name == theme)
            assert palette_for(app).ansi is ansi
            app.theme = "textual-light" if ansi else "ansi-light"
            await wait_for(pilot, lambda: palette_for(app).ansi is not ansi)

    run(go())


def test_a_16_colour_terminal_gets_the_ansi_palette() -> None:
    class Stub:
        native_ansi_color = False

        class console:  # stands in for a rich Console
            color_system = "standard"

    assert palette_for(Stub()).ansi
    Stub.console.color_system = "256"
    assert not palette_for(Stub()).ansi


def test_chart_colours_are_distinct_and_never_error_red() -> None:
    """Overlaid runs get one colour each; none is the reserved error red (a red line would
    read as a failed run)."""
    assert len(set(pal.CHART_SERIES)) == len(pal.CHART_SERIES)
    assert {pal.CHART_TRAIN, pal.CHART_TEST} <= set(pal.CHART_SERIES)
    assert not {"red", "bright_red", "red+"} & {*pal.CHART_SERIES, pal.CHART_TRAIN}
