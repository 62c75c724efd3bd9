"""The decision-boundary view: P(class 1) over [0,1]² as a half-block heatmap.

Each terminal cell shows two vertical pixels with ``▀`` (foreground = upper pixel, background
= lower pixel). Test points are drawn on top (``•`` correct, ``x`` misclassified) and the true
disk boundary is traced. :func:`render_boundary` is a pure function of plain floats, so it is
tested without torch or a terminal.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from ..messages import BoundaryData

RGB = tuple[int, int, int]
CLASS0: RGB = (38, 84, 168)
MIDDLE: RGB = (96, 96, 96)
CLASS1: RGB = (232, 146, 36)
EDGE: RGB = (250, 250, 120)
POINT_FG = {0: (10, 10, 40), 1: (255, 255, 255)}
WRONG_FG: RGB = (255, 40, 40)

Disk = tuple[float, float, float]  # centre x, centre y, radius


def prob_rgb(p: float) -> RGB:
    """Blend class-0 blue → grey (p=0.5) → class-1 orange."""
    p = 0.5 if not math.isfinite(p) else min(1.0, max(0.0, p))
    if p < 0.5:
        a, b, t = CLASS0, MIDDLE, p / 0.5
    else:
        a, b, t = MIDDLE, CLASS1, (p - 0.5) / 0.5
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


@lru_cache(maxsize=4096)
def _rgb(c: RGB) -> Color:
    return Color.from_rgb(*c)


@lru_cache(maxsize=8192)
def _cell_style(fg: RGB, bg: RGB, bold: bool = False) -> Style:
    """One Style per colour pair: a heatmap repeats few pairs, and Styles are costly."""
    return Style(color=_rgb(fg), bgcolor=_rgb(bg), bold=bold)


def square_size(width: int, height: int) -> tuple[int, int]:
    """Largest square of half-block pixels fitting width×height cells: (cols, rows)."""
    side = max(0, min(width, 2 * height))
    return side, (side + 1) // 2


def render_boundary(
    data: BoundaryData | None,
    width: int,
    height: int,
    disk: Disk | None = None,
    show_points: bool = True,
) -> list[Text]:
    """Lines of rich Text (``height`` of them, ``width`` cells wide) drawing ``data``.

    The plot is the largest square that fits, centred horizontally; y grows upwards.
    """
    blank = [Text(" " * width) for _ in range(height)]
    if width <= 0 or height <= 0:
        return []
    if data is None or not data.probs:
        msg = "no model yet"
        if height > 0 and width >= len(msg):
            blank[height // 2] = Text(msg.center(width), style="dim")
        return blank
    cols, rows = square_size(width, height)
    px = cols
    py = cols
    grid = data.grid
    probs = data.probs

    def prob_at(i: int, j: int) -> float:
        gi = min(grid - 1, (i * grid) // py)
        gj = min(grid - 1, (j * grid) // px)
        return probs[gi * grid + gj]

    pixels: list[list[RGB]] = []
    tol = 0.75 / max(px, 1)
    for i in range(2 * rows):
        row: list[RGB] = []
        for j in range(px):
            if i >= py:
                row.append((0, 0, 0))
                continue
            colour = prob_rgb(prob_at(i, j))
            if disk is not None:
                x, y = (j + 0.5) / px, 1.0 - (i + 0.5) / py
                if abs(math.hypot(x - disk[0], y - disk[1]) - disk[2]) < tol:
                    colour = EDGE
            row.append(colour)
        pixels.append(row)

    marks: dict[tuple[int, int], tuple[int, bool]] = {}
    if show_points:
        # Every misclassified point, but only as many correct ones as leave the map visible.
        budget = max(1, (cols * rows) // 8)
        correct = [p for p in data.points if p[2] == p[3]][:budget]
        for x, y, label, pred in [p for p in data.points if p[2] != p[3]] + correct:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                continue
            j = min(px - 1, int(x * px))
            i = min(py - 1, int((1.0 - y) * py))
            cell = (i // 2, j)
            wrong = label != pred
            if cell not in marks or (wrong and not marks[cell][1]):
                marks[cell] = (label, wrong)

    left = (width - cols) // 2
    lines: list[Text] = []
    for r in range(rows):
        line = Text(" " * left)
        for j in range(px):
            top, bottom = pixels[2 * r][j], pixels[2 * r + 1][j]
            if 2 * r + 1 >= py:
                bottom = top
            mark = marks.get((r, j))
            if mark is None:
                line.append("▀", _cell_style(top, bottom))
            else:
                label, wrong = mark
                bg = tuple((a + b) // 2 for a, b in zip(top, bottom, strict=True))
                glyph, fg = ("x", WRONG_FG) if wrong else ("•", POINT_FG.get(label, (0, 0, 0)))
                line.append(glyph, _cell_style(fg, bg, wrong))
        line.append(" " * (width - left - cols))
        lines.append(line)
    lines += [Text(" " * width) for _ in range(height - rows)]
    return lines[:height]


class BoundaryView(Widget):
    """Shows the latest decision-boundary grid; re-renders only when new data arrives."""

    DEFAULT_CSS = """
    BoundaryView { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data: BoundaryData | None = None
        self.disk: Disk | None = None
        self._lines: list[Text] | None = None
        self._strips: dict[int, Strip] = {}
        self._drawn_size: tuple[int, int] = (0, 0)

    def show(self, data: BoundaryData | None, disk: Disk | None) -> None:
        """Draw ``data`` (None clears the view) with the true ``disk`` boundary, if any."""
        self.data, self.disk = data, disk
        self._lines = None
        self._strips.clear()
        self.border_subtitle = f"epoch {data.epoch}" if data is not None else ""
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        if self._lines is None or self._drawn_size != (width, height):
            self._lines = render_boundary(self.data, width, height, self.disk)
            self._drawn_size = (width, height)
            self._strips.clear()
        if y >= len(self._lines):
            return Strip.blank(width)
        strip = self._strips.get(y)
        if strip is None:  # each line once per grid: the screen re-renders it more often
            segments = list(self._lines[y].render(self.app.console))
            strip = self._strips[y] = Strip(segments, width).crop(0, width)
        return strip
