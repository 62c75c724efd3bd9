"""How far long work has come, as data: items (runs, benchmark cases) done of a total, and
the share of the estimated work done, for a display's bar and ETA.

The work that hears its own events (a sweep: each epoch as it ends and each finished task; the
benchmark: each timed round) moves a :class:`Tally` on; the Tally hands a :class:`Progress`
snapshot to its callback after each change. What shows it (the CLI's bar on a terminal,
:mod:`miniframe.cli.progress`) is the callback's business: nothing here prints, times or
imports anything heavy.

Why work besides items? Items cost unequal amounts (a deep run ten times a vanilla one, a
batch-1 benchmark case a hundred times a batch-1000 one), and a run is done only at its end:
counting items alone, the first minutes of a sweep would read 0 % and the ETA would swing with
the order they finish in. Each item carries an estimated cost; a started item counts the share
of its epochs (or rounds) done.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Progress", "ProgressCallback", "Tally"]


@dataclass(frozen=True)
class Progress:
    """A snapshot: ``done`` of ``total`` items (each a ``unit``, singular: "run"), ``work`` of
    ``work_total`` in the items' estimated costs, and ``note``: what is under way, if said."""

    done: int
    total: int
    unit: str
    work: float
    work_total: float
    note: str = ""

    @property
    def fraction(self) -> float:
        """The share of the work done, 0 … 1 (1 once every item is done)."""
        if self.done >= self.total:
            return 1.0
        return min(1.0, self.work / self.work_total) if self.work_total > 0 else 0.0


ProgressCallback = Callable[[Progress], None]

K = TypeVar("K", bound=Hashable)


class Tally(Generic[K]):
    """Items by key with their estimated costs; :meth:`step` and :meth:`finish` move them on
    and tell ``tell`` (if any) the new :class:`Progress`. A finished item stays finished:
    events that arrive late or twice (a task's end after its seeds' last epochs) change
    nothing."""

    def __init__(
        self, costs: Mapping[K, float], unit: str, tell: ProgressCallback | None = None
    ) -> None:
        if any(not c >= 0 for c in costs.values()):
            raise ValueError("item costs must be ≥ 0")
        self.costs = dict(costs)
        self.unit = unit
        self.tell = tell
        self._share: dict[K, float] = dict.fromkeys(self.costs, 0.0)
        self._done: set[K] = set()
        self._note = ""

    def snapshot(self) -> Progress:
        costs = self.costs
        work = sum(costs[k] * share for k, share in self._share.items())
        return Progress(
            len(self._done), len(costs), self.unit, work, sum(costs.values()), self._note
        )

    def report(self) -> None:
        """Tell the callback where things stand (the first snapshot, before any event)."""
        if self.tell is not None:
            self.tell(self.snapshot())

    def step(self, key: K, share: float) -> None:
        """Item ``key`` is ``share`` (0 … 1) of the way through; never moves it back, nor past
        its end before :meth:`finish` says so."""
        if key in self._done:
            return
        share = min(max(share, 0.0), 1.0)
        if share > self._share[key]:
            self._share[key] = share
            self.report()

    def finish(self, key: K) -> None:
        """Item ``key`` is done (its whole cost counts; however early it ended)."""
        if key in self._done:
            return
        self._done.add(key)
        self._share[key] = 1.0
        self.report()

    def note(self, text: str) -> None:
        """Say what is under way now (shown beside the count)."""
        if text != self._note:
            self._note = text
            self.report()
