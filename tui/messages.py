"""Typed messages the background threads post to the app.

Threads never touch widgets: they post one of these and the app's handlers update the screen
on the UI thread. Per-epoch and boundary messages may be coalesced when the UI lags
(``can_replace``): an epoch message carries no data itself, the handler drains the feed of
every summary that arrived, so coalescing drops redraws but never epochs.

Messages are dataclasses (Textual's ``Message.__post_init__`` supports that); ``eq=False``
keeps them compared by identity, as Textual expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from miniframe.engine.spec import RunSpec


@dataclass(eq=False)
class EngineLoaded(Message):
    """torch and the engine finished importing in the background (``error`` if they failed)."""

    error: str | None = None


@dataclass(eq=False)
class EpochsReady(Message):
    """New epoch summaries are waiting in the training feed."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EpochsReady)


@dataclass(frozen=True)
class BoundaryData:
    """A probability grid over [0,1]² (row-major, top row y=1) and the test points drawn on
    it as (x, y, true label, predicted label); plain floats, no tensors."""

    grid: int
    probs: list[float]
    points: list[tuple[float, float, int, int]]
    epoch: int


@dataclass(eq=False)
class BoundaryReady(Message):
    """A fresh decision-boundary grid."""

    data: BoundaryData

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BoundaryReady)


@dataclass(eq=False)
class TrainingStarted(Message):
    """The worker built (or reused) the run and is about to train."""

    epoch: int
    target: int
    fresh: bool


@dataclass(eq=False)
class TrainingEnded(Message):
    """The worker's loop ended: ``status`` finished / stopped / diverged / paused / failed."""

    status: str
    message: str = ""


@dataclass(eq=False)
class PausedChanged(Message):
    """The worker is now waiting between epochs (paused) or running again."""

    paused: bool


@dataclass(eq=False)
class WeightsReset(Message):
    """The weights were re-initialised (or the run discarded)."""


@dataclass(eq=False)
class CheckpointDone(Message):
    """A checkpoint was saved or loaded; ``error`` says what went wrong otherwise."""

    action: str
    path: str
    error: str | None = None
    spec: RunSpec | None = None


@dataclass(eq=False)
class JobDone(Message):
    """A background job (:mod:`.jobs`) returned ``result`` or raised ``error``."""

    token: int
    result: Any = None
    error: BaseException | None = None
