"""The accuracy panel: epoch k/N with a progress bar, accuracies, loss, timing, end state.

:class:`TrainState` is the panel's model and :func:`format_panel` a pure function of it, so
the text is deterministic (elapsed time is the sum of the epochs' own wall times, not a
clock), which keeps snapshot tests stable.

Replica mode (K seeds trained at once): the app records each replica epoch with
:meth:`TrainState.record_replicas` (per-seed lists in seed order, None when not evaluated)
instead of :meth:`TrainState.record`, then calls :meth:`AccuracyPanel.show` as usual. The
train and test lines then read ``mean ± std`` of the accuracy, the worst seed's accuracy and
seed, and the mean loss (± std when the width allows). The panel stays
five lines high. A metric never evaluated shows as "—"; no number shows as "-0.0".
It posts no messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.widgets import Static

STATUS_STYLE = {
    "idle": "dim",
    "loading": "yellow",
    "ready": "green",
    "running": "bold green",
    "paused": "bold yellow",
    "finished": "bold cyan",
    "stopped": "bold yellow",
    "diverged": "bold red",
    "failed": "bold red",
    "invalid": "bold red",
    "differs": "bold magenta",
}


@dataclass(frozen=True)
class ReplicaMetric:
    """One metric over the seeds: mean and sample std of the finite values, and the worst
    seed (a diverged one, NaN or inf, first; else the lowest accuracy or highest loss) with
    its value. ``mean`` is NaN when no value is finite."""

    mean: float
    std: float
    worst: float
    worst_seed: int
    count: int


def replica_metric(
    values: Sequence[float] | None, seeds: Sequence[int], higher_is_better: bool
) -> ReplicaMetric | None:
    """The :class:`ReplicaMetric` of per-seed ``values`` (None: not evaluated)."""
    if values is None or not values:
        return None
    finite = [float(v) for v in values if math.isfinite(v)]
    sign = -1.0 if higher_is_better else 1.0

    def badness(r: int) -> tuple[bool, float]:
        v = values[r]
        return (True, 0.0) if not math.isfinite(v) else (False, sign * v)

    worst = max(range(len(values)), key=badness)
    seed = seeds[worst] if worst < len(seeds) else worst
    if not finite:
        return ReplicaMetric(math.nan, math.nan, float(values[worst]), seed, 0)
    import statistics  # seeds only: not loaded before the first frame

    std = statistics.stdev(finite) if len(finite) > 1 else 0.0
    return ReplicaMetric(statistics.fmean(finite), std, float(values[worst]), seed, len(finite))


@dataclass(frozen=True)
class ReplicaStats:
    """The seeds' spread of each metric at the last evaluated epoch."""

    seeds: int
    train_acc: ReplicaMetric | None = None
    test_acc: ReplicaMetric | None = None
    train_loss: ReplicaMetric | None = None
    test_loss: ReplicaMetric | None = None


@dataclass
class TrainState:
    """What the panel shows."""

    epoch: int = 0
    target: int = 0
    train_acc: float | None = None
    test_acc: float | None = None
    best_train: float | None = None
    best_test: float | None = None
    train_loss: float | None = None
    test_loss: float | None = None
    elapsed: float = 0.0
    samples_per_s: float | None = None
    status: str = "idle"
    message: str = ""
    recent_seconds: list[float] = field(default_factory=list)
    recent_samples: list[float] = field(default_factory=list)
    #: When set, the last line: one fact fitting the width (the trainer's controller).
    status_line: Callable[[int], str] | None = None
    #: Replica mode: the seeds' spread (None for a single run).
    replicas: ReplicaStats | None = None

    def record(
        self,
        epoch: int,
        train_loss: float | None,
        train_acc: float | None,
        test_loss: float | None,
        test_acc: float | None,
        seconds: float,
        samples_per_s: float | None,
    ) -> None:
        """Take in one epoch's summary. A metric is None when it was not evaluated (a stop
        skips the evaluation): the panel then keeps showing the last evaluated value."""
        self.epoch = epoch
        if train_loss is not None:
            self.train_loss = train_loss
        if test_loss is not None:
            self.test_loss = test_loss
        if train_acc is not None:
            self.train_acc = train_acc
            self.best_train = _best(self.best_train, train_acc)
        if test_acc is not None:
            self.test_acc = test_acc
            self.best_test = _best(self.best_test, test_acc)
        if samples_per_s is None:
            samples_per_s = 0.0
        self.elapsed += seconds
        self.recent_seconds = [*self.recent_seconds[-19:], seconds]
        self.recent_samples = [*self.recent_samples[-19:], samples_per_s * seconds]
        total = sum(self.recent_seconds)
        self.samples_per_s = sum(self.recent_samples) / total if total > 0 else samples_per_s

    def record_replicas(
        self,
        epoch: int,
        seeds: Sequence[int],
        train_loss: Sequence[float] | None,
        train_acc: Sequence[float] | None,
        test_loss: Sequence[float] | None,
        test_acc: Sequence[float] | None,
        seconds: float,
        samples_per_s: float | None,
    ) -> None:
        """Take in one epoch of every replica (per-seed lists, in ``seeds`` order; None when
        not evaluated): the means go where :meth:`record` puts a lone run's numbers, the
        spread into :attr:`replicas` (a metric not evaluated keeps its last spread)."""
        metrics = {
            "train_acc": replica_metric(train_acc, seeds, True),
            "test_acc": replica_metric(test_acc, seeds, True),
            "train_loss": replica_metric(train_loss, seeds, False),
            "test_loss": replica_metric(test_loss, seeds, False),
        }
        old = self.replicas or ReplicaStats(len(seeds))
        kept = {k: v if v is not None else getattr(old, k) for k, v in metrics.items()}
        self.replicas = ReplicaStats(len(seeds), **kept)

        def mean(m: ReplicaMetric | None) -> float | None:
            return None if m is None or m.count == 0 else m.mean

        self.record(
            epoch,
            mean(metrics["train_loss"]),
            mean(metrics["train_acc"]),
            mean(metrics["test_loss"]),
            mean(metrics["test_acc"]),
            seconds,
            samples_per_s,
        )

    def eta(self) -> float | None:
        """Seconds left, once at least 3 epochs (and 1 s) give a stable rate."""
        if self.status != "running" or len(self.recent_seconds) < 3 or self.elapsed < 1.0:
            return None
        per_epoch = sum(self.recent_seconds) / len(self.recent_seconds)
        return per_epoch * max(0, self.target - self.epoch)


def _best(best: float | None, value: float) -> float:
    if not math.isfinite(value):
        return value if best is None else best
    return value if best is None or not math.isfinite(best) else max(best, value)


def clock(seconds: float) -> str:
    """h:mm:ss / m:ss."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, never "-0.0…": a value that rounds to zero is
    shown unsigned (a loss of -1e-9 reads 0.0000, not -0.0000)."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def _pct(v: float | None) -> str:
    return "  —  " if v is None else f"{fixed(v, 1):>5}%"


def _num(v: float | None) -> str:
    if v is None:
        return "—"
    if not abs(v) < 100:  # also NaN / inf
        return f"{v:.3g}"
    return fixed(v, 4)


def bar(fraction: float, width: int) -> str:
    """A text progress bar of ``width`` cells."""
    fraction = min(1.0, max(0.0, fraction))
    full = int(fraction * width)
    return (
        "━" * full
        + ("╸" if full < width and fraction * width - full >= 0.5 else "")
        + ("─" * (width - full - (1 if full < width and fraction * width - full >= 0.5 else 0)))
    )


def format_panel(state: TrainState, width: int = 46) -> Text:
    """Five lines: progress, train and test accuracy/loss, timing, status."""
    width = max(width, 30)
    target = max(state.target, 1)
    frac = state.epoch / target
    head = f"epoch {state.epoch}/{state.target} "
    tail = f" {100 * frac:3.0f}%"
    bar_w = max(5, width - len(head) - len(tail))
    text = Text()
    text.append(head, "bold")
    text.append(bar(frac, bar_w), "green" if state.status != "diverged" else "red")
    text.append(tail + "\n")
    if state.replicas is not None:
        _replica_lines(text, state.replicas, width)
    else:
        _single_lines(text, state)
    timing = [f"time  {clock(state.elapsed)}"]
    eta = state.eta()
    if eta is not None:
        timing.append(f"  ETA {clock(eta)}")
    if state.samples_per_s:
        timing.append(f"  {state.samples_per_s:,.0f} samples/s")
    if state.replicas is not None:
        seeds = f"  {state.replicas.seeds} seeds"
        while len(timing) > 1 and sum(map(len, timing)) + len(seeds) > width:
            timing.pop()  # the seeds count matters more than the rate
        timing.append(seeds)
    text.append("".join(timing) + "\n", "dim")
    if state.status_line is not None:
        text.append(state.status_line(width), STATUS_STYLE.get(state.status, ""))
        return text
    text.append(f"{state.status}", STATUS_STYLE.get(state.status, ""))
    if state.message:
        text.append(f": {state.message}", STATUS_STYLE.get(state.status, ""))
    return text


def _single_lines(text: Text, state: TrainState) -> None:
    for name, acc, best, loss in (
        ("train", state.train_acc, state.best_train, state.train_loss),
        ("test ", state.test_acc, state.best_test, state.test_loss),
    ):
        text.append(f"{name} ")
        text.append(_pct(acc), "bold")
        text.append(f"  best {_pct(best)}", "dim")
        text.append(f"  loss {_num(loss)}\n")


def _spread(m: ReplicaMetric | None, digits: int, unit: str = "") -> tuple[str, str]:
    """(``mean``, ``± std``) of a metric; "—" and "" when there is none."""
    if m is None or m.count == 0:
        return "—", ""
    return f"{fixed(m.mean, digits)}{unit}", f"±{fixed(m.std, digits)}{unit}"


def _worst(m: ReplicaMetric | None) -> str:
    if m is None:
        return "—"
    value = f"{fixed(m.worst, 1)}%" if math.isfinite(m.worst) else "diverged"
    return f"{value} s{m.worst_seed}"


def replica_line(
    name: str, acc: ReplicaMetric | None, loss: ReplicaMetric | None, width: int
) -> list[tuple[str, str]]:
    """One replica line as (text, style) pieces: the widest of three layouts that fits."""
    mean, std = _spread(acc, 1, "%")
    loss_mean, loss_std = _spread(loss, 3)
    if loss is not None and loss.count and not abs(loss.mean) < 100:
        loss_mean, loss_std = f"{loss.mean:.3g}", f"±{loss.std:.2g}"
    head = [(f"{name} ", ""), (f"{mean:>6}", "bold"), (f" {std:<6}" if std else "", "")]
    worst = [(f" worst {_worst(acc)}", "dim")]
    layouts = [
        head + worst + [(f"  loss {loss_mean} {loss_std}".rstrip(), "")],
        head + worst + [(f" loss {loss_mean}", "")],
        head + worst,
        head,
    ]
    for pieces in layouts:
        if sum(len(t) for t, _ in pieces) <= width:
            return pieces
    return layouts[-1]


def _replica_lines(text: Text, stats: ReplicaStats, width: int) -> None:
    for name, acc, loss in (
        ("train", stats.train_acc, stats.train_loss),
        ("test ", stats.test_acc, stats.test_loss),
    ):
        for piece, style in replica_line(name, acc, loss, width):
            text.append(piece, style)
        text.append("\n")


class AccuracyPanel(Static):
    """Renders a :class:`TrainState`; call :meth:`show` after changing it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.state = TrainState()

    def show(self, state: TrainState | None = None) -> None:
        """Redraw from ``state`` (or the current one)."""
        if state is not None:
            self.state = state
        # The panel is redrawn on every epoch: with a fixed height (the app's CSS) its size
        # cannot change, so skip the screen-wide layout pass a Static update would request.
        height = self.styles.height
        fixed = height is not None and not height.is_auto
        self.update(
            format_panel(self.state, max(30, self.content_size.width or 46)), layout=not fixed
        )

    def on_resize(self) -> None:
        self.show()
