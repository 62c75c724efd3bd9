"""Reading files off the UI thread, with a time limit.

Opening a FIFO for reading blocks until a writer comes, and a stalled network drive can
block any read: done on the UI thread, either froze the trainer for good (only SIGKILL ended
it). So presets, configs and checkpoints are read by :class:`BackgroundJobs`: each job runs
in its own daemon thread and posts :class:`~miniframe.tui.messages.JobDone`; if it has not
answered within its time limit, the user is told and a late answer is dropped.

Daemon threads rather than Textual's thread workers: a job stuck for good in a system call
must not keep the process alive at exit (Python joins worker-pool threads when it exits).

A read that may legitimately take long (a data file of tens of megabytes) has no time limit:
:class:`ReadWatch` carries its progress to the UI and the user's cancel back to it
(:func:`start_watched`), and the data picker shows the one and offers the other.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .messages import JobDone

#: How long a read may take before the user is told it gave no answer (seconds).
READ_TIMEOUT_S = 10.0


def check_regular_file(path: str | Path) -> None:
    """Raise OSError unless ``path`` is a regular file; never opens it (so a FIFO can't
    block). The message names the path and what it is instead."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    if stat.S_ISREG(mode):
        return
    kind = (
        "a folder" if stat.S_ISDIR(mode)
        else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "not a regular file"
    )  # fmt: skip
    raise OSError(f"{path} is {kind}, not a file that can be read")


@dataclass
class _Job:
    what: str
    done: Callable[[Any], None]
    failed: Callable[[BaseException], None]


class BackgroundJobs:
    """Runs blocking jobs off the UI thread; their results come back as messages.

    ``post`` posts a message to the app (thread-safe); ``set_timer(delay, callback)``
    schedules a callback on the UI thread; ``on_timeout(what, seconds)`` tells the user.
    The app routes :class:`JobDone` to :meth:`finished`.
    """

    def __init__(
        self,
        post: Callable[[JobDone], Any],
        set_timer: Callable[[float, Callable[[], None]], Any],
        on_timeout: Callable[[str, float], None],
    ) -> None:
        self._post = post
        self._set_timer = set_timer
        self._on_timeout = on_timeout
        self._tokens = itertools.count(1)
        self._pending: dict[int, _Job] = {}

    def start(
        self,
        what: str,
        job: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
        timeout: float | None = None,
    ) -> int:
        """Run ``job()`` in a daemon thread; then ``done(result)`` or ``failed(error)`` on
        the UI thread. After ``timeout`` seconds (default ``READ_TIMEOUT_S``) without an
        answer, ``on_timeout`` instead (and neither later)."""
        if timeout is None:
            timeout = READ_TIMEOUT_S
        token = next(self._tokens)
        self._pending[token] = _Job(what, done, failed)
        self._set_timer(timeout, lambda: self._timed_out(token, timeout))
        thread = threading.Thread(
            target=self._run, args=(token, job), name=f"miniframe-job-{token}", daemon=True
        )
        thread.start()
        return token

    @property
    def busy(self) -> bool:
        """Whether any job is still waiting for its answer."""
        return bool(self._pending)

    def _run(self, token: int, job: Callable[[], Any]) -> None:
        try:
            message = JobDone(token, result=job())
        except Exception as error:  # SpecError, OSError, RecursionError, MemoryError, …
            message = JobDone(token, error=error)
        with contextlib.suppress(RuntimeError):  # the app closed meanwhile: nobody to tell
            self._post(message)

    def finished(self, message: JobDone) -> None:
        """A job answered (UI thread): call its callback unless it already timed out."""
        job = self._pending.pop(message.token, None)
        if job is None:
            return
        if message.error is not None:
            job.failed(message.error)
        else:
            job.done(message.result)

    def _timed_out(self, token: int, timeout: float) -> None:
        job = self._pending.pop(token, None)
        if job is not None:
            self._on_timeout(job.what, timeout)


class ReadWatch:
    """A read in a background thread that the UI watches and may cancel.

    The reading thread reports where it is (:meth:`report`, through ``on_progress``, at most
    every ``interval`` seconds but always at the end of a file) and, inside :meth:`watching`,
    the engine's table reads do so by themselves and stop with ``ReadCancelled`` once
    :meth:`cancel` was called (from any thread).
    """

    def __init__(
        self, on_progress: Callable[[Path, int, int], None], interval: float = 0.1
    ) -> None:
        self._on_progress = on_progress
        self._interval = interval
        self._cancelled = threading.Event()
        self._last = 0.0

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def report(self, path: Path, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if done < total and now - self._last < self._interval:
            return
        self._last = now
        self._on_progress(path, done, total)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """The engine's CSV reads in this block report here and obey :meth:`cancel`."""
        from miniframe.engine.table import watch_reading

        with watch_reading(self.report, lambda: self.cancelled):
            yield


def start_watched(
    job: Callable[[ReadWatch], Any],
    on_progress: Callable[[Path, int, int], None],
    finished: Callable[[ReadWatch, Any, BaseException | None], None],
) -> ReadWatch:
    """Run ``job(watch)`` in a daemon thread; ``finished(watch, result, error)`` when it ends
    (from that thread: post a message from it). Returns the watch, to cancel the job with."""
    watch = ReadWatch(on_progress)

    def work() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = job(watch)
        except Exception as e:  # CSVError, ReadCancelled, OSError, MemoryError, …
            error = e
        with contextlib.suppress(RuntimeError):  # the app closed meanwhile: nobody to tell
            finished(watch, result, error)

    threading.Thread(target=work, name="miniframe-read", daemon=True).start()
    return watch
