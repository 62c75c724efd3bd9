"""Bounded metric history for the live charts.

A 10,000-epoch run must chart as smoothly as a 50-epoch one, so the history keeps at most
``max_points`` points: it records every ``stride``-th epoch, and whenever it fills up it drops
every other point and doubles the stride. The full per-epoch record (for the CSV export) is
kept separately by the app; this is only what gets drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class MetricHistory:
    """Down-sampled (epoch, train/test loss, train/test accuracy) series."""

    max_points: int = 500
    stride: int = 1
    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    version: int = 0
    _pending: tuple[int, tuple[float, ...]] | None = None  # (epoch, metrics) off-stride
    #: Called (on the thread that changed it: the UI's) after every change. A chart listens
    #: instead of polling the version: a timer ticking ten times a second wakes the UI, which
    #: then competes with the training thread for the interpreter.
    listeners: list[Callable[[], None]] = field(default_factory=list, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.epochs)

    def clear(self) -> None:
        """Forget everything (after a reset)."""
        self.stride = 1
        self.epochs.clear()
        for series in self._metrics():
            series.clear()
        self._pending = None
        self._changed()

    def _changed(self) -> None:
        self.version += 1
        for listener in list(self.listeners):
            listener()

    def append(
        self,
        epoch: int,
        train_loss: float | None,
        test_loss: float | None,
        train_acc: float | None,
        test_acc: float | None,
    ) -> None:
        """Record one epoch; kept if it falls on the stride (the latest is always shown).

        A metric that was not evaluated (None: the run stopped mid-epoch) is kept as NaN,
        which the charts leave out; an epoch with no metric at all is not recorded."""
        metrics = (train_loss, test_loss, train_acc, test_acc)
        if all(m is None for m in metrics):
            return
        values = tuple(math.nan if m is None else float(m) for m in metrics)
        if epoch % self.stride != 0 and self.epochs:
            self._pending = (epoch, values)  # shown as the live tip until the next kept point
        else:
            self._pending = None
            self.epochs.append(epoch)
            for series, value in zip(self._metrics(), values, strict=True):
                series.append(value)
            if len(self.epochs) > self.max_points:
                self._halve()
        self._changed()

    def _metrics(self) -> tuple[list[float], list[float], list[float], list[float]]:
        return (self.train_loss, self.test_loss, self.train_acc, self.test_acc)

    def _halve(self) -> None:
        self.stride *= 2
        keep = [i for i, e in enumerate(self.epochs) if e % self.stride == 0]
        if self.epochs and self.epochs[-1] % self.stride != 0:
            keep.append(len(self.epochs) - 1)  # keep the newest point visible
        self.epochs[:] = [self.epochs[i] for i in keep]
        for series in self._metrics():
            series[:] = [series[i] for i in keep]

    def series(self) -> tuple[list[int], list[float], list[float], list[float], list[float]]:
        """The points to draw, including the latest epoch even off-stride."""
        epochs = list(self.epochs)
        tr_loss, te_loss = list(self.train_loss), list(self.test_loss)
        tr_acc, te_acc = list(self.train_acc), list(self.test_acc)
        if self._pending is not None:
            epoch, values = self._pending
            epochs.append(epoch)
            for series, value in zip((tr_loss, te_loss, tr_acc, te_acc), values, strict=True):
                series.append(value)
        return epochs, tr_loss, te_loss, tr_acc, te_acc
