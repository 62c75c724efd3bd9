"""Every trainer run in the run history (:mod:`miniframe.runs`), written off the UI thread.

:class:`TrainerRecorder` owns one writer thread: it opens the run store there (its SQLite
connection belongs to that thread), and the app's threads only put small items on its queue,
so neither the UI nor the training waits for the database. The writer takes every item
waiting at once, so the epochs of a fast run go in one transaction per batch.

A recorded run is one model: the engine ``Run`` (or ``ReplicaTrainer``) object. The first
epoch trained on a model starts its record; training it again after a stop (same weights)
goes on in the same record; each end of training writes the end status (finished, stopped,
diverged, failed); quitting marks a record still running ``interrupted``. K seeds trained
together are recorded as a sweep of K runs (:class:`~miniframe.runs.ReplicaRecorder`).

A store that cannot be opened or written is said once through ``warn`` (any thread: the
app turns it into one notification) and training goes on unrecorded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from miniframe.engine import RunSpec
    from miniframe.runs import Recording

SOURCE = "trainer"
#: The writer waits this long after an item for more to come (one transaction per batch).
BATCH_S = 1.0
#: How long quitting waits for the last writes.
CLOSE_WAIT_S = 2.0


class RecordingWarning(Message):
    """The run history could not be opened or written (``text``: one line)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class _Record:
    """One model's record, as the writer knows it."""

    def __init__(self, model: object, spec: RunSpec, seeds: list[int] | None) -> None:
        self.model = model
        self.spec = spec
        self.seeds = seeds  # None: a single run; else a replica sweep
        self.status = "running"
        self.open = True
        # writer-side
        self.run_id: int | None = None
        self.replicas: Any = None  # ReplicaRecorder


class TrainerRecorder:
    """The trainer's side of the run history; every method may be called from any thread and
    returns at once."""

    def __init__(
        self,
        warn: Callable[[str], None],
        enabled: bool = True,
        path: str | Path | None = None,
    ) -> None:
        self._warn = warn
        self._enabled = enabled
        self._path = path
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[str, _Record, Any] | None] = queue.SimpleQueue()
        self._current: _Record | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        self.recording: Recording | None = None  # the writer thread's
        #: Set once the writer has handled everything put before the last :meth:`flush`.
        self._flushed = threading.Event()

    # ---- what the app calls --------------------------------------------------------------
    def epoch(self, model: object, spec: RunSpec, summary: Any) -> None:
        """An epoch of ``model`` (an engine Run) was trained: its EpochSummary."""
        self._put("epoch", model, spec, None, summary)

    def replica_epoch(self, model: object, spec: RunSpec, seeds: list[int], epoch: Any) -> None:
        """An epoch of K seeds trained together (a ReplicaEpoch of ``model``, a trainer)."""
        self._put("replica_epoch", model, spec, seeds, epoch)

    def ended(self, status: str) -> None:
        """The training of the current model ended: finished, stopped, diverged, failed
        (``paused``, a single step, leaves the record running)."""
        if status == "paused":
            return
        with self._lock:
            record = self._current
            if record is None or self._closed or not record.open:
                return
            record.status = status
            record.open = False
            self._send("finish", record, status)

    def checkpoint(self, model: object, path: str | Path) -> None:
        """``model`` was saved to ``path`` (recorded if it is the current record's)."""
        with self._lock:
            record = self._current
            if record is None or record.model is not model or self._closed:
                return
            self._send("checkpoint", record, str(path))

    def close(self, wait: float = CLOSE_WAIT_S) -> None:
        """Quitting: a record still running ends ``interrupted``; wait up to ``wait`` s for
        the writer to finish."""
        with self._lock:
            if self._closed:
                return
            record = self._current
            if record is not None and record.open:
                record.open = False
                self._send("finish", record, "interrupted")
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(wait)

    def flush(self, wait: float = 10.0) -> bool:
        """Wait until the writer has handled everything put so far (tests)."""
        with self._lock:
            if self._thread is None:
                return True
            self._flushed.clear()
            self._send("flush", None, None)
        return self._flushed.wait(wait)

    @property
    def store_path(self) -> Path | None:
        store = self.recording.store if self.recording is not None else None
        return store.path if store is not None else None

    # ---- internals -----------------------------------------------------------------------
    def _put(
        self, kind: str, model: object, spec: RunSpec, seeds: list[int] | None, item: Any
    ) -> None:
        if not self._enabled:
            return
        with self._lock:
            if self._closed:
                return
            record = self._current
            if record is None or record.model is not model:
                if record is not None and record.open:  # a model dropped while running
                    record.open = False
                    self._send("finish", record, record.status)
                record = self._current = _Record(model, spec, seeds)
                self._send("start", record, None)
            elif not record.open:  # the same model trained again after it ended
                record.open = True
                record.status = "running"
            status = str(getattr(item, "status", "running"))
            record.status = status if status in ("diverged", "finished") else "running"
            self._send(kind, record, item)

    def _send(self, kind: str, record: _Record | None, item: Any) -> None:
        """Queue an item (the lock is held); start the writer on the first one."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._write_loop, name="run-history", daemon=True
            )
            self._thread.start()
        self._queue.put((kind, record, item))  # type: ignore[arg-type]  # only "flush" has no record

    def _write_loop(self) -> None:
        """The writer thread: open the store, then write what comes, a batch at a time."""
        from miniframe.runs import Recording

        self.recording = Recording.open(self._enabled, self._warn, self._path)
        done = False
        while not done:
            items = [self._queue.get()]
            if items[0] is not None and items[0][0] != "flush":
                # let the epochs of a fast run pile up a little: one transaction for them all
                threading.Event().wait(BATCH_S)
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if None in items:
                done = True
            self._write([i for i in items if i is not None])
        self.recording.close()

    def _write(self, items: list[tuple[str, _Record, Any]]) -> None:
        recording = self.recording
        assert recording is not None
        rows: list[tuple[int, Any]] = []

        def flush_rows() -> None:
            if rows:
                recording.record_epochs(list(rows))
                rows.clear()

        for kind, record, item in items:
            if kind == "flush":
                flush_rows()
                self._flushed.set()
                continue
            if kind == "start":
                flush_rows()
                if record.seeds is None:
                    record.run_id = recording.start_run(record.spec, source=SOURCE)
                else:
                    from miniframe.runs import ReplicaRecorder

                    record.replicas = ReplicaRecorder(
                        recording, record.spec, record.seeds, source=SOURCE
                    )
            elif kind == "epoch":
                if record.run_id is not None and getattr(item, "train_acc", None) is not None:
                    rows.append((record.run_id, item))
            elif kind == "replica_epoch":
                flush_rows()
                if record.replicas is not None:
                    record.replicas.epoch(item)
            elif kind == "finish":
                flush_rows()
                self._finish(recording, record, str(item))
            elif kind == "checkpoint":
                flush_rows()
                if record.run_id is not None:
                    recording.set_checkpoint(record.run_id, item)
        flush_rows()

    @staticmethod
    def _finish(recording: Recording, record: _Record, status: str) -> None:
        from miniframe.runs import RunStatus

        name = {"running": "stopped", "paused": "stopped"}.get(status, status)
        try:
            final = RunStatus(name)
        except ValueError:
            final = RunStatus.FAILED
        if record.replicas is not None:
            replicas = record.replicas
            replicas.finish(None if final is RunStatus.FINISHED else final)
        elif record.run_id is not None:
            recording.finish_run(record.run_id, final)
