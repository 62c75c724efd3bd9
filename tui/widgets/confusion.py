"""The confusion-matrix panel: the test set's counts by true class (rows) and predicted class
(columns), each row's recall, and the accuracy.

What the app calls (UI thread): ``ConfusionView(id=...)``, then
``show_matrix(counts, class_names, epoch)`` after an evaluation: ``counts`` the k × k
tensor (or nested lists) of ``Run.confusion_matrix()`` (engine ``confusion_matrix``, computed
in the worker), ``class_names`` the data's (``DataShape.class_names``); ``clear(message)``
when there is no model. It posts no messages. Focused, the arrow keys scroll a matrix wider or
taller than the panel (k ≤ 4 fits 80×24 in full; beyond, column headers are cut to the
column width and row names to :data:`ROW_NAME`).

Class names carry their map colour's swatch (:mod:`..palette`); diagonal counts are bold,
zero counts a dim ``·``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.containers import ScrollableContainer
from textual.widgets import Static

from ..palette import class_colours, palette_for

ROW_NAME = 12  # cells for a row's class name
MIN_COLUMN = 5


def _counts(counts: Any) -> list[list[int]]:
    rows = counts.tolist() if hasattr(counts, "tolist") else [list(r) for r in counts]
    return [[int(v) for v in r] for r in rows]


def recalls(counts: Sequence[Sequence[int]]) -> list[float | None]:
    """Per true class: the fraction of its points predicted as it (None: no points)."""
    out: list[float | None] = []
    for i, row in enumerate(counts):
        total = sum(row)
        out.append(row[i] / total if total else None)
    return out


def _cut(name: str, width: int) -> str:
    return name if len(name) <= width else name[: max(1, width - 1)] + "…"


def format_confusion(
    counts: Sequence[Sequence[int]], names: Sequence[str], ansi: bool = False, width: int = 78
) -> Text:
    """The matrix as text: a header of predicted classes, a row per true class with its
    recall, then the accuracy. Columns are as wide as the names while the matrix fits
    ``width`` cells, and no narrower than the counts."""
    k = len(counts)
    names = [names[i] if i < len(names) else str(i) for i in range(k)]
    palette = class_colours(ansi)
    biggest = max((v for r in counts for v in r), default=0)
    label_w = min(ROW_NAME, max([len(n) for n in names] + [len("true\\pred")])) + 2
    narrowest = max(MIN_COLUMN, len(str(biggest)) + 1)
    room = (width - label_w - len("  recall")) // max(k, 1)
    col = max(narrowest, min(max(len(n) for n in names) + 1, room)) if k else narrowest
    text = Text()
    text.append("true\\pred".ljust(label_w), "dim")
    for j in range(k):
        text.append(_cut(names[j], col - 1).rjust(col), Style(color=palette.class_colour(j)))
    text.append("  recall\n", "dim")
    for i, (row, recall) in enumerate(zip(counts, recalls(counts), strict=True)):
        text.append("█ ", Style(color=palette.class_colour(i)))
        text.append(_cut(names[i], label_w - 2).ljust(label_w - 2))
        for j, v in enumerate(row):
            if v == 0:
                text.append("·".rjust(col), "dim")
            elif i == j:
                text.append(str(v).rjust(col), "bold")
            else:
                text.append(str(v).rjust(col))
        text.append("  " + ("   —" if recall is None else f"{100 * recall:5.1f}%") + "\n")
    total = sum(sum(r) for r in counts)
    right = sum(counts[i][i] for i in range(k))
    acc = f"{100 * right / total:.1f}%" if total else "—"
    text.append(f"accuracy {right}/{total} = {acc}", "dim")
    return text


class ConfusionView(ScrollableContainer, can_focus=True):
    """The test set's confusion matrix; scrolls when it does not fit."""

    DEFAULT_CSS = """
    ConfusionView { height: auto; max-height: 100%; }
    ConfusionView > Static { width: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts: list[list[int]] = []
        self.names: tuple[str, ...] = ()
        self.epoch: int | None = None
        self.message = "no model yet"
        self._body = Static(Text(self.message, style="dim"))

    def compose(self) -> Any:
        yield self._body

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._redraw, init=False)

    def on_resize(self) -> None:
        if self.counts:  # columns follow the width
            self._redraw()

    def show_matrix(
        self, counts: Any, class_names: Sequence[str], epoch: int | None = None
    ) -> None:
        """Show ``counts`` (k × k, true class by row) for classes ``class_names``."""
        self.counts, self.names, self.epoch = _counts(counts), tuple(class_names), epoch
        self._redraw()

    def clear(self, message: str = "no model yet") -> None:
        self.counts, self.message, self.epoch = [], message, None
        self._redraw()

    def text(self) -> Text:
        if not self.counts:
            return Text(self.message, style="dim")
        width = max(20, self.scrollable_content_region.width or 78)
        return format_confusion(self.counts, self.names, palette_for(self.app).ansi, width)

    def _redraw(self) -> None:
        self.border_subtitle = f"test set · epoch {self.epoch}" if self.epoch is not None else ""
        self._body.update(self.text())
