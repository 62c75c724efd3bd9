"""Reading files off the UI thread, with a time limit.

Opening a FIFO for reading blocks until a writer comes, and a stalled network drive can
block any read: done on the UI thread, either froze the trainer for good (only SIGKILL ended
it). So presets, configs and checkpoints are read by :class:`BackgroundJobs`: each job runs
in its own daemon thread and posts :class:`~miniframe.tui.messages.JobDone`; if it has not
answered within its time limit, the user is told and a late answer is dropped.

Daemon threads rather than Textual's thread workers: a job stuck for good in a system call
must not keep the process alive at exit (Python joins worker-pool threads when it exits).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
import threading
from collections.abc import Callable
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
