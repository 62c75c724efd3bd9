"""Typed messages the background threads post to the app.

Threads never touch widgets: they post one of these and the app's handlers update the screen
on the UI thread. Per-epoch and boundary messages may be coalesced when the UI lags
(``can_replace``): an epoch message carries no data itself, the handler drains the feed of
every summary that arrived, so coalescing drops redraws but never epochs.

Plain classes rather than dataclasses: this module is imported before the first frame, and
building a dataclass costs about a millisecond each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


class EngineLoaded(Message):
    """torch and the engine finished importing in the background (``error`` if they failed)."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error


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


class BoundaryReady(Message):
    """A fresh decision-boundary grid."""

    def __init__(self, data: BoundaryData) -> None:
        super().__init__()
        self.data = data

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BoundaryReady)


class TrainingStarted(Message):
    """The worker built (or reused) the run and is about to train."""

    def __init__(self, epoch: int, target: int, fresh: bool) -> None:
        super().__init__()
        self.epoch = epoch
        self.target = target
        self.fresh = fresh


class TrainingEnded(Message):
    """The worker's loop ended: ``status`` finished / stopped / diverged / paused / failed.
    ``generation``: the number the controller gave that training when it began."""

    def __init__(self, status: str, message: str = "", generation: int = 0) -> None:
        super().__init__()
        self.status = status
        self.message = message
        self.generation = generation


class PausedChanged(Message):
    """The worker is now waiting between epochs (paused) or running again."""

    def __init__(self, paused: bool) -> None:
        super().__init__()
        self.paused = paused


class WeightsReset(Message):
    """The run was discarded (the next training builds a new one); ``detail`` says why."""

    def __init__(self, detail: str = "weights reset") -> None:
        super().__init__()
        self.detail = detail


class CheckpointDone(Message):
    """A checkpoint was saved; ``error`` says what went wrong otherwise."""

    def __init__(self, action: str, path: str, error: str | None = None) -> None:
        super().__init__()
        self.action = action
        self.path = path
        self.error = error


class JobDone(Message):
    """A background job (:mod:`.jobs`) returned ``result`` or raised ``error``."""

    def __init__(self, token: int, result: Any = None, error: BaseException | None = None) -> None:
        super().__init__()
        self.token = token
        self.result = result
        self.error = error
