"""The neurons view: each unit of one layer as a small half-block map of its activation over
the input plane (the two mapped features; the others held at their training mean).

What the app calls (UI thread):

- ``NeuronsView(id=...)``;
- ``show_layers(choices, selected)`` when the model is built: ``choices`` is
  ``[(module position, label), ...]``, e.g. from :func:`layer_choices` of the model's modules;
  ``selected`` a module position (default: the first layer after a Linear);
- ``show_activations(layer, grids, epoch)`` with the units' grids for module position
  ``layer``: a tensor or nested lists shaped (units, H, W), row 0 the top of the plane. The
  worker computes them with :func:`neuron_grids_from_run` (under the session lock), i.e.
  ``Run.activations(Run.plane(features, grid).inputs, layer)`` reshaped by :func:`unit_grids`.
  **The app throttles this to at most one update a second while training** (as the map); the
  view redraws only when called.
- ``clear(message)`` (no model).

Messages: :class:`NeuronsView.LayerChosen` (``index``: the module position picked with
←/→), after which the app computes that layer's grids and calls ``show_activations``.

Colours: a shared scale per layer, ±(largest |activation|): negative towards class 0's
colour, positive towards class 1's, zero dark grey (16 colours: five steps), from
:func:`..palette.heat_colour`. As many units as fit are drawn (tiles shrink to 4 columns
first); a header says how many are hidden.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ..palette import heat_colour, palette_for

if TYPE_CHECKING:
    from torch import Tensor

Grid = Sequence[Sequence[float]]
#: Tile widths tried, largest first (columns = pixels across; rows = half as many cells).
TILE_SIDES = (16, 12, 10, 8, 6, 4)
NEURON_GRID = 24  # plane lattice the app computes activations on


def unit_grids(acts: Tensor | Sequence[Sequence[float]], grid: int) -> list[list[list[float]]]:
    """(grid², units) activations over an InputPlane (row by row from the top) as a list of
    units, each a grid × grid list of rows."""
    rows = acts.tolist() if hasattr(acts, "tolist") else [list(r) for r in acts]
    units = len(rows[0]) if rows else 0
    return [
        [[rows[r * grid + c][u] for c in range(grid)] for r in range(grid)] for u in range(units)
    ]


def layer_choices(modules: Sequence[object], in_width: int = 2) -> list[tuple[int, str]]:
    """``(position, label)`` for each module but the last: "2 ReLU ·16" (the 1-based position,
    the kind, the units it outputs)."""
    width = in_width
    out = []
    for pos, m in enumerate(modules):
        width = int(getattr(m, "out_features", width))
        if pos < len(modules) - 1:
            out.append((pos, f"{pos + 1} {type(m).__name__} ·{width}"))
    return out


def default_layer(modules: Sequence[object]) -> int:
    """The first module after a Linear (its activation), else position 0."""
    for pos, m in enumerate(modules[:-1]):
        if hasattr(m, "out_features") and pos + 1 < len(modules) - 1:
            return pos + 1
    return 0


def neuron_grids_from_run(
    run: Any, layer: int, features: tuple[int, int] = (0, 1), grid: int = NEURON_GRID
) -> list[list[list[float]]]:
    """The units' activation grids of module ``layer`` of an engine ``Run`` (worker thread)."""
    plane = run.plane(features, grid)
    return unit_grids(run.activations(plane.inputs, layer), grid)


def _grids(grids: Any) -> list[list[list[float]]]:
    return grids.tolist() if hasattr(grids, "tolist") else [[list(r) for r in g] for g in grids]


def tile_layout(n: int, width: int, height: int) -> tuple[int, int, int]:
    """(side, per_row, rows) of tiles: the largest side in TILE_SIDES fitting all ``n`` units
    in ``width`` × ``height`` cells (a tile is side cols × side/2 rows plus a label row, one
    column apart), else the smallest side and as many as fit."""
    for side in TILE_SIDES:
        per_row = max(0, (width + 1) // (side + 1))
        rows = max(0, height // ((side + 1) // 2 + 1))
        if per_row * rows >= n:
            return side, per_row, math.ceil(n / per_row) if per_row else 0
    side = TILE_SIDES[-1]
    return side, max(0, (width + 1) // (side + 1)), max(0, height // ((side + 1) // 2 + 1))


def _style(fg: Color, bg: Color) -> Style:
    return Style(color=fg, bgcolor=bg)


def render_neurons(
    grids: Sequence[Grid],
    width: int,
    height: int,
    ansi: bool = False,
    title: str = "",
) -> list[Text]:
    """``height`` lines ``width`` cells wide: a header (``title``, the scale, hidden units),
    then the units' tiles with their indices."""
    if width <= 0 or height <= 0:
        return []
    n = len(grids)
    finite = [abs(v) for g in grids for row in g for v in row if math.isfinite(v)]
    scale = max(finite, default=0.0) or 1.0
    side, per_row, rows = tile_layout(n, width, height - 1)
    shown = min(n, per_row * rows)
    head = Text(title)
    head.append(f"  ±{scale:.3g}", "dim")
    if shown < n:
        head.append(f"  {shown}/{n} units shown", "italic")
    head.truncate(width, overflow="ellipsis", pad=True)
    lines = [head]
    cell_rows = (side + 1) // 2
    styles: dict[tuple[Color, Color], Style] = {}
    for tr in range(rows):
        band = [Text() for _ in range(cell_rows + 1)]
        for tc in range(per_row):
            u = tr * per_row + tc
            if u >= shown:
                break
            g = grids[u]
            gh, gw = len(g), len(g[0]) if g else 0
            gap = " " if tc else ""
            for r in range(cell_rows):
                band[r].append(gap)
                for c in range(side):
                    if not gh or not gw:
                        band[r].append(" ")
                        continue
                    gc = min(gw - 1, c * gw // side)
                    top = g[min(gh - 1, (2 * r) * gh // side)][gc]
                    bottom = g[min(gh - 1, min(side - 1, 2 * r + 1) * gh // side)][gc]
                    fg, bg = heat_colour(top / scale, ansi), heat_colour(bottom / scale, ansi)
                    style = styles.get((fg, bg))
                    if style is None:
                        style = styles[(fg, bg)] = _style(fg, bg)
                    band[r].append("▀", style)
            band[cell_rows].append(gap + f"#{u}".center(side)[:side], "dim")
        lines.extend(band)
    for line in lines:
        line.truncate(width, pad=True)
    lines += [Text(" " * width) for _ in range(height - len(lines))]
    return lines[:height]


class NeuronsView(Widget, can_focus=True):
    """Each unit of the chosen layer as a small activation map; ←/→ pick the layer."""

    DEFAULT_CSS = """
    NeuronsView { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "layer(-1)", "prev layer", id="neurons.prev"),
        Binding("right", "layer(1)", "next layer", id="neurons.next"),
    ]

    class LayerChosen(Message):
        """The user picked module position ``index``; the app computes its activations."""

        def __init__(self, view: NeuronsView, index: int) -> None:
            super().__init__()
            self.view = view
            self.index = index

        @property
        def control(self) -> NeuronsView:
            return self.view

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices: list[tuple[int, str]] = []
        self.selected: int | None = None
        self.shown_layer: int | None = None
        self.grids: list[list[list[float]]] = []
        self.epoch: int | None = None
        self.message = "no model yet"
        self._lines: list[Text] | None = None
        self._drawn: tuple[int, int, bool] = (0, 0, False)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._redraw, init=False)

    # ---- what the app calls --------------------------------------------------------------
    def show_layers(self, choices: Sequence[tuple[int, str]], selected: int | None = None) -> None:
        """The layers to pick from, and the one selected (a module position)."""
        self.choices = list(choices)
        positions = [p for p, _ in self.choices]
        if selected in positions:
            self.selected = selected
        elif self.selected not in positions:
            self.selected = positions[0] if positions else None
        self._redraw()

    def show_activations(self, layer: int, grids: Any, epoch: int | None = None) -> None:
        """Draw module ``layer``'s units: ``grids`` (units, H, W)."""
        self.shown_layer, self.grids, self.epoch = layer, _grids(grids), epoch
        self._redraw()

    def clear(self, message: str = "no model yet") -> None:
        self.grids, self.shown_layer, self.message = [], None, message
        self._redraw()

    # ---- picking ------------------------------------------------------------------------
    def action_layer(self, step: int) -> None:
        """The previous/next layer; posts :class:`LayerChosen`."""
        if not self.choices:
            return
        positions = [p for p, _ in self.choices]
        i = positions.index(self.selected) if self.selected in positions else 0
        new = positions[(i + step) % len(positions)]
        if new != self.selected:
            self.selected = new
            self._redraw()
            self.post_message(self.LayerChosen(self, new))

    # ---- drawing ------------------------------------------------------------------------
    def title(self) -> str:
        label = dict(self.choices).get(self.selected, "") if self.selected is not None else ""
        return f"‹ {label} ›" if label else ""

    def _redraw(self) -> None:
        self._lines = None
        self.border_subtitle = f"epoch {self.epoch}" if self.epoch is not None else ""
        self.refresh()

    def render_lines_now(self, width: int, height: int, ansi: bool) -> list[Text]:
        if not self.grids or self.shown_layer != self.selected:
            text = self.message if not self.grids else "computing…"
            lines = [Text(self.title()[:width].ljust(width))]
            lines += [Text(" " * width) for _ in range(max(0, height - 1))]
            if height > 2 and width >= len(text):
                lines[height // 2] = Text(text.center(width), style="dim")
            return lines[:height]
        return render_neurons(self.grids, width, height, ansi, self.title())

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        ansi = palette_for(self.app).ansi
        if self._lines is None or self._drawn != (width, height, ansi):
            self._lines = self.render_lines_now(width, height, ansi)
            self._drawn = (width, height, ansi)
        if y >= len(self._lines):
            return Strip.blank(width)
        segments = list(self._lines[y].render(self.app.console))
        return Strip(segments, width).crop(0, width)
