"""The class legend: a colour swatch and the name of each class, as the decision map draws them.

What the app calls (UI thread): ``ClassLegend(id=...)``, then
``show_classes(names)`` whenever the data's classes change (``DataShape.class_names``;
``()`` hides the legend's entries). It posts no messages and takes no keys. Colours come from
:mod:`..palette` and follow the app's theme (16-colour themes get the ANSI table).

Up to :data:`~..palette.MAX_CLASSES` classes each get their colour; with more, the first ones
are listed and a note says the colours repeat. The line ends with the point markers
(``•`` correct, ``x`` misclassified). Entries wrap to the width (``height: auto``); names are
cut to :data:`NAME_WIDTH` cells so that 8 classes fit in two lines at 80 columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from ..palette import MAX_CLASSES, Palette, class_colours, palette_for

NAME_WIDTH = 14
SWATCH = "██"


def short(name: str, width: int = NAME_WIDTH) -> str:
    """``name`` cut to ``width`` cells with an ellipsis."""
    return name if len(name) <= width else name[: max(1, width - 1)] + "…"


def legend_entries(names: Sequence[str], palette: Palette, markers: bool = True) -> list[Text]:
    """One Text per entry: a swatch and name per class (at most MAX_CLASSES), then a note if
    colours repeat, then the point markers."""
    entries = []
    for i, name in enumerate(names[:MAX_CLASSES]):
        entry = Text()
        entry.append(SWATCH, Style(color=palette.class_colour(i)))
        entry.append(" " + short(name))
        entries.append(entry)
    extra = len(names) - MAX_CLASSES
    if extra > 0:
        entries.append(Text(f"+{extra} more (colours repeat)", style="italic"))
    if markers and names:
        marks = Text()
        marks.append("•", Style(bold=True))
        marks.append(" right ", "dim")
        marks.append("x", Style(color=palette.wrong, bold=True))
        marks.append(" wrong", "dim")
        entries.append(marks)
    return entries


def layout(entries: Sequence[Text], width: int) -> Text:
    """Entries separated by two spaces, wrapped to ``width`` cells without splitting one."""
    out = Text()
    used = 0
    for entry in entries:
        need = entry.cell_len + (2 if used else 0)
        if used and used + need > width:
            out.append("\n")
            used = 0
            need = entry.cell_len
        elif used:
            out.append("  ")
        out.append_text(entry)
        used += need
    return out


class ClassLegend(Widget):
    """Class names with their map colours, wrapped to the widget's width."""

    DEFAULT_CSS = """
    ClassLegend { height: auto; }
    """

    def __init__(self, names: Sequence[str] = (), markers: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.names: tuple[str, ...] = tuple(names)
        self.markers = markers

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        self.refresh(layout=True)

    def show_classes(self, names: Sequence[str]) -> None:
        """Show these classes (class i is ``names[i]``). The same names again change nothing:
        a relayout costs a whole-screen reflow, and the map sends its classes every second."""
        names = tuple(names)
        if names == self.names:
            return
        self.names = names
        self.refresh(layout=True)

    def text(self, width: int) -> Text:
        palette = palette_for(self.app) if self.is_attached else class_colours(False)
        return layout(legend_entries(self.names, palette, self.markers), max(1, width))

    def render(self) -> Text:
        return self.text(self.content_region.width or self.size.width)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        if not self.names:
            return 0
        return len(self.text(width).plain.split("\n"))
