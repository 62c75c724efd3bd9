"""Recording runs as they train: the side of the run history that training code uses.

Training must never fail because the history cannot be written. :class:`Recording` wraps a
:class:`~.store.RunStore` (or nothing, when it could not be opened or the user said
``--no-record``): every method catches database errors, reports the first one through ``warn``
in one line, and from then on records nothing, while training goes on.

Another process may hold the database for a while (a long transaction, a backup). That is no
error: a write that finds it busy past the store's busy timeout is kept, in order, and tried
again with the next write (without waiting, so training goes on at full speed) and, at the
latest, when the recording is closed, which waits up to :data:`SETTLE_SECONDS` for it (said
once through ``warn``). So a run that finished is recorded finished, with every epoch, and
never left ``running`` (or reaped ``interrupted``) because the history was busy.

:class:`RunRecorder` records one run::

    recording = Recording.open(warn=print)          # one line if the database is unusable
    with recording.run(spec, source="cli") as rec:   # a row, status "running"
        for summary in Run(spec).fit():
            rec.epoch(summary)                       # EpochSummary.to_json_dict(), as it is
        rec.finish(checkpoint=path)                  # the last epoch's status

:class:`ReplicaRecorder` does the same for seeds trained together (``ReplicaTrainer``, the
trainer's seed bands): one run per seed, grouped as a sweep.

Leaving the ``with`` block by an exception ends the run as ``failed``, or ``interrupted`` for
Ctrl-C and the CLI's SIGTERM (:class:`KeyboardInterrupt` and other exceptions that are not
:class:`Exception`). Every method may be called from a worker thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from miniframe.engine import METRICS, Status, plural

from .store import RunStore, RunStoreError, is_busy, metrics_dict

if TYPE_CHECKING:
    from miniframe.engine import RunSpec

Warn = Callable[[str], None]
T = TypeVar("T")
Write = Callable[[RunStore], object]

#: How long closing a recording (the end of a run) waits, in all, for a history another
#: process holds before it gives up on the writes still waiting (said in one line).
SETTLE_SECONDS = 600.0


def _ignore(_message: str) -> None:
    pass


class Recording:
    """The run history for code that trains: never raises (see the module's docstring)."""

    def __init__(self, store: RunStore | None, warn: Warn = _ignore) -> None:
        self.store = store
        self.warn = warn
        self._lock = threading.RLock()
        self._pending: list[Write] = []  # writes that found the history busy, oldest first
        self._said_busy = False

    @classmethod
    def open(
        cls, enabled: bool = True, warn: Warn = _ignore, path: str | Path | None = None
    ) -> Recording:
        """The history at ``path`` (default: the user's), or an inactive Recording if it is
        disabled or cannot be opened (said once through ``warn``)."""
        if not enabled:
            return cls(None, warn)
        try:
            return cls(RunStore.open(path), warn)
        except RunStoreError as e:
            warn(f"not recording this run: {e}")
            return cls(None, warn)

    @property
    def active(self) -> bool:
        return self.store is not None

    @property
    def waiting(self) -> int:
        """Writes waiting for a busy history."""
        with self._lock:
            return len(self._pending)

    def _do(self, action: Callable[[RunStore], T], default: T) -> T:
        """``action`` now, after the writes waiting before it: a write whose result is needed
        (a new run's id). A busy history is waited for, up to SETTLE_SECONDS in all."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            with self._lock:
                store = self.store
                if store is None:
                    return default
                try:
                    self._flush(store, None)
                    return action(store)
                except (sqlite3.Error, RunStoreError, OSError) as e:
                    if not (is_busy(e) and time.monotonic() < deadline):
                        self._fail(e)
                        return default
                    self._say_busy()

    def _later(self, action: Write) -> None:
        """A write nobody waits for (an epoch, a status, a run's end): done now, or, when the
        history is busy, kept behind the writes already waiting and tried again with the next
        write and by :meth:`settle`. Only the first of them waits the busy timeout."""
        with self._lock:
            store = self.store
            if store is None:
                return
            self._pending.append(action)
            try:
                self._flush(store, 0.0 if len(self._pending) > 1 else None)
            except (sqlite3.Error, RunStoreError, OSError) as e:
                if is_busy(e):
                    self._say_busy()
                else:
                    self._fail(e)

    def _flush(self, store: RunStore, seconds: float | None) -> None:
        """Do the waiting writes in order, each waiting ``seconds`` at most for the history
        (None: the store's busy timeout); a busy error leaves the rest waiting."""
        while self._pending:
            if seconds is None:
                self._pending[0](store)
            else:
                with store.waiting(seconds):
                    self._pending[0](store)
            self._pending.pop(0)

    def settle(self, patience: float | None = None) -> bool:
        """Wait for a busy history, up to ``patience`` seconds in all (default
        SETTLE_SECONDS), until every waiting write is done; False (said once) if it is still
        busy then: those writes are dropped, and recording stops."""
        deadline = time.monotonic() + (SETTLE_SECONDS if patience is None else patience)
        while True:
            with self._lock:
                store = self.store
                if store is None or not self._pending:
                    return store is not None
                try:
                    self._flush(store, None)
                    return True
                except (sqlite3.Error, RunStoreError, OSError) as e:
                    if not is_busy(e) or time.monotonic() >= deadline:
                        self._fail(e)
                        return False
                    self._say_busy()

    def _say_busy(self) -> None:
        if not self._said_busy:
            self._said_busy = True
            self.warn(
                "the run history is busy (another process holds it): the writes wait and are "
                "retried until this run ends"
            )

    def _fail(self, error: BaseException) -> None:
        """Stop recording (said once): the history failed, or stayed busy too long."""
        with self._lock:
            if self.store is not None:
                self.store = None
                dropped = len(self._pending)
                self._pending.clear()
                why = f"still busy after {SETTLE_SECONDS:.0f} s" if is_busy(error) else ""
                lost = f"; {plural(dropped, 'write')} not done" if dropped else ""
                self.warn(f"stopped recording: the run history failed ({why or error}{lost})")

    def close(self) -> None:
        """Finish the waiting writes (see :meth:`settle`), then close the store."""
        self.settle()
        with self._lock:
            store, self.store = self.store, None
        if store is not None:
            with contextlib.suppress(sqlite3.Error):
                store.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the store's writes, made safe ---------------------------------------------------
    def start_run(self, spec: RunSpec | Mapping[str, Any], **kw: Any) -> int | None:
        return self._do(lambda s: s.start_run(spec, **kw), None)

    def start_runs(self, specs: Sequence[RunSpec | Mapping[str, Any]], **kw: Any) -> list[int]:
        return self._do(lambda s: s.start_runs(specs, **kw), [])

    def set_status(self, run_ids: Iterable[int], status: Status) -> None:
        ids = list(run_ids)
        if ids:
            self._later(lambda s: s.set_status(ids, status))

    def record_epoch(self, run_id: int | None, summary: Any) -> None:
        if run_id is not None:
            self._later(lambda s: s.record_epoch(run_id, summary))

    def record_epochs(self, rows: Sequence[tuple[int, Any]]) -> None:
        if rows:
            rows = list(rows)
            self._later(lambda s: s.record_epochs(rows))

    def finish_run(self, run_id: int | None, status: Status | str, **kw: Any) -> None:
        if run_id is not None:
            self._later(lambda s: s.finish_run(run_id, status, **kw))

    def set_checkpoint(self, run_id: int | None, path: str | Path) -> None:
        if run_id is not None:
            self._later(lambda s: s.set_checkpoint(run_id, path))

    def start_sweep(self, *args: Any, **kw: Any) -> int | None:
        return self._do(lambda s: s.start_sweep(*args, **kw), None)

    def finish_sweep(self, sweep_id: int | None, status: Status | str) -> None:
        if sweep_id is not None:
            self._later(lambda s: s.finish_sweep(sweep_id, status))

    def run(self, spec: RunSpec | Mapping[str, Any], source: str = "cli") -> RunRecorder:
        """Start recording one run of ``spec`` (status running); see :class:`RunRecorder`."""
        return RunRecorder(self, spec, source)

    def replicas(
        self, spec: RunSpec, seeds: Sequence[int], source: str = "trainer"
    ) -> ReplicaRecorder:
        """Start recording seeds of ``spec`` trained together (a ReplicaTrainer): one run per
        seed, grouped as a sweep; see :class:`ReplicaRecorder`."""
        return ReplicaRecorder(self, spec, seeds, source)


class _EndsWithBlock:
    """A recorder used as a context manager: leaving the block ends its run(s) unless
    :meth:`finish` already did: finished, failed (an exception), or interrupted (Ctrl-C,
    the CLI's Terminated on SIGTERM, SystemExit)."""

    finished: bool

    def finish(self, status: Status | str | None = None) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.finished:
            return
        if error is None:
            self.finish()
        elif isinstance(error, Exception):
            self.finish(Status.FAILED)
        else:
            self.finish(Status.INTERRUPTED)


class RunRecorder(_EndsWithBlock):
    """One run being recorded: :meth:`epoch` after each epoch, :meth:`finish` at the end.

    Only evaluated epochs are stored (a stopped epoch without metrics is not, so it cannot
    replace the epoch before it); the last status seen is what :meth:`finish` records by
    default. As a context manager it finishes the run on the way out if nobody did: with the
    last status seen, or ``failed`` / ``interrupted`` when an exception ends the block.
    """

    def __init__(
        self, recording: Recording, spec: RunSpec | Mapping[str, Any], source: str = "cli"
    ) -> None:
        self.recording = recording
        self.run_id = recording.start_run(spec, source=source)
        self.status = "running"
        self.finished = False

    def epoch(self, summary: Any) -> None:
        """Record an epoch (an EpochSummary or its ``to_json_dict()``)."""
        metrics = metrics_dict(summary)
        self.status = str(metrics.get("status") or self.status)
        if any(metrics.get(k) is not None for k in ("train_acc", "test_acc", "train_loss")):
            self.recording.record_epoch(self.run_id, metrics)

    def finish(
        self,
        status: Status | str | None = None,
        checkpoint: str | Path | None = None,
        final: Any = None,
    ) -> None:
        """End the run: ``status`` (default: from the last epoch seen), the checkpoint it was
        saved to, and ``final``: the epoch whose weights the run ends with (an EpochSummary or
        its dict), when that is not the last one (``restore_best``)."""
        said = str(self.status if status is None else status)
        status = Status.ended(said)
        metrics = None
        if final is not None:
            m = metrics_dict(final)
            metrics = {"epoch": m.get("epoch")} | {k: m.get(k) for k in METRICS}
        self.recording.finish_run(self.run_id, status, checkpoint=checkpoint, final=metrics)
        self.finished = True

    def checkpoint(self, path: str | Path) -> None:
        """The run's model was saved to ``path`` (after it finished, say)."""
        self.recording.set_checkpoint(self.run_id, path)


class ReplicaRecorder(_EndsWithBlock):
    """Seeds of one spec trained together (``ReplicaTrainer.fit``), recorded as one sweep of one
    run per seed: :meth:`epoch` takes each ``ReplicaEpoch`` and records every seed's
    ``summary(r)`` (a seed that diverged stops where its lone run would); :meth:`finish` ends
    the runs and the sweep. A context manager, like :class:`RunRecorder`.
    """

    def __init__(
        self, recording: Recording, spec: RunSpec, seeds: Sequence[int], source: str = "trainer"
    ) -> None:
        self.recording = recording
        self.seeds = list(seeds)
        self.sweep_id = recording.start_sweep(spec.name, spec, {}, self.seeds, source)
        ids = recording.start_runs(
            [spec.replace(seed=s) for s in self.seeds],
            source=source,
            sweep_id=self.sweep_id,
            seeds=self.seeds,
        )
        self.run_ids: dict[int, int] = dict(zip(self.seeds, ids, strict=True)) if ids else {}
        self.status: dict[int, str] = dict.fromkeys(self.seeds, "running")
        self.finished = False

    def epoch(self, replica_epoch: Any) -> None:
        """Record a ``ReplicaEpoch``: each seed still training gets its own epoch row."""
        rows = []
        for r, seed in enumerate(replica_epoch.seeds):
            if self.status.get(seed, "running") != "running":
                continue  # ended before (diverged): its lone run would have stopped there
            metrics = metrics_dict(replica_epoch.summary(r))
            self.status[seed] = str(metrics.get("status") or "running")
            if metrics.get("train_acc") is not None and seed in self.run_ids:
                rows.append((self.run_ids[seed], metrics))
        self.recording.record_epochs(rows)

    def finish(self, status: Status | str | None = None) -> None:
        """End every seed's run (with its own last status, or ``status`` for those still
        running) and the sweep."""
        for seed, run_id in self.run_ids.items():
            said = self.status[seed] if status is None or self.status[seed] != "running" else status
            self.recording.finish_run(run_id, Status.ended(said))
        overall = status if status is not None else Status.FINISHED
        self.recording.finish_sweep(self.sweep_id, Status.ended(overall))
        self.finished = True
