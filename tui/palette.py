"""The one table of colours the trainer's maps and panels use: class colours, points, reserved.

Two modes, picked by :func:`palette_for` from the running app:

- **full** (truecolour and 256-colour terminals): RGB colours. Each is a different entry of
  the 256-colour palette after Rich's downgrade, so a 256-colour terminal keeps them apart.
- **ansi** (16-colour terminals, and the ANSI themes ``textual-ansi``/``ansi-dark``/
  ``ansi-light`` whatever the terminal): only the 16 ANSI colours, which the terminal's own
  palette draws; nothing is blended.

Up to :data:`MAX_CLASSES` (8) classes get their own colour; beyond that the colours repeat
(:func:`class_colour` wraps) and the legend says so.

Reserved colours, never a class colour in either mode (tests/tui/test_palette.py checks):

=============  =======================  =============================================
role           full (RGB / tcss)        ansi (rich name / tcss)
=============  =======================  =============================================
error          ``#e62828`` (230,40,40)  ``red`` and ``bright_red`` / ``ansi_red``,
                                        ``ansi_bright_red``
focus border   ``#00d7ff`` (0,215,255)  ``bright_cyan`` / ``ansi_bright_cyan``
misclassified  ``#ff00ff`` bold ``x``   ``bright_white`` bold ``x``
=============  =======================  =============================================

The app's stylesheet styles the focused border and error text with :data:`FOCUS_TCSS` and
:data:`ERROR_TCSS` (``ansi`` keys for the ANSI themes). Correct points are a ``•`` in a
contrasting ink; the decision map's undecided band (no class clearly ahead) is grey (full:
blended towards (96,96,96); ansi: ``bright_black``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rich.color import Color

RGB = tuple[int, int, int]

#: Classes with a colour of their own; more classes reuse them (:func:`class_colour` wraps).
MAX_CLASSES = 8

# ---- full colour (truecolour; distinct after the 256-colour downgrade too) -------------------
#: blue, orange, green, purple, teal, yellow, brown, pink.
CLASS_RGB: tuple[RGB, ...] = (
    (38, 84, 168),
    (232, 146, 36),
    (60, 170, 80),
    (135, 95, 215),
    (0, 150, 136),
    (230, 210, 60),
    (150, 90, 50),
    (240, 130, 180),
)
#: The undecided colour a map blends towards where no class is clearly ahead.
MIDDLE_RGB: RGB = (96, 96, 96)
#: Ink of a correctly classified point per class: dark on light colours, light on dark ones.
DARK_INK: RGB = (10, 10, 40)
LIGHT_INK: RGB = (245, 245, 245)
#: The true boundary of the disk dataset, traced on its map.
EDGE_RGB: RGB = (250, 250, 120)
#: Reserved: the misclassified-point marker, error text, the focused border.
WRONG_RGB: RGB = (255, 0, 255)
ERROR_RGB: RGB = (230, 40, 40)
FOCUS_RGB: RGB = (0, 215, 255)

# ---- ANSI (the 16 colours of the terminal's palette, by number) -------------------------------
ANSI_NAMES = (
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
    "bright_black", "bright_red", "bright_green", "bright_yellow",
    "bright_blue", "bright_magenta", "bright_cyan", "bright_white",
)  # fmt: skip
#: blue, yellow, green, magenta, cyan, then the bright green, magenta and blue.
CLASS_ANSI: tuple[int, ...] = (4, 3, 2, 5, 6, 10, 13, 12)
MIDDLE_ANSI = 8  # bright_black
INK_ANSI = 0  # black: every class colour here is light enough for it
EDGE_ANSI = 11  # bright_yellow
WRONG_ANSI = 15  # bright_white
ERROR_ANSI: tuple[int, ...] = (1, 9)  # red, bright_red
FOCUS_ANSI = 14  # bright_cyan

#: What app.tcss uses for the focused border and for errors, by mode.
FOCUS_TCSS = {"full": "#00d7ff", "ansi": "ansi_bright_cyan"}
ERROR_TCSS = {"full": "#e62828", "ansi": "ansi_red"}


# ---- charts and panels (plotext / Rich colour names: each maps to one of the 16 ANSI colours,
# so they stay apart in 16-colour terminals too; none is the reserved error red) --------------
#: The train and test lines of the live charts.
CHART_TRAIN = "cyan"
CHART_TEST = "orange"
#: One colour per overlaid run, in order; a 9th run reuses the first.
CHART_SERIES: tuple[str, ...] = (
    "cyan", "orange", "green", "magenta", "yellow", "blue", "white", "gray",
)  # fmt: skip
#: A warning that is not an error (e.g. a layer-health limit crossed).
WARNING_STYLE = "bold yellow"


def _luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


@dataclass(frozen=True)
class Palette:
    """The colours of one mode as Rich colours. ``classes[i]`` is class i's colour (wrapping
    beyond ``len(classes)``); ``ink[i]`` the colour of its correct points' ``•``; ``middle``
    the undecided colour; ``wrong`` the misclassified marker's; ``edge`` the disk's outline;
    ``error`` and ``focus`` are reserved for the app's styles. ``rgb`` (full mode only) holds
    the class RGB triples for blending."""

    ansi: bool
    classes: tuple[Color, ...]
    ink: tuple[Color, ...]
    middle: Color
    wrong: Color
    edge: Color
    error: tuple[Color, ...]
    focus: Color
    rgb: tuple[RGB, ...] = ()
    middle_rgb: RGB = MIDDLE_RGB

    @property
    def mode(self) -> str:
        return "ansi" if self.ansi else "full"

    def class_colour(self, index: int) -> Color:
        """Class ``index``'s colour (colours repeat beyond :data:`MAX_CLASSES`)."""
        return self.classes[index % len(self.classes)]

    def class_ink(self, index: int) -> Color:
        return self.ink[index % len(self.ink)]


@lru_cache(maxsize=2)
def class_colours(ansi: bool) -> Palette:
    """The palette of one mode (cached: Rich colours are immutable)."""
    if ansi:
        return Palette(
            ansi=True,
            classes=tuple(Color.from_ansi(n) for n in CLASS_ANSI),
            ink=tuple(Color.from_ansi(INK_ANSI) for _ in CLASS_ANSI),
            middle=Color.from_ansi(MIDDLE_ANSI),
            wrong=Color.from_ansi(WRONG_ANSI),
            edge=Color.from_ansi(EDGE_ANSI),
            error=tuple(Color.from_ansi(n) for n in ERROR_ANSI),
            focus=Color.from_ansi(FOCUS_ANSI),
        )
    return Palette(
        ansi=False,
        classes=tuple(Color.from_rgb(*c) for c in CLASS_RGB),
        ink=tuple(Color.from_rgb(*(DARK_INK if _luma(c) > 110 else LIGHT_INK)) for c in CLASS_RGB),
        middle=Color.from_rgb(*MIDDLE_RGB),
        wrong=Color.from_rgb(*WRONG_RGB),
        edge=Color.from_rgb(*EDGE_RGB),
        error=(Color.from_rgb(*ERROR_RGB),),
        focus=Color.from_rgb(*FOCUS_RGB),
        rgb=CLASS_RGB,
    )


def class_colour(index: int, ansi: bool = False) -> Color:
    """Class ``index``'s colour in one mode."""
    return class_colours(ansi).class_colour(index)


def wants_ansi(app: Any) -> bool:
    """Whether ``app`` draws with the 16 ANSI colours: its theme is an ANSI one (Textual's
    ``native_ansi_color``: ``textual-ansi``, ``ansi-dark``, ``ansi-light``), or its terminal
    has only 16 colours (the console's ``color_system`` is ``standard`` or ``windows``; a
    headless app, as in tests, has no terminal and reports ``standard``: only its theme
    counts)."""
    if bool(getattr(app, "native_ansi_color", False)):
        return True
    if getattr(app, "is_headless", False):
        return False
    system = getattr(getattr(app, "console", None), "color_system", None)
    return system in ("standard", "windows")


def palette_for(app: Any) -> Palette:
    """The palette for the running ``app`` (its theme and terminal): see :func:`wants_ansi`."""
    return class_colours(wants_ansi(app))


# ---- activation heat (the neurons view) ----------------------------------------------------
#: Negative activations shade towards class 0's blue, positive ones towards class 1's orange,
#: zero is dark grey (full colour). 16 colours: five steps.
HEAT_ZERO_RGB: RGB = (40, 40, 40)
HEAT_ANSI_STEPS: tuple[tuple[float, int], ...] = (
    (-0.6, 12),  # bright_blue: strongly negative
    (-0.15, 4),  # blue
    (0.15, 8),  # bright_black: about zero
    (0.6, 3),  # yellow
    (math.inf, 11),  # bright_yellow: strongly positive
)


@lru_cache(maxsize=2048)
def _heat_rgb(level: int) -> Color:
    t = abs(level) / 32
    end = CLASS_RGB[0] if level < 0 else CLASS_RGB[1]
    z = HEAT_ZERO_RGB
    return Color.from_rgb(*(round(a + (b - a) * t) for a, b in zip(z, end, strict=True)))


def heat_colour(value: float, ansi: bool = False) -> Color:
    """The colour of an activation ``value`` already scaled to [-1, 1] (clipped; not finite:
    the zero colour)."""
    v = value if math.isfinite(value) else 0.0
    v = min(1.0, max(-1.0, v))
    if ansi:
        for upper, number in HEAT_ANSI_STEPS:
            if v < upper:
                return Color.from_ansi(number)
        return Color.from_ansi(HEAT_ANSI_STEPS[-1][1])
    return _heat_rgb(round(v * 32))
