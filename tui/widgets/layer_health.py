"""The layer-health panel: per Linear layer, its weight norm, gradient norm, update/weight ratio
and dead-ReLU fraction at the last epoch, each with a sparkline of the recent epochs.

What the app must call (UI thread):

- run the engine with ``layer_stats=True`` (``Run(spec, layer_stats=True)``); each
  ``EpochSummary.layer_stats`` is then a tuple of ``engine.layer_stats.LayerStats``;
- ``panel.record(summary.epoch, summary.layer_stats)`` for every epoch that has them (None or
  an empty tuple is ignored: a stopped epoch is not evaluated);
- ``panel.clear()`` after a reset or a new network.

The panel takes any objects with the fields of ``LayerStats`` (``layer``, ``title``,
``weight_norm``, ``grad_norm``, ``update_ratio``, ``dead_fraction``); it imports no torch.
It keeps the last :data:`SPARK_EPOCHS` epochs per layer; a deep network scrolls (the panel is
focusable: arrows / PgUp / PgDn). A layer is flagged in the warning colour when one of its
numbers crosses a limit of :data:`HEALTH_LIMITS` (the one table of thresholds, with the
reason shown to the user). It posts no messages.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..palette import WARNING_STYLE  # a flagged layer's title and the number that crossed

#: How many recent epochs a sparkline shows (at most; fewer on a narrow panel).
SPARK_EPOCHS = 16
SPARKS = "▁▂▃▄▅▆▇█"


class LayerStatsLike(Protocol):
    """The fields the panel reads (``engine.layer_stats.LayerStats`` has them)."""

    @property
    def layer(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def weight_norm(self) -> float: ...
    @property
    def grad_norm(self) -> float: ...
    @property
    def update_ratio(self) -> float: ...
    @property
    def dead_fraction(self) -> float | None: ...


@dataclass(frozen=True)
class Limit:
    """A health threshold: ``field`` crossing ``value`` (``above`` or below) flags the layer."""

    field: str
    above: bool
    value: float
    reason: str

    def crossed(self, value: float | None) -> bool:
        if value is None or math.isnan(value):
            return False
        return value > self.value if self.above else value < self.value


#: The thresholds, in one table. ``update_ratio`` is per epoch: about 1e-3 per step is the usual
#: rule of thumb, so an epoch of s steps moves up to ~s·1e-3; a whole epoch moving the weights
#: by more than their own norm is far beyond, and 1e-7 is a layer that no longer moves.
HEALTH_LIMITS: tuple[Limit, ...] = (
    Limit("dead_fraction", True, 0.5, "over half its ReLU units never fire: they pass no gradient"),
    Limit("update_ratio", True, 1.0, "an epoch moved it more than its own norm: rate too high"),
    Limit("update_ratio", False, 1e-7, "its weights hardly move: it has stopped learning"),
    Limit("weight_norm", True, 1e6, "its weights are huge: the run is diverging"),
    Limit("grad_norm", True, 1e6, "its gradient explodes"),
)  # fmt: skip


def flags(stats: LayerStatsLike) -> list[Limit]:
    """The limits a layer's numbers cross (a NaN or infinite number crosses an upper one)."""
    out = []
    for limit in HEALTH_LIMITS:
        value = getattr(stats, limit.field)
        if value is None:
            continue
        if (limit.above and not math.isfinite(value)) or limit.crossed(value):
            out.append(limit)
    return out


def number(value: float | None) -> str:
    """At most 6 cells: ``4.21``, ``0.0134``, ``2.1e-5``, ``inf``; None as ``—``."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    a = abs(value)
    if 0.01 <= a < 1000:
        text = f"{value:.3g}"
        return text if len(text) <= 6 else f"{value:.4f}"[:6]
    if 1000 <= a < 1e5:
        return f"{value:.0f}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def percent(value: float | None) -> str:
    """A fraction as ``12%``; None (no ReLU after the layer) as ``—``."""
    return "—" if value is None or math.isnan(value) else f"{100 * value:.0f}%"


def sparkline(values: Sequence[float | None], log: bool = False, lo: float | None = None,
              hi: float | None = None) -> str:  # fmt: skip
    """One block per value, scaled between the series' min and max (or ``lo``/``hi``);
    ``log``: on a log10 scale (norms, ratios). A missing value is a space, a NaN or infinite
    one ``!``."""

    def scaled(v: float) -> float:
        return math.log10(v) if log and v > 0 else (-12.0 if log else v)

    finite = [scaled(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return "".join(" " if v is None else "!" for v in values)
    low = min(finite) if lo is None else lo
    high = max(finite) if hi is None else hi
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif not math.isfinite(v):
            out.append("!")
        elif high <= low:
            out.append(SPARKS[0])
        else:
            k = round((scaled(v) - low) / (high - low) * (len(SPARKS) - 1))
            out.append(SPARKS[min(len(SPARKS) - 1, max(0, k))])
    return "".join(out)


#: The columns: header, field, number format, sparkline scale.
COLUMNS: tuple[tuple[str, str, Callable[[float | None], str], dict[str, Any]], ...] = (
    ("‖W‖", "weight_norm", number, {"log": True}),
    ("‖∇W‖", "grad_norm", number, {"log": True}),
    ("upd/‖W‖", "update_ratio", number, {"log": True}),
    ("dead", "dead_fraction", percent, {"lo": 0.0, "hi": 1.0}),
)
NAME_W = 13
NUM_W = 6


def spark_width(width: int) -> int:
    """How many epochs each sparkline shows at ``width`` cells."""
    return max(0, min(SPARK_EPOCHS, (width - NAME_W - len(COLUMNS) * (NUM_W + 2)) // len(COLUMNS)))


def short_title(title: str, layer: int) -> str:
    """``3 Lin 50→100`` from layer 3's ``Linear 50 → 100`` (fits :data:`NAME_W` with its flag)."""
    text = f"{layer} {title.replace('Linear', 'Lin').replace(' → ', '→')}"
    return text if len(text) < NAME_W else text[: NAME_W - 2] + "…"


def format_health(history: Sequence[tuple[int, Sequence[LayerStatsLike]]], width: int = 78) -> Text:
    """The panel's text: a header, one line per Linear layer (its latest numbers, each with a
    sparkline of the recent epochs), then one line per flagged layer saying why. ``history``
    is (epoch, that epoch's stats) in epoch order."""
    text = Text(no_wrap=True, overflow="crop")
    if not history:
        text.append("no layer statistics yet: train to see each layer's health", "dim")
        return text
    epoch, latest = history[-1]
    n = spark_width(width)
    cell = NUM_W + 1 + n
    text.append(f"{f'epoch {epoch}':<{NAME_W}}", "bold")
    for head, *_ in COLUMNS:
        text.append(f" {head:<{cell}}", "bold")
    text.append("\n")
    reasons: list[tuple[str, str]] = []
    recent = history[-n:] if n else []
    for stats in latest:
        crossed = flags(stats)
        crossed_fields = {c.field for c in crossed}
        style = WARNING_STYLE if crossed else ""
        name = short_title(stats.title, stats.layer)
        text.append(("⚠" if crossed else " ") + f"{name:<{NAME_W - 1}}", style)
        for _, field, fmt, scale in COLUMNS:
            series = [_value(s, stats.layer, field) for _, s in recent]
            value = getattr(stats, field)
            text.append(f" {fmt(value):>{NUM_W}}", WARNING_STYLE if field in crossed_fields else "")
            if n:
                spark = sparkline(series, **scale)
                text.append(" " + spark.rjust(n), "cyan" if not crossed else WARNING_STYLE)
        text.append("\n")
        reasons += [(name, c.reason) for c in crossed]
    for name, reason in reasons:
        text.append(f"⚠ {name}: {reason}\n", WARNING_STYLE)
    if any(s.dead_fraction is None for s in latest):
        text.append("dead —: no ReLU after that layer (LeakyReLU units cannot die)", "dim")
    text.rstrip()
    return text


def _value(stats: Sequence[LayerStatsLike], layer: int, field: str) -> float | None:
    for s in stats:
        if s.layer == layer:
            value: float | None = getattr(s, field)
            return value
    return None


class LayerHealth(VerticalScroll, can_focus=True):
    """The per-layer health of the network being trained (see the module docstring)."""

    DEFAULT_CSS = """
    LayerHealth {
        height: 1fr;
    }
    LayerHealth > Static {
        width: auto;
        min-width: 100%;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Scroll up", show=False, id="health.up"),
        Binding("down", "scroll_down", "Scroll down", show=False, id="health.down"),
    ]

    def __init__(self, max_epochs: int = SPARK_EPOCHS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history: deque[tuple[int, tuple[LayerStatsLike, ...]]] = deque(maxlen=max_epochs)
        self._body = Static("", id="health-body")

    def compose(self) -> ComposeResult:
        yield self._body

    def on_mount(self) -> None:
        self.border_title = "Layer health"
        self._show()

    def record(self, epoch: int, stats: Sequence[LayerStatsLike] | None) -> None:
        """Take in one epoch's layer stats (None or empty: ignored) and redraw."""
        if not stats:
            return
        self.history.append((epoch, tuple(stats)))
        self._show()

    def clear(self) -> None:
        """Forget every epoch (after a reset) and redraw."""
        self.history.clear()
        self._show()

    def text(self) -> Text:
        """What the panel shows now (at its current width)."""
        return format_health(list(self.history), self._width())

    def _width(self) -> int:
        return max(40, self.scrollable_content_region.width or 78)

    def _show(self) -> None:
        if self.is_mounted:
            self._body.update(self.text())

    def on_resize(self) -> None:
        self._show()
