"""The decision map: the class a model picks over two input features, as a half-block heatmap.

Each terminal cell shows two vertical pixels with ``▀`` (foreground = upper pixel, background
= lower pixel). A pixel takes the colour of the most probable class (:mod:`..palette`), faded
towards grey as the other classes catch up (16-colour mode: grey in the undecided band). Test
points are drawn on top (``•`` correct, a bold ``x`` in the reserved marker colour when
misclassified); the disk dataset's true boundary can be traced. Before any model exists (and
after every reset) the view previews the data: each training point is one pixel in its
class's colour.

With more than two features the map shows two chosen ones, the others held at their training
mean; a header line names them, and ``[``/``]`` (x) and ``{``/``}`` (y) pick others.

What the app calls (all on the UI thread):

- ``BoundaryView(id=...)``, then one of
- ``show_map(data: MapData | None, disk=None)``: a model's map. The worker builds ``data``
  with :func:`map_from_run` (under the session lock), or with :func:`map_data` from the
  engine's outputs (``Run.plane`` → ``Run.class_probabilities``; test points
  ``Run.transform.invert(test_data.x)``, ``Run.predict``).
- ``show_preview(data: PreviewData, disk=None)``: the data before a model, built with
  :func:`preview_from` (``engine.analysis.preview_data(spec)`` or ``Run.preview()``, in a
  worker). Picking features re-projects a preview at once, without the app.
- ``show(data: BoundaryData | None, disk)``: the older two-class grid (still accepted).
- ``features`` (the chosen pair; the app computes every later map on it).

Messages: :class:`BoundaryView.FeaturesChosen` (``features``: the new (x, y) feature indices)
when the user picks another pair; the app recomputes the map for them (and keeps using them).
Colours follow the app's theme (:func:`..palette.palette_for`), re-checked when it changes.
:func:`render_boundary` / :func:`render_map` are pure functions, tested without a terminal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip

from ..messages import BoundaryData
from ..palette import (
    CLASS_RGB,
    EDGE_RGB,
    MIDDLE_RGB,
    Palette,
    class_colours,
    palette_for,
)
from .render_cost import RenderTimed

if TYPE_CHECKING:
    from torch import Tensor

RGB = tuple[int, int, int]
CLASS0: RGB = CLASS_RGB[0]
CLASS1: RGB = CLASS_RGB[1]
MIDDLE: RGB = MIDDLE_RGB
EDGE: RGB = EDGE_RGB
#: Below this lead of the winning class (0: a tie, 1: certain) the 16-colour map is grey.
ANSI_UNDECIDED = 0.25
#: Test points drawn on a model's map; training points in a preview.
MAP_POINTS = 400
PREVIEW_POINTS = 2000

Disk = tuple[float, float, float]  # centre x, centre y, radius
Range = tuple[float, float]


# ---- the data a view shows --------------------------------------------------------------------
@dataclass(frozen=True)
class MapData:
    """A model's map: ``probs`` holds grid² rows (row by row from the top, left to right) of
    ``n_classes`` class probabilities; ``points`` are test points as (x, y, true class,
    predicted class) in the features' raw units; the plot spans ``x_range`` × ``y_range`` of
    features ``features`` (indices into ``feature_names``)."""

    grid: int
    probs: Sequence[Sequence[float]]
    points: Sequence[tuple[float, float, int, int]]
    epoch: int
    n_classes: int = 2
    x_range: Range = (0.0, 1.0)
    y_range: Range = (0.0, 1.0)
    features: tuple[int, int] = (0, 1)
    feature_names: tuple[str, ...] = ("x1", "x2")
    class_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreviewData:
    """The data before any model: ``points`` (every feature of each point, raw units),
    ``labels`` their classes, ``low``/``high`` each feature's plot range."""

    points: Sequence[Sequence[float]]
    labels: Sequence[int]
    low: Sequence[float]
    high: Sequence[float]
    n_classes: int
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    features: tuple[int, int] = field(default=(0, 1))


def from_boundary_data(data: BoundaryData) -> MapData:
    """The older two-class grid (P(class 1) over the unit square) as a :class:`MapData`."""
    probs = [(1.0 - p, p) for p in data.probs]
    return MapData(data.grid, probs, data.points, data.epoch)


def _rows(values: Any) -> list[Any]:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def map_data(
    plane: Any,
    probs: Tensor | Sequence[Sequence[float]],
    points_x: Tensor | Sequence[Sequence[float]],
    labels: Tensor | Sequence[int],
    preds: Tensor | Sequence[int],
    epoch: int,
    feature_names: Sequence[str],
    class_names: Sequence[str] = (),
) -> MapData:
    """A :class:`MapData` from the engine's outputs: ``plane`` an
    :class:`~miniframe.engine.analysis.InputPlane`, ``probs`` (grid², k) its class
    probabilities, ``points_x`` (n, d) raw test inputs with their ``labels`` and predictions
    ``preds``. Non-finite probabilities become a tie."""
    i, j = plane.features
    rows = _rows(probs)
    k = len(rows[0]) if rows else max(2, len(class_names))
    clean = [
        [v if math.isfinite(v) else 1.0 / k for v in row] for row in rows
    ]  # a diverged model draws grey, not garbage
    pts = [
        (float(x[i]), float(x[j]), int(t), int(p))
        for x, t, p in zip(_rows(points_x), _rows(labels), _rows(preds), strict=True)
    ]
    return MapData(
        grid=plane.grid,
        probs=clean,
        points=pts,
        epoch=epoch,
        n_classes=k,
        x_range=(float(plane.x_range[0]), float(plane.x_range[1])),
        y_range=(float(plane.y_range[0]), float(plane.y_range[1])),
        features=(i, j),
        feature_names=tuple(feature_names),
        class_names=tuple(class_names),
    )


def map_from_run(
    run: Any, features: tuple[int, int] = (0, 1), grid: int = 48, max_points: int = MAP_POINTS
) -> MapData:
    """The map of an engine ``Run`` now (worker thread, under the session's lock): class
    probabilities over ``run.plane(features, grid)`` and the first ``max_points`` test points,
    in raw units."""
    plane = run.plane(features, grid)
    probs = run.class_probabilities(plane.inputs)
    n = min(len(run.test_data.y), max_points)
    raw = run.transform.invert(run.test_data.x[:n].detach().cpu().float())
    preds = run.predict(raw)
    shape = run.shape
    return map_data(
        plane, probs, raw, run.test_data.y[:n].cpu(), preds, run.epoch,
        shape.feature_names, shape.class_names,
    )  # fmt: skip


def preview_from(
    preview: Any, features: tuple[int, int] = (0, 1), max_points: int = PREVIEW_POINTS
) -> PreviewData:
    """A :class:`PreviewData` from an engine ``DataPreview`` (``preview_data(spec)``): its
    first ``max_points`` training points."""
    n = min(len(preview.train.y), max_points)
    s, shape = preview.summary, preview.shape
    return PreviewData(
        points=_rows(preview.train.x[:n].double()),
        labels=[int(v) for v in _rows(preview.train.y[:n])],
        low=tuple(s.low),
        high=tuple(s.high),
        n_classes=shape.n_classes,
        feature_names=tuple(shape.feature_names),
        class_names=tuple(shape.class_names),
        features=features,
    )


def project(preview: PreviewData, features: tuple[int, int]) -> MapData:
    """A preview as an empty map (no probabilities) of two features."""
    i, j = features
    pts = [
        (float(p[i]), float(p[j]), int(t), -1)
        for p, t in zip(preview.points, preview.labels, strict=True)
    ]
    return MapData(
        grid=0,
        probs=(),
        points=pts,
        epoch=-1,
        n_classes=preview.n_classes,
        x_range=(preview.low[i], preview.high[i]),
        y_range=(preview.low[j], preview.high[j]),
        features=(i, j),
        feature_names=preview.feature_names,
        class_names=preview.class_names,
    )


# ---- colours ----------------------------------------------------------------------------------
def blend(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` towards ``b``."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def prob_rgb(p: float) -> RGB:
    """Two classes: blend class-0 blue → grey (p=0.5) → class-1 orange by P(class 1)."""
    p = 0.5 if not math.isfinite(p) else min(1.0, max(0.0, p))
    if p < 0.5:
        return blend(CLASS0, MIDDLE, p / 0.5)
    return blend(MIDDLE, CLASS1, (p - 0.5) / 0.5)


def lead(row: Sequence[float]) -> tuple[int, float]:
    """The most probable class of a probability row and how far ahead it is: 0 when every
    class is equally likely, 1 when it is certain."""
    k = len(row)
    best = max(range(k), key=row.__getitem__)
    p = row[best]
    if not math.isfinite(p) or k < 2:
        return best, 0.0
    return best, min(1.0, max(0.0, (p - 1.0 / k) / (1.0 - 1.0 / k)))


@lru_cache(maxsize=4096)
def _rgb(c: RGB) -> Color:
    return Color.from_rgb(*c)


def cell_colour(row: Sequence[float], palette: Palette) -> Color:
    """The colour of one map cell from its class probabilities."""
    best, q = lead(row)
    if palette.ansi:
        return palette.class_colour(best) if q >= ANSI_UNDECIDED else palette.middle
    if len(row) == 2:
        return _rgb(prob_rgb(row[1]))
    base = palette.rgb[best % len(palette.rgb)]
    return _rgb(blend(base, palette.middle_rgb, 1.0 - q))


#: Probability steps the map tells apart: about one colour step (a blend spans at most ~200
#: values of a channel over half the range), coarse enough that a 48×48 map has few colours.
LEVELS = 256


def cell_colours(probs: Sequence[Sequence[float]], palette: Palette) -> list[Color]:
    """:func:`cell_colour` of every row, each probability taken to the nearest 1/``LEVELS``:
    a map repeats few colours, so each is computed once (the map redraws every second while
    training, on the thread that also serves the keyboard)."""
    if palette.ansi:  # few colours, picked by a threshold: exact, and cheap without a cache
        return [cell_colour(row, palette) for row in probs]
    known: dict[tuple[int, ...], Color] = {}
    out: list[Color] = []
    for row in probs:
        try:
            key = tuple([round(p * LEVELS) for p in row])
        except (ValueError, OverflowError):  # NaN or inf: a diverging model, drawn as it is
            out.append(cell_colour(row, palette))
            continue
        colour = known.get(key)
        if colour is None:
            colour = known[key] = cell_colour([k / LEVELS for k in key], palette)
        out.append(colour)
    return out


@lru_cache(maxsize=64)
def _edge_pixels(px: int, py: int, xr: Range, yr: Range, disk: Disk) -> frozenset[tuple[int, int]]:
    """The pixels (row, column) of a px×py map over ``xr``×``yr`` that trace the disk's circle."""
    tol = 0.75 / max(px, 1)
    edge = set()
    for i in range(py):
        y = yr[0] + (1.0 - (i + 0.5) / py) * (yr[1] - yr[0])
        for j in range(px):
            x = xr[0] + (j + 0.5) / px * (xr[1] - xr[0])
            if abs(math.hypot(x - disk[0], y - disk[1]) - disk[2]) < tol:
                edge.add((i, j))
    return frozenset(edge)


@lru_cache(maxsize=8192)
def _cell_style(fg: Color | None, bg: Color | None, bold: bool = False) -> Style:
    """One Style per colour pair: a heatmap repeats few pairs, and Styles are costly."""
    return Style(color=fg, bgcolor=bg, bold=bold)


def square_size(width: int, height: int) -> tuple[int, int]:
    """Largest square of half-block pixels fitting width×height cells: (cols, rows)."""
    side = max(0, min(width, 2 * height))
    return side, (side + 1) // 2


def _message(text: str, width: int, height: int) -> list[Text]:
    lines = [Text(" " * width) for _ in range(height)]
    if height > 0 and width >= len(text):
        lines[height // 2] = Text(text.center(width), style="dim")
    return lines


def _unit(v: float, r: Range) -> float:
    span = r[1] - r[0]
    return (v - r[0]) / span if span else 0.5


def header(data: MapData | PreviewData, features: tuple[int, int], width: int) -> Text:
    """The line naming the shown features (with more than two), and the keys picking them."""
    names = data.feature_names
    i, j = features
    text = Text()
    text.append("x ", "dim")
    text.append(names[i] if i < len(names) else f"f{i}", "bold")
    text.append("  y ", "dim")
    text.append(names[j] if j < len(names) else f"f{j}", "bold")
    keys = "  [ ] { } pick"
    if text.cell_len + len(keys) <= width:
        text.append(keys, "dim")
    text.truncate(width, overflow="ellipsis", pad=True)
    return text


def _line(left: str, cells: Sequence[tuple[str, Style | None]], right: str) -> Text:
    """One map line: ``cells`` (a character and its style each) between blank margins, runs of
    equal style joined into one span (a map line repeats its colours: fewer spans draw
    faster), the spans made directly (``Text.append`` per piece costs more than the map)."""
    chars: list[str] = [left]
    spans: list[Span] = []
    at = len(left)
    start, style = at, None
    for char, cell_style in cells:
        if cell_style is not style:
            if style is not None and at > start:
                spans.append(Span(start, at, style))
            start, style = at, cell_style
        chars.append(char)
        at += 1
    if style is not None and at > start:
        spans.append(Span(start, at, style))
    chars.append(right)
    return Text("".join(chars), spans=spans)


def text_segments(line: Text) -> list[Segment] | None:
    """The segments of a line made only of appended pieces with Style objects (as
    :func:`render_map`'s map lines are), without rich's general renderer; None for any other
    line (a base style, a named style, overlapping spans): render that one with rich."""
    if line.style:
        return None
    plain, at = line.plain, 0
    segments: list[Segment] = []
    for span in line.spans:
        style = span.style
        if span.start < at or not isinstance(style, Style):
            return None
        if span.start > at:
            segments.append(Segment(plain[at : span.start]))
        segments.append(Segment(plain[span.start : span.end], style))
        at = span.end
    if at < len(plain):
        segments.append(Segment(plain[at:]))
    return segments


def render_map(
    data: MapData | None,
    width: int,
    height: int,
    palette: Palette | None = None,
    disk: Disk | None = None,
    show_points: bool = True,
    empty: str = "no model yet",
) -> list[Text]:
    """Lines of rich Text (``height`` of them, ``width`` cells wide) drawing ``data``: a model's
    map, or a preview when it has no probabilities.

    The plot is the largest square that fits, centred horizontally; y grows upwards.
    """
    if width <= 0 or height <= 0:
        return []
    palette = palette or class_colours(False)
    if data is None or (not data.probs and not data.points):
        return _message(empty, width, height)
    cols, rows = square_size(width, height)
    px = py = cols
    preview = not data.probs
    xr, yr = data.x_range, data.y_range

    pixels: list[list[Color | None]] = []
    if preview:
        pixels = [[None] * px for _ in range(2 * rows)]
        for x, y, label, _ in data.points:
            u, v = _unit(x, xr), _unit(y, yr)
            if 0.0 <= u <= 1.0 and 0.0 <= v <= 1.0:
                j = min(px - 1, int(u * px))
                i = min(py - 1, int((1.0 - v) * py))
                pixels[i][j] = palette.class_colour(label)
    else:
        grid = data.grid
        colours = cell_colours(data.probs, palette)
        columns = [min(grid - 1, (j * grid) // px) for j in range(px)]
        edge = _edge_pixels(px, py, tuple(xr), tuple(yr), tuple(disk)) if disk else frozenset()
        for i in range(2 * rows):
            if i >= py:
                pixels.append([None] * px)
                continue
            base = min(grid - 1, (i * grid) // py) * grid
            row: list[Color | None] = [colours[base + gj] for gj in columns]
            for j in range(px) if edge else ():
                if (i, j) in edge:
                    row[j] = palette.edge
            pixels.append(row)

    marks: dict[tuple[int, int], tuple[int, bool, int]] = {}
    if show_points and not preview:
        # Every misclassified point, but only as many correct ones as leave the map visible.
        budget = max(1, (cols * rows) // 8)
        correct = [p for p in data.points if p[2] == p[3]][:budget]
        for x, y, label, pred in [p for p in data.points if p[2] != p[3]] + correct:
            u, v = _unit(x, xr), _unit(y, yr)
            if not (0.0 <= u <= 1.0 and 0.0 <= v <= 1.0):
                continue
            j = min(px - 1, int(u * px))
            i = min(py - 1, int((1.0 - v) * py))
            cell = (i // 2, j)
            wrong = label != pred
            if cell not in marks or (wrong and not marks[cell][1]):
                marks[cell] = (label, wrong, i % 2)

    left = (width - cols) // 2
    lines: list[Text] = []
    for r in range(rows):
        cells: list[tuple[str, Style | None]] = []
        for j in range(px):
            top, bottom = pixels[2 * r][j], pixels[2 * r + 1][j]
            if 2 * r + 1 >= py:
                bottom = top if not preview else None
            mark = marks.get((r, j))
            if mark is not None:
                label, wrong, half = mark
                bg = bottom if half else top
                if wrong:
                    cells.append(("x", _cell_style(palette.wrong, bg, True)))
                else:
                    cells.append(("•", _cell_style(palette.class_ink(label), bg)))
            elif top is None and bottom is None:
                cells.append((" ", None))
            elif top is None:
                cells.append(("▄", _cell_style(bottom, None)))
            elif bottom is None:
                cells.append(("▀", _cell_style(top, None)))
            else:
                cells.append(("▀", _cell_style(top, bottom)))
        lines.append(_line(" " * left, cells, " " * (width - left - cols)))
    lines += [Text(" " * width) for _ in range(height - rows)]
    return lines[:height]


def render_boundary(
    data: BoundaryData | MapData | None,
    width: int,
    height: int,
    disk: Disk | None = None,
    show_points: bool = True,
    palette: Palette | None = None,
) -> list[Text]:
    """:func:`render_map` for the older two-class :class:`BoundaryData` too."""
    if isinstance(data, BoundaryData):
        data = from_boundary_data(data) if data.probs else None
    return render_map(data, width, height, palette, disk, show_points)


# ---- the widget -------------------------------------------------------------------------------
class BoundaryView(RenderTimed):
    """Shows the latest map (or data preview); re-renders only when new data arrives."""

    DEFAULT_CSS = """
    BoundaryView { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "feature('x', -1)", "x feature", id="map.x-prev"),
        Binding("right_square_bracket", "feature('x', 1)", "x feature", id="map.x-next"),
        Binding("left_curly_bracket", "feature('y', -1)", "y feature", id="map.y-prev"),
        Binding("right_curly_bracket", "feature('y', 1)", "y feature", id="map.y-next"),
    ]

    class FeaturesChosen(Message):
        """The user picked features ``features`` (x, y) to map; the app recomputes the map."""

        def __init__(self, view: BoundaryView, features: tuple[int, int]) -> None:
            super().__init__()
            self.view = view
            self.features = features

        @property
        def control(self) -> BoundaryView:
            return self.view

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data: MapData | None = None
        self.preview: PreviewData | None = None
        self.disk: Disk | None = None
        self.features: tuple[int, int] = (0, 1)
        self.n_features = 2
        self._lines: list[Text] | None = None
        self._strips: dict[int, Strip] = {}
        self._drawn: tuple[int, int, bool] = (0, 0, False)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        self._redraw()

    # ---- what the app calls ----------------------------------------------------------------
    def show(self, data: BoundaryData | None, disk: Disk | None) -> None:
        """Draw a two-class ``data`` (None clears the view) with the true ``disk`` boundary."""
        if data is None or not data.probs:
            self.show_map(None, disk)
        else:
            self.show_map(from_boundary_data(data), disk)

    def show_map(self, data: MapData | None, disk: Disk | None = None) -> None:
        """Draw a model's map (None: clear the view, "no model yet")."""
        self.data, self.disk, self.preview = data, disk, None
        if data is not None:
            self._adopt(data.features, len(data.feature_names))
        self._redraw()

    def show_preview(self, data: PreviewData, disk: Disk | None = None) -> None:
        """Preview the data before any model (on the features chosen so far, if they exist)."""
        self.preview, self.disk = data, disk
        self._adopt(data.features, len(data.feature_names))
        self.data = project(data, self.features)
        self._redraw()

    @property
    def is_preview(self) -> bool:
        return self.data is not None and not self.data.probs

    # ---- features ---------------------------------------------------------------------------
    def _adopt(self, features: tuple[int, int], n_features: int) -> None:
        """Take the data's features, unless the user chose others among as many features: a
        map computed before the choice shows "computing…" until the app sends the chosen
        one."""
        if n_features != self.n_features or max(self.features) >= n_features:
            self.features = features
        self.n_features = n_features
        self.can_focus = n_features > 2

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "feature":
            return self.n_features > 2
        return True

    def action_feature(self, axis: str, step: int) -> None:
        """Show the next (``step`` 1) or previous feature on ``axis`` (skipping the other
        axis's); posts :class:`FeaturesChosen`."""
        d = self.n_features
        if d <= 2:
            return
        i, j = self.features
        mine, other = (i, j) if axis == "x" else (j, i)
        new = (mine + step) % d
        if new == other:
            new = (new + step) % d
        chosen = (new, j) if axis == "x" else (i, new)
        self.choose(chosen)

    def choose(self, features: tuple[int, int]) -> None:
        """Map ``features`` from now on: a preview re-projects at once; posts
        :class:`FeaturesChosen` either way."""
        self.features = features
        if self.preview is not None:
            self.data = project(self.preview, features)
        self._redraw()
        self.post_message(self.FeaturesChosen(self, features))

    # ---- drawing ----------------------------------------------------------------------------
    def _redraw(self) -> None:
        self._lines = None
        self._strips.clear()
        if self.data is None:
            self.border_subtitle = ""
        elif self.is_preview:
            self.border_subtitle = "data preview"
        else:
            self.border_subtitle = f"epoch {self.data.epoch}"
        self.refresh()

    def render_lines_now(self, width: int, height: int) -> list[Text]:
        """The lines the view draws at ``width`` × ``height`` (header included)."""
        palette = palette_for(self.app)
        data = self.data
        if data is not None and self.n_features > 2 and height > 1:
            top = header(data, self.features, width)
            pending = data.features != self.features
            body = render_map(
                None if pending else data, width, height - 1, palette, self.disk,
                empty="computing…",
            )  # fmt: skip
            return [top, *body]
        return render_map(data, width, height, palette, self.disk)

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        ansi = palette_for(self.app).ansi
        if self._lines is None or self._drawn != (width, height, ansi):
            self._lines = self.render_lines_now(width, height)
            self._drawn = (width, height, ansi)
            self._strips.clear()
        if y >= len(self._lines):
            return Strip.blank(width)
        strip = self._strips.get(y)
        if strip is None:  # each line once per grid: the screen re-renders it more often
            line = self._lines[y]
            segments = text_segments(line)
            if segments is None:
                segments = list(line.render(self.app.console))
            strip = self._strips[y] = Strip(segments, width).crop(0, width)
        return strip
